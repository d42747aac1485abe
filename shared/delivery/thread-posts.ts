import { renderSlackThreadLine, renderTeamsThreadLine, type ThreadLineView } from "../cards/thread-line";
import type { Config } from "../config";
import type { Issue } from "../domain/issue";
import type { IdentityRepository } from "../storage/identities";
import type { SlackTokens } from "../slack/client";
import type { CardCopy } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import type { TeamsConnector } from "../teams/connector";
import type { FailureVerdict } from "./retry-policy";
import { postSlackThreadReply, sendSlackPersonalNotice } from "./slack-sender";
import { replyInTeamsThread, sendTeamsPersonalNotice, type NoticeOutcome } from "./teams-sender";

export interface ThreadPoster {
  config: Config;
  storage: StorageClients;
  teams: TeamsConnector;
  slackTokens?: SlackTokens;
  identities: IdentityRepository;
}

/** Posts a line in a card's thread, rendered for the card's platform, paced and classified like the card itself. */
export async function postThreadLine(
  poster: ThreadPoster,
  copy: CardCopy,
  view: ThreadLineView,
  attempt: number,
): Promise<{ kind: "sent" } | FailureVerdict> {
  if (copy.provider === "msteams") {
    return replyInTeamsThread({ ...poster, connector: poster.teams }, copy, renderTeamsThreadLine(view), attempt);
  }
  if (!poster.slackTokens) return { kind: "dead", reason: "Slack is not configured on this app" };
  return postSlackThreadReply({ ...poster, slackTokens: poster.slackTokens }, copy, renderSlackThreadLine(view), attempt);
}

/** A person's personal chat with the app on one platform: Teams (their 1:1 with the bot) or one Slack workspace (a DM). */
export type PersonalChat =
  | { provider: "msteams"; email: string; targetKey: string }
  | { provider: "slack"; teamId: string; slackUserId: string; targetKey: string };

/** Sends a notice to a person's personal chat, with the issue's live card under it when `withCard`. */
export async function sendPersonalNotice(
  poster: ThreadPoster,
  issue: Issue,
  chat: PersonalChat,
  notice: { text: string; withCard: boolean },
  attempt: number,
): Promise<NoticeOutcome> {
  if (chat.provider === "msteams") {
    return sendTeamsPersonalNotice({ ...poster, connector: poster.teams }, issue, chat.email, chat.targetKey, notice, attempt);
  }
  if (!poster.slackTokens) return { kind: "dead", reason: "Slack is not configured on this app" };
  return sendSlackPersonalNotice({ ...poster, slackTokens: poster.slackTokens }, issue, chat, notice, attempt);
}

/** How a copy is named in a live-card row and a delivery row (deliver.ts writes the same). */
export function messageRefOf(copy: CardCopy): string {
  return copy.provider === "msteams" ? `${copy.conversationId}/${copy.activityId}` : `${copy.channel}/${copy.ts}`;
}
