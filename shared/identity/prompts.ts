import type { Config } from "../config";
import { slackLinkPromptMessage, teamsLinkPromptCard } from "../cards/link-prompts";
import { cardAttachment } from "../cards/teams-notices";
import { sendToPersonalChat, type ChatRef, type PersonalSend } from "../teams/personal-chat";
import { deriveKey } from "./keys";
import { issueLinkToken, LINK_TOKEN_LIFETIME_SECONDS, type LinkRequest } from "../storage/link-tokens";
import { linkPageUrl } from "./linking";
import type { AppContext } from "../context";

export async function linkUrl(config: Config, request: LinkRequest): Promise<string | undefined> {
  if (!config.oidc) return undefined;
  return linkPageUrl(config, await issueLinkToken(deriveKey(config.linkSigningKey, "link-token"), request));
}

/**
 * Sends a Teams user, privately (their 1:1 chat with the bot, created when needed, or `chat` when the
 * request came from that 1:1 chat), a link to link their account. A chat Teams says is gone is marked
 * inactive and the link goes to a new 1:1 chat (`sendToPersonalChat`); the result says which happened.
 */
export async function sendTeamsLinkPrompt(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "log">,
  user: { serviceUrl: string; tenantId: string; aadObjectId: string; teamsUserId: string; name?: string },
  why: string,
  chat?: ChatRef,
): Promise<PersonalSend> {
  try {
    return await sendToPersonalChat(
      deps,
      user,
      async (personal) => {
        const url = await linkUrl(deps.config, {
          provider: "msteams",
          scope: user.tenantId,
          chatUserId: user.aadObjectId,
          teamsUserId: user.teamsUserId,
          ...(user.name ? { chatUserName: user.name } : {}),
          confirm: { kind: "teams", serviceUrl: personal.serviceUrl, conversationId: personal.conversationId },
        });
        const card = teamsLinkPromptCard({ why, url, lifetimeMinutes: LINK_TOKEN_LIFETIME_SECONDS / 60 });
        return { type: "message", summary: "Link your account", attachments: [cardAttachment(card)] };
      },
      chat,
    );
  } catch (error) {
    deps.log(`Teams: link prompt not delivered: ${(error as Error).message}`);
    return { sent: false, problem: "failed", detail: "the link could not be made" };
  }
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
