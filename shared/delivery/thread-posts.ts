import { discordThreadName, renderDiscordThreadLine, renderSlackThreadLine, renderTeamsThreadLine, type ThreadLineView } from "../cards/thread-line";
import { withSlack, type AppContext } from "../context";
import type { Issue } from "../domain/issue";
import type { CardCopy } from "../storage/cards";
import type { FailureVerdict } from "./retry-policy";
import { postSlackThreadReply, sendSlackPersonalNotice } from "./slack-sender";
import { replyInTeamsThread, sendTeamsPersonalNotice, type NoticeOutcome } from "./teams-sender";

/** A thread line's outcome; Discord's names the card's thread once it is known (started, or found), to be remembered. */
export type ThreadLineOutcome = ({ kind: "sent" } | FailureVerdict) & { threadId?: string };

/**
 * Posts a line in a card's thread, rendered for the card's platform, paced and classified like the card itself.
 * `line.key` names this line (the same on every attempt of it); `line.threadId`: the Discord thread remembered.
 */
export async function postThreadLine(
  poster: AppContext,
  copy: CardCopy,
  view: ThreadLineView,
  attempt: number,
  line: { issue: Issue; key: string; threadId?: string },
): Promise<ThreadLineOutcome> {
  if (copy.provider === "msteams") {
    return replyInTeamsThread(poster, copy, renderTeamsThreadLine(view), attempt);
  }
  if (copy.provider === "discord") {
    const { postDiscordThreadLine } = await import("./discord-sender");
    const thread = { name: discordThreadName(line.issue), lineKey: line.key, ...(line.threadId ? { id: line.threadId } : {}) };
    return postDiscordThreadLine(poster, copy, renderDiscordThreadLine(view), thread, attempt);
  }
  const slack = withSlack(poster);
  if (!slack) return { kind: "dead", reason: "Slack is not configured on this app" };
  return postSlackThreadReply(slack, copy, renderSlackThreadLine(view), attempt);
}

/**
 * A person's personal chat with the app on one platform: Teams (their 1:1 with the bot), one Slack workspace (a DM),
 * or Discord (their DM with the bot; `guildId`: the server the card in it is for).
 */
export type PersonalChat =
  | { provider: "msteams"; email: string; targetKey: string }
  | { provider: "slack"; teamId: string; slackUserId: string; targetKey: string }
  | { provider: "discord"; guildId: string; discordUserId: string; targetKey: string };

/**
 * Sends a notice to a person's personal chat, with the issue's live card under it when `withCard`. `notice.key`
 * names this notice, the same on every attempt of it (Discord's nonce: a retry after a lost answer posts it once).
 */
export async function sendPersonalNotice(
  poster: AppContext,
  issue: Issue,
  chat: PersonalChat,
  notice: { text: string; withCard: boolean; key: string },
  attempt: number,
): Promise<NoticeOutcome> {
  if (chat.provider === "msteams") {
    return sendTeamsPersonalNotice(poster, issue, chat.email, chat.targetKey, notice, attempt);
  }
  if (chat.provider === "discord") {
    const { sendDiscordPersonalNotice } = await import("./discord-sender");
    return sendDiscordPersonalNotice(poster, issue, chat, notice, attempt);
  }
  const slack = withSlack(poster);
  if (!slack) return { kind: "dead", reason: "Slack is not configured on this app" };
  return sendSlackPersonalNotice(slack, issue, chat, notice, attempt);
}

/** How a copy is named in a live-card row and a delivery row (deliver.ts writes the same). */
export function messageRefOf(copy: CardCopy): string {
  if (copy.provider === "discord") return `${copy.channelId}/${copy.messageId}`;
  return copy.provider === "msteams" ? `${copy.conversationId}/${copy.activityId}` : `${copy.channel}/${copy.ts}`;
}
