import { renderDiscordMessage } from "../cards/discord-message";
import { buildIssueView } from "../cards/view";
import type { Config } from "../config";
import { discordRest, type DiscordResult } from "../discord/rest";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import type { IdentityRepository } from "../storage/identities";
import type { CardCopy } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import { DiscordGuilds, type ChannelAccess } from "../storage/discord-guilds";
import { mayHaveLanded, retryDelay, type FailureVerdict } from "./retry-policy";

export interface DiscordSender {
  config: Config;
  identities: IdentityRepository;
  /** Where Discord's "gone" for a channel or guild is remembered. */
  storage: StorageClients;
  now: () => Date;
}

export type DiscordSendOutcome = { kind: "sent"; copy: CardCopy } | FailureVerdict;
type DiscordCopy = Extract<CardCopy, { provider: "discord" }>;

/**
 * Discord's answers that mean the target is gone for good: the bot can't see it, or it doesn't exist
 * (JSON error codes, as discord-api-types' RESTJSONErrorCodes names them; its enum would bundle all of it).
 */
const DEAD_CODES = new Set<number>([
  10003, // UnknownChannel
  10004, // UnknownGuild
  10008, // UnknownMessage
  10013, // UnknownUser
  50001, // MissingAccess
  50013, // MissingPermissions
  50007, // CannotSendMessagesToThisUser
]);

/**
 * The dead codes that say the bot can't reach the channel at all (not just the one message or user): remembered, so
 * later cards there make no request until it is checked again. Each refusal counts towards Discord's limit of
 * 10,000 invalid requests (401, 403, 429) in 10 minutes, past which the app's IP is banned for every server.
 */
const CHANNEL_GONE_CODES = new Set<number>([10003, 50001, 50013]);
const GUILD_GONE_CODES = new Set<number>([10004]);

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
  let access: ChannelAccess | undefined;
  let memory: ReturnType<typeof accessMemory> | undefined;
  if ("channelId" in target) {
    channelId = target.channelId;
    memory = accessMemory(sender);
    access = await memory.check(channelId, guildOfChannel.get(channelId));
    if (access.kind === "gone") return { kind: "dead", reason: access.reason };
    if (access.guildId) guildOfChannel.set(channelId, access.guildId);
    if (!guildOfChannel.has(channelId)) {
      const channel = await rest.request<{ guild_id?: string }>("GET", `/channels/${channelId}`);
      if (channel.kind !== "ok") return memory.refused(channel, { channelId }, verdict(channel, attempt, "look up the channel"));
      guildOfChannel.set(channelId, channel.body.guild_id);
      if (channel.body.guild_id) await memory.guildLearnt(channelId, channel.body.guild_id);
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
  if (posted.kind !== "ok") {
    const failed = verdict(posted, attempt, "post the card", { posting: true });
    return memory ? memory.refused(posted, { channelId, guildId }, failed) : failed;
  }
  if (memory && access) await memory.reached(access, { channelId, guildId });
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
  // A copy in a DM carries the guild it was sent for: the channel's own row says whether it is in a guild.
  const memory = accessMemory(sender);
  const access = await memory.check(copy.channelId, undefined);
  if (access.kind === "gone") return { kind: "dead", reason: access.reason };
  const where = { channelId: copy.channelId, guildId: access.guildId };
  const message = await renderDiscordCopy(sender, issue, copy.guildId);
  const edited = await discordRest(settings).request("PATCH", `/channels/${copy.channelId}/messages/${copy.messageId}`, message);
  if (edited.kind !== "ok") return memory.refused(edited, where, verdict(edited, attempt, "edit the card"));
  await memory.reached(access, where);
  return { kind: "updated" };
}

/**
 * What this sender remembers of Discord's "gone" answers: whether to ask Discord about a channel at all, a refusal
 * that says the channel or guild is gone, and a channel reached again.
 */
function accessMemory(sender: DiscordSender) {
  const guilds = new DiscordGuilds(sender.storage);
  return {
    check: (channelId: string, knownGuildId: string | undefined): Promise<ChannelAccess> =>
      guilds.channelAccess(channelId, knownGuildId, sender.now()),
    guildLearnt: (channelId: string, guildId: string) => guilds.rememberGuildOfChannel(channelId, guildId),
    reached: async (access: ChannelAccess, where: { channelId: string; guildId?: string }) => {
      if (access.kind === "recheck") await guilds.restored(where, access.mark);
    },
    /** The verdict on a failed call, after remembering a "gone" answer; a gone guild is remembered as such when it is known. */
    refused: async (
      result: Exclude<DiscordResult<unknown>, { kind: "ok" }>,
      where: { channelId: string; guildId?: string },
      failed: FailureVerdict,
    ): Promise<FailureVerdict> => {
      if (failed.kind === "dead" && result.kind === "error" && result.code !== undefined) {
        const scope = GUILD_GONE_CODES.has(result.code) ? "guild" : CHANNEL_GONE_CODES.has(result.code) ? "channel" : undefined;
        if (scope) await guilds.markGone(where, { code: result.code, reason: failed.reason }, scope, sender.now());
      }
      return failed;
    },
  };
}

/** The card for a copy in this guild (none: a DM), with a line for the one person it's shown to. */
export async function renderDiscordCopy(sender: Pick<DiscordSender, "identities">, issue: Issue, guildId: string | undefined, notice?: string) {
  const people = guildId ? await sender.identities.people("discord", guildId) : [];
  return renderDiscordMessage(buildIssueView(issue, { assignChoices: people, ...(notice ? { notice } : {}) }));
}

/**
 * What a failed call means for the target: throttled (429, or held back by a known bucket) → waits and goes again
 * from the queue; Missing Access / Unknown Channel / Unknown Guild / Unknown Message → dead; anything else → retry, within the attempts.
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
