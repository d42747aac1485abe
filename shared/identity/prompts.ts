import type { Config } from "../config";
import { slackLinkPromptMessage, teamsLinkPromptCard } from "../cards/link-prompts";
import { cardAttachment } from "../cards/teams-notices";
import type { OutgoingActivity } from "../teams/connector";
import { queueHeldBack } from "../teams/held-back";
import { sendToPersonalChat, type ChatRef, type PersonalSend } from "../teams/personal-chat";
import { deriveKey } from "./keys";
import { issueLinkToken, LINK_TOKEN_LIFETIME_SECONDS, type LinkRequest } from "../storage/link-tokens";
import { linkPageUrl } from "./linking";
import type { AppContext } from "../context";

export async function linkUrl(config: Config, request: LinkRequest): Promise<string | undefined> {
  if (!config.oidc) return undefined;
  return linkPageUrl(config, await issueLinkToken(deriveKey(config.linkSigningKey, "link-token"), request));
}

/** Who a Teams link prompt is for: what the link is made for. */
export interface TeamsLinkPromptUser {
  serviceUrl: string;
  tenantId: string;
  aadObjectId: string;
  teamsUserId: string;
  name?: string;
}

/**
 * Sends a Teams user, privately (their 1:1 chat with the bot, created when needed, or `chat` when the
 * request came from that 1:1 chat), a link to link their account. A chat Teams says is gone is marked
 * inactive and the link goes to a new 1:1 chat (`sendToPersonalChat`); the result says which happened. Held back by
 * the app's pacing, the prompt is queued (`queued`) and sent once a slot is free, with a link made then.
 */
export async function sendTeamsLinkPrompt(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "log">,
  user: TeamsLinkPromptUser,
  why: string,
  chat?: ChatRef,
): Promise<PersonalSend> {
  let result: PersonalSend;
  try {
    result = await sendToPersonalChat(deps, user, (personal) => teamsLinkPromptActivity(deps.config, user, why, personal), chat);
  } catch (error) {
    deps.log(`Teams: link prompt not delivered: ${(error as Error).message}`);
    return { sent: false, problem: "failed", detail: "the link could not be made" };
  }
  if (result.sent || result.problem !== "held-back") return result;
  const to = {
    kind: "person" as const,
    aadObjectId: user.aadObjectId,
    teamsUserId: user.teamsUserId,
    ...(user.name ? { name: user.name } : {}),
    ...(chat ? { chat } : {}),
  };
  const queued = await queueHeldBack(
    deps,
    { tenantId: user.tenantId, serviceUrl: user.serviceUrl, to, message: { kind: "link-prompt", why } },
    result.retryInSeconds,
  );
  return queued ? { ...result, queued: true } : result;
}

/** The link prompt card for `chat`, the 1:1 chat it goes to (where the link's confirmation goes too), with a link made now. */
export async function teamsLinkPromptActivity(
  config: Config,
  user: Omit<TeamsLinkPromptUser, "serviceUrl">,
  why: string,
  chat: ChatRef,
): Promise<OutgoingActivity> {
  const url = await linkUrl(config, {
    provider: "msteams",
    scope: user.tenantId,
    chatUserId: user.aadObjectId,
    teamsUserId: user.teamsUserId,
    ...(user.name ? { chatUserName: user.name } : {}),
    confirm: { kind: "teams", serviceUrl: chat.serviceUrl, conversationId: chat.conversationId },
  });
  const card = teamsLinkPromptCard({ why, url, lifetimeMinutes: LINK_TOKEN_LIFETIME_SECONDS / 60 });
  return { type: "message", summary: "Link your account", attachments: [cardAttachment(card)] };
}

/** What to tell someone whose private message (a link, a notice) went, or didn't, to their 1:1 chat. */
export function personalSendNote(result: PersonalSend, what: string): string {
  if (result.sent) {
    return result.replaced
      ? `Our 1:1 chat was gone from Teams, so I started a new one and sent you ${what} there.`
      : `I've sent you ${what} in your chat with Triage Relay.`;
  }
  switch (result.problem) {
    case "gone":
      return `I couldn't send you ${what}: our 1:1 chat is gone from Teams and a new one couldn't be started (${result.detail}). Open Triage Relay in Teams (Apps, then Triage Relay) and type **link** there.`;
    case "blocked":
      return `I couldn't send you ${what}: Teams won't let me post in our 1:1 chat (${result.detail}; the app was removed or blocked there). Add Triage Relay again (Apps, then Triage Relay) and type **link** there.`;
    case "failed":
      return `I couldn't send you ${what} just now: Teams didn't accept the message (${result.detail}). Try again in a minute.`;
    case "held-back":
      return result.queued
        ? `Teams is busy just now: I'll send you ${what} in your chat with Triage Relay as soon as it lets me.`
        : `I couldn't send you ${what} just now: Teams is busy. Try again in a minute.`;
  }
}

/** An ephemeral Slack message with a link button, for the person who clicked or typed. */
export async function slackLinkPrompt(config: Config, user: { teamId: string; userId: string; name?: string; responseUrl?: string }, why: string) {
  const url = await linkUrl(config, {
    provider: "slack",
    scope: user.teamId,
    chatUserId: user.userId,
    ...(user.name ? { chatUserName: user.name } : {}),
    confirm: { kind: "slack", userId: user.userId, ...(user.responseUrl ? { responseUrl: user.responseUrl } : {}) },
  });
  return slackLinkPromptMessage({ why, url, lifetimeMinutes: LINK_TOKEN_LIFETIME_SECONDS / 60 });
}
