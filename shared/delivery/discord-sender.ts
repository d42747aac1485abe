import { renderDiscordMessage } from "../cards/discord-message";
import { buildIssueView } from "../cards/view";
import type { Config } from "../config";
import { discordRest, type DiscordResult } from "../discord/rest";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import type { IdentityRepository } from "../storage/identities";
import type { CardCopy } from "../storage/cards";
import { mayHaveLanded, retryDelay, type FailureVerdict } from "./retry-policy";

export interface DiscordSender {
  config: Config;
  identities: IdentityRepository;
}

export type DiscordSendOutcome = { kind: "sent"; copy: CardCopy } | FailureVerdict;
type DiscordCopy = Extract<CardCopy, { provider: "discord" }>;

/**
 * Discord's answers that mean the target is gone for good: the bot can't see it, or it doesn't exist
 * (JSON error codes, as discord-api-types' RESTJSONErrorCodes names them; its enum would bundle all of it).
 */
const DEAD_CODES = new Set<number>([
  10003, // UnknownChannel
  10008, // UnknownMessage
  10013, // UnknownUser
  50001, // MissingAccess
  50013, // MissingPermissions
  50007, // CannotSendMessagesToThisUser
]);

/** A channel's guild, remembered in this instance: the Assign menu offers the people linked in that guild. */
const guildOfChannel = new Map<string, string | undefined>();

/** Posts the issue's card to one Discord target (a channel, or a linked person's DM) and says where the copy lives. */
export async function sendDiscordCard(
  sender: DiscordSender,
  issue: Issue,
  target: Extract<AlertTarget, { provider: "discord" }>,
  targetKey: string,
  attempt: number,
): Promise<DiscordSendOutcome> {
  const settings = sender.config.discord;
  if (!settings) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const rest = discordRest(settings);
  let channelId: string;
  let guildId: string | undefined;
  if ("channelId" in target) {
    channelId = target.channelId;
    if (!guildOfChannel.has(channelId)) {
      const channel = await rest.request<{ guild_id?: string }>("GET", `/channels/${channelId}`);
      if (channel.kind !== "ok") return verdict(channel, attempt, "look up the channel");
      guildOfChannel.set(channelId, channel.body.guild_id);
    }
    guildId = guildOfChannel.get(channelId);
  } else {
    const linked = (await sender.identities.findByEmail(target.userEmail, "discord")).find((identity) => identity.scope === target.guildId);
    if (!linked) return { kind: "dead", reason: "no Discord user in that guild is linked to that email" };
    const dm = await rest.request<{ id: string }>("POST", "/users/@me/channels", { recipient_id: linked.chatUserId });
    if (dm.kind !== "ok") return verdict(dm, attempt, "open the DM");
    channelId = dm.body.id;
    // The DM's card offers the guild's people, and a click on it is identified in that guild.
    guildId = target.guildId;
  }
  const posted = await rest.request<{ id: string }>("POST", `/channels/${channelId}/messages`, await renderDiscordCopy(sender, issue, guildId));
  if (posted.kind !== "ok") return verdict(posted, attempt, "post the card", { posting: true });
  return {
    kind: "sent",
    copy: {
      provider: "discord",
      issueId: issue.id,
      ...(guildId ? { guildId } : {}),
      channelId,
      messageId: posted.body.id,
      targetKey,
      renderedVersion: issue.version,
      postedAt: new Date().toISOString(),
    },
  };
}

/** Edits a Discord copy of the card to show the issue as stored. */
export async function updateDiscordCard(
  sender: DiscordSender,
  issue: Issue,
  copy: DiscordCopy,
  attempt: number,
): Promise<{ kind: "updated" } | FailureVerdict> {
  const settings = sender.config.discord;
  if (!settings) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const message = await renderDiscordCopy(sender, issue, copy.guildId);
  const edited = await discordRest(settings).request("PATCH", `/channels/${copy.channelId}/messages/${copy.messageId}`, message);
  return edited.kind === "ok" ? { kind: "updated" } : verdict(edited, attempt, "edit the card");
}

/** The card for a copy in this guild (none: a DM), with a line for the one person it's shown to. */
export async function renderDiscordCopy(sender: Pick<DiscordSender, "identities">, issue: Issue, guildId: string | undefined, notice?: string) {
  const people = guildId ? await sender.identities.people("discord", guildId) : [];
  return renderDiscordMessage(buildIssueView(issue, { assignChoices: people, ...(notice ? { notice } : {}) }));
}

/**
 * What a failed call means for the target: throttled (429, or held back by a known bucket) → waits and goes again
 * from the queue; Missing Access / Unknown Channel / Unknown Message → dead; anything else → retry, within the attempts.
 * Only the post itself (`posting`) left without an answer is ambiguous: a lookup, a DM opened or an edit posts no card,
 * and a connection that was never made can't have posted one.
 */
export function verdict(
  result: Exclude<DiscordResult<unknown>, { kind: "ok" }>,
  attempt: number,
  doing: string,
  { posting = false }: { posting?: boolean } = {},
): FailureVerdict {
  switch (result.kind) {
    case "throttled":
      return {
        kind: "retry",
        delaySeconds: Math.max(1, retryDelay(attempt, result.retryAfterSeconds)),
        reason: `${result.global ? "global" : "route"} rate limit: ${result.sent ? "429" : "held back"} for ${result.retryAfterSeconds}s`,
        throttled: true,
      };
    case "unanswered": {
      const reached = mayHaveLanded(result.error);
      return {
        kind: "retry",
        delaySeconds: retryDelay(attempt, undefined),
        reason: reached ? `no answer from Discord to ${doing}` : `could not reach Discord to ${doing}`,
        ...(posting && reached ? { ambiguous: true } : {}),
      };
    }
    case "error":
      if (result.code !== undefined && DEAD_CODES.has(result.code)) return { kind: "dead", reason: `Discord: ${result.message} (${result.code})` };
      if (result.status === 401)
        return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: "Discord refused the bot token (401)" };
      // Anything else is retried within the attempts: only Discord's own "gone" codes make a copy dead.
      return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: `Discord ${result.status} to ${doing}: ${result.message}` };
  }
}
