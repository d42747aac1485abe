import { createHash } from "node:crypto";
import { DISCORD_LIMITS, renderDiscordMessage } from "../cards/discord-message";
import { escapeDiscordMarkdown, escapedWithin } from "../cards/text";
import type { DiscordThreadLine } from "../cards/thread-line";
import { buildIssueView } from "../cards/view";
import type { Config } from "../config";
import { discordRest, type DiscordResult } from "../discord/rest";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import type { IdentityRepository } from "../storage/identities";
import type { CardCopy } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import { DiscordGuilds, type ChannelAccess, type RecheckClaim } from "../storage/discord-guilds";
import { statusOf } from "../storage/table";
import { mayHaveLanded, retryDelay, type FailureVerdict } from "./retry-policy";

export interface DiscordSender {
  config: Config;
  identities: IdentityRepository;
  /** Where Discord's "gone" for a channel or guild is remembered. */
  storage: StorageClients;
  now: () => Date;
  /** Where a failure that changes no outcome is told (remembering a channel reached again, after the card went). */
  log?: (line: string) => void;
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
  let memory: AccessMemory | undefined;
  if ("channelId" in target) {
    memory = accessMemory(sender, target.channelId);
    const access = await memory.check(guildOfChannel.get(target.channelId));
    if (access.kind === "gone") return { kind: "dead", reason: access.reason };
    if (access.guildId) guildOfChannel.set(target.channelId, access.guildId);
  }
  const posted = await (memory
    ? memory.givenBackOnThrow(() => postCard(sender, discordRest(settings), issue, target, attempt, memory))
    : postCard(sender, discordRest(settings), issue, target, attempt, undefined));
  if (posted.kind !== "posted") return posted;
  // The card is posted: nothing after this may turn it into a retry (a second card).
  await memory?.reached(posted.guildId);
  return {
    kind: "sent",
    copy: {
      provider: "discord",
      issueId: issue.id,
      ...(posted.guildId ? { guildId: posted.guildId } : {}),
      channelId: posted.channelId,
      messageId: posted.messageId,
      targetKey,
      renderedVersion: issue.version,
      postedAt: new Date().toISOString(),
    },
  };
}

/** The post itself, after the channel's access was checked (`memory`) or to a linked person's DM. */
async function postCard(
  sender: DiscordSender,
  rest: ReturnType<typeof discordRest>,
  issue: Issue,
  target: Extract<AlertTarget, { provider: "discord" }>,
  attempt: number,
  memory: AccessMemory | undefined,
): Promise<{ kind: "posted"; channelId: string; guildId?: string; messageId: string } | FailureVerdict> {
  let channelId: string;
  let guildId: string | undefined;
  if ("channelId" in target) {
    channelId = target.channelId;
    if (!guildOfChannel.has(channelId)) {
      const channel = await rest.request<{ guild_id?: string }>("GET", `/channels/${channelId}`);
      if (channel.kind !== "ok") return refusedOrVerdict(memory, channel, undefined, verdict(channel, attempt, "look up the channel"));
      guildOfChannel.set(channelId, channel.body.guild_id);
      if (channel.body.guild_id) await memory?.guildLearnt(channel.body.guild_id);
    }
    guildId = guildOfChannel.get(channelId);
  } else {
    const linked = (await sender.identities.findByEmail(target.userEmail, "discord")).find((identity) => identity.scope === target.guildId);
    if (!linked) return { kind: "dead", reason: "no Discord user in that guild is linked to that email" };
    const dm = await openDirectMessage(rest, linked.chatUserId, attempt);
    if (typeof dm !== "string") return dm;
    channelId = dm;
    // The DM's card offers the guild's people, and a click on it is identified in that guild.
    guildId = target.guildId;
  }
  const posted = await rest.request<{ id: string }>("POST", `/channels/${channelId}/messages`, await renderDiscordCopy(sender, issue, guildId));
  if (posted.kind !== "ok") return refusedOrVerdict(memory, posted, guildId, verdict(posted, attempt, "post the card", { posting: true }));
  return { kind: "posted", channelId, ...(guildId ? { guildId } : {}), messageId: posted.body.id };
}

/** The bot's DM channel with the user (Discord keeps one per user and bot: opening it again answers the same one). */
async function openDirectMessage(rest: ReturnType<typeof discordRest>, userId: string, attempt: number): Promise<string | FailureVerdict> {
  const dm = await rest.request<{ id: string }>("POST", "/users/@me/channels", { recipient_id: userId });
  return dm.kind === "ok" ? dm.body.id : verdict(dm, attempt, "open the DM");
}

/**
 * Sends a person a DM from the bot: `notice.text`, and with `withCard` the issue's live card under it, drawn for
 * `where.guildId` (then a copy that refreshes like the others, the notice kept at its top). The post carries a
 * nonce from `notice.key` with `enforce_nonce`, so one sent again after a lost answer is there once. A person
 * whose DMs are closed to the bot (50007) is a dead target for this notice.
 */
export async function sendDiscordPersonalNotice(
  sender: DiscordSender,
  issue: Issue,
  where: { guildId: string; discordUserId: string; targetKey: string },
  notice: { text: string; withCard: boolean; key: string },
  attempt: number,
): Promise<{ kind: "sent"; copy?: CardCopy } | FailureVerdict> {
  if (!sender.config.discord) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const message = notice.withCard
    ? await renderDiscordCopy(sender, issue, where.guildId, notice.text)
    : { content: escapedWithin(notice.text, DISCORD_LIMITS.content, escapeDiscordMarkdown), allowed_mentions: { parse: [] } };
  // Not `posting`: a post that may have landed is sent again with its nonce, which Discord answers with the first.
  const posted = await postDiscordDirectMessage(sender, where.discordUserId, message, attempt, { key: notice.key, doing: "post the notice" });
  if (posted.kind !== "posted") return posted;
  if (!notice.withCard) return { kind: "sent" };
  return {
    kind: "sent",
    copy: {
      provider: "discord",
      issueId: issue.id,
      guildId: where.guildId,
      channelId: posted.channelId,
      messageId: posted.messageId,
      targetKey: where.targetKey,
      renderedVersion: issue.version,
      postedAt: new Date().toISOString(),
    },
  };
}

/** A message's post in a channel: posted (where), held back by the caller's `mayPost`, or why not. */
export type DiscordPostOutcome = { kind: "posted"; channelId: string; messageId: string } | { kind: "held back" } | FailureVerdict;

type DirectPost = { key: string; doing: string; posting?: boolean; mayPost?: () => Promise<boolean> };

/**
 * Posts a message in the bot's DM with the user (opened, or found open: Discord keeps one per user and bot). The post
 * carries a nonce from `post.key` with `enforce_nonce`, so one sent again within Discord's few minutes answers the
 * first. `post.posting`: a post left without an answer is ambiguous (the caller's "exactly once" rule counts it);
 * `post.mayPost`, asked just before the post, can hold it back. Closed DMs (50007) are dead, like every Discord "gone".
 */
export async function postDiscordDirectMessage(
  sender: Pick<DiscordSender, "config">,
  discordUserId: string,
  message: object,
  attempt: number,
  post: DirectPost & { mayPost?: undefined },
): Promise<Exclude<DiscordPostOutcome, { kind: "held back" }>>;
export async function postDiscordDirectMessage(
  sender: Pick<DiscordSender, "config">,
  discordUserId: string,
  message: object,
  attempt: number,
  post: DirectPost,
): Promise<DiscordPostOutcome>;
export async function postDiscordDirectMessage(
  sender: Pick<DiscordSender, "config">,
  discordUserId: string,
  message: object,
  attempt: number,
  post: DirectPost,
): Promise<DiscordPostOutcome> {
  const settings = sender.config.discord;
  if (!settings) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const rest = discordRest(settings);
  const channelId = await openDirectMessage(rest, discordUserId, attempt);
  if (typeof channelId !== "string") return channelId;
  if (post.mayPost && !(await post.mayPost())) return { kind: "held back" };
  const posted = await rest.request<{ id: string }>("POST", `/channels/${channelId}/messages`, {
    ...message,
    nonce: nonceOf(post.key),
    enforce_nonce: true,
  });
  if (posted.kind !== "ok") return verdict(posted, attempt, post.doing, { posting: post.posting ?? false });
  return { kind: "posted", channelId, messageId: posted.body.id };
}

/**
 * Posts a message that isn't a card (a release notice) in a channel, as a card is posted there: a channel Discord
 * refused is remembered and not asked again for a while, a refusal that says it is gone is remembered, the client's
 * buckets pace it (throttled is waiting). `post.key` names the post, the same on every attempt of it: its nonce, with
 * `enforce_nonce`, makes a post sent again within Discord's few minutes answer the first. `post.mayPost`, asked once
 * the channel is known reachable and just before the post, can hold it back (the "exactly once" rule's limit).
 */
export async function postDiscordMessage(
  sender: DiscordSender,
  channelId: string,
  message: object,
  attempt: number,
  post: { key: string; doing: string; mayPost?: () => Promise<boolean> },
): Promise<DiscordPostOutcome> {
  const settings = sender.config.discord;
  if (!settings) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const memory = accessMemory(sender, channelId);
  const access = await memory.check(guildOfChannel.get(channelId));
  if (access.kind === "gone") return { kind: "dead", reason: access.reason };
  const guildId = access.guildId ?? guildOfChannel.get(channelId);
  const result = await memory.givenBackOnThrow(async (): Promise<Exclude<DiscordPostOutcome, { kind: "posted" }> | { id: string }> => {
    if (post.mayPost && !(await post.mayPost())) {
      await memory.unasked();
      return { kind: "held back" };
    }
    const posted = await discordRest(settings).request<{ id: string }>("POST", `/channels/${channelId}/messages`, {
      ...message,
      nonce: nonceOf(post.key),
      enforce_nonce: true,
    });
    if (posted.kind === "ok") return posted.body;
    return memory.refused(posted, guildId, verdict(posted, attempt, post.doing, { posting: true }));
  });
  if (!("id" in result)) return result;
  await memory.reached(guildId);
  return { kind: "posted", channelId, messageId: result.id };
}

/** A notice's words as a message's content: shown as typed (a name's `*` or `_` formats nothing). */
/** Discord takes a nonce of up to 25 characters: one per post (`key`), the same on each attempt of it. */
function nonceOf(key: string): string {
  return createHash("sha256").update(key).digest("base64url").slice(0, NONCE_LENGTH);
}

const refusedOrVerdict = (
  memory: AccessMemory | undefined,
  result: Exclude<DiscordResult<unknown>, { kind: "ok" }>,
  guildId: string | undefined,
  failed: FailureVerdict,
): Promise<FailureVerdict> | FailureVerdict => (memory ? memory.refused(result, guildId, failed) : failed);

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
  const memory = accessMemory(sender, copy.channelId);
  const access = await memory.check(undefined);
  if (access.kind === "gone") return { kind: "dead", reason: access.reason };
  const edited = await memory.givenBackOnThrow(async () => {
    // A copy sent with a notice (a DM's assignment notice) keeps it at its top.
    const message = await renderDiscordCopy(sender, issue, copy.guildId, copy.notice);
    const result = await discordRest(settings).request("PATCH", `/channels/${copy.channelId}/messages/${copy.messageId}`, message);
    return result.kind === "ok" ? undefined : memory.refused(result, access.guildId, verdict(result, attempt, "edit the card"));
  });
  if (edited) return edited;
  await memory.reached(access.guildId);
  return { kind: "updated" };
}

/** Discord's codes for a thread that takes no more posts: a moderator locked it (while active; or archived as well). */
const THREAD_CLOSED_CODES = new Map<number, string>([
  [160005, "locked"], // ThreadLocked
  [50083, "archived and locked"], // ThreadArchived: a post unarchives an archived thread, unless it is locked
  [50024, "impossible in this kind of channel"], // a card in a thread, or in a voice channel's chat: no thread from it
]);
const THREAD_ALREADY_CREATED = 160004;
/** The codes that say the bot lacks a permission for threads there: Create Public Threads, Send Messages in Threads. */
const THREAD_PERMISSION_CODES = new Set<number>([50001, 50013]);
/**
 * A thread's `auto_archive_duration` (minutes): how long it stays in the channel's thread list once quiet. A line
 * posted later unarchives it.
 */
const THREAD_AUTO_ARCHIVE_MINUTES = 1440;
/** Discord takes a nonce of up to 25 characters. */
const NONCE_LENGTH = 25;

/** A thread line's outcome, with the card's thread once known (started, or found started), to remember for the next. */
export type DiscordThreadLineOutcome = ({ kind: "sent" } | FailureVerdict) & { threadId?: string };

/**
 * Posts a line in the thread under a Discord card: the thread is started from the card's message on the first line
 * (`thread.id` unknown), or found already started (160004: by a person, or by an attempt whose answer was lost; a
 * thread started from a message has the message's id). The line carries a nonce from `thread.lineKey` with
 * `enforce_nonce`, so a line sent again after an answer was lost is not posted twice (within Discord's few minutes).
 * Throttled is waiting (the client's buckets, a 429); a locked or deleted thread, a deleted card, or no permission
 * for threads means the thread takes no more lines. Such a refusal is about threads, not the channel: it is not
 * remembered as the channel gone, and the channel's cards still go.
 */
export async function postDiscordThreadLine(
  sender: DiscordSender,
  copy: DiscordCopy,
  line: DiscordThreadLine,
  thread: { name: string; id?: string; lineKey: string },
  attempt: number,
): Promise<DiscordThreadLineOutcome> {
  const settings = sender.config.discord;
  if (!settings) return { kind: "dead", reason: "Discord is not configured on this app (DISCORD_PUBLIC_KEY)" };
  const rest = discordRest(settings);
  let threadId = thread.id;
  if (!threadId) {
    const started = await rest.request<{ id: string }>("POST", `/channels/${copy.channelId}/messages/${copy.messageId}/threads`, {
      name: thread.name,
      auto_archive_duration: THREAD_AUTO_ARCHIVE_MINUTES,
    });
    if (started.kind === "ok") threadId = started.body.id;
    else if (started.kind === "error" && started.code === THREAD_ALREADY_CREATED) threadId = copy.messageId;
    else return threadVerdict(started, attempt, "start the card's thread");
  }
  const posted = await rest.request("POST", `/channels/${threadId}/messages`, {
    ...line,
    nonce: nonceOf(thread.lineKey),
    enforce_nonce: true,
  });
  if (posted.kind === "ok") return { kind: "sent", threadId };
  // Not `posting`: a post that may have landed is sent again with its nonce, which Discord answers with the first.
  return { ...threadVerdict(posted, attempt, "post in the card's thread"), threadId };
}

/** What Discord's answer to starting or posting in a card's thread means for the line (exported for its tests). */
export function threadVerdict(result: Exclude<DiscordResult<unknown>, { kind: "ok" }>, attempt: number, doing: string): FailureVerdict {
  const code = result.kind === "error" ? result.code : undefined;
  const closed = code === undefined ? undefined : THREAD_CLOSED_CODES.get(code);
  if (closed && result.kind === "error") return { kind: "dead", reason: `the card's thread is ${closed} (Discord: ${result.message}, ${code})` };
  const judged = verdict(result, attempt, doing);
  if (judged.kind !== "dead") return judged;
  const hint =
    code !== undefined && THREAD_PERMISSION_CODES.has(code) ? " (the bot needs Create Public Threads and Send Messages in Threads there)" : "";
  return { kind: "dead", reason: `could not ${doing}: ${judged.reason}${hint}` };
}

/**
 * What this sender remembers of Discord's "gone" answers for one channel: whether to ask Discord about it at all,
 * and, when this caller is the one re-checking a refusal, what the answer settles: a refusal that says the channel
 * or guild is gone, the channel reached again, or nothing (a passing failure: the claim to ask is given back, so the
 * retry asks again instead of finding the channel "gone").
 */
type AccessMemory = ReturnType<typeof accessMemory>;

function accessMemory(sender: DiscordSender, channelId: string) {
  const guilds = new DiscordGuilds(sender.storage);
  /** This caller's re-check, until an answer settles it. */
  let recheck: (RecheckClaim & { mark: "channel" | "guild" }) | undefined;
  const settle = () => {
    const claim = recheck;
    recheck = undefined;
    return claim;
  };
  const logFailure = (what: string, error: unknown) =>
    sender.log?.(
      `Discord channel ${channelId}: could not ${what} (${[(error as Error | undefined)?.name ?? "error", statusOf(error)].filter(Boolean).join(" ")})`,
    );
  /** Best-effort: the claim lapses by itself after RECHECK_GONE_AFTER_MS. */
  const giveBack = async () => {
    const claim = settle();
    if (claim) await guilds.releaseRecheck(claim).catch((error: unknown) => logFailure("give back its re-check", error));
  };
  return {
    async check(knownGuildId: string | undefined): Promise<ChannelAccess> {
      const access = await guilds.channelAccess(channelId, knownGuildId, sender.now());
      if (access.kind === "recheck") recheck = { ...access.claim, mark: access.mark };
      return access;
    },
    async guildLearnt(guildId: string): Promise<void> {
      const etag = await guilds.rememberGuildOfChannel(channelId, guildId);
      // This write changed the channel's row: a claim on that row is given back on its new ETag.
      if (recheck?.mark === "channel" && etag) recheck.etag = etag;
    },
    /** Runs the request; what throws before an answer settles the re-check gives the claim back. */
    async givenBackOnThrow<T>(request: () => Promise<T>): Promise<T> {
      try {
        return await request();
      } catch (error) {
        await giveBack();
        throw error;
      }
    },
    /** Nothing was asked after all: a re-check this caller claimed is given back, for the next caller to make. */
    unasked: giveBack,
    /** Best-effort: the call went through, and failing to remember that must not make it count as failed. */
    async reached(guildId: string | undefined): Promise<void> {
      const claim = settle();
      if (!claim) return;
      await guilds.restored({ channelId, guildId }, claim.mark).catch(async (error: unknown) => {
        logFailure("remember it is reachable again", error);
        // The next card asks again (and records it), rather than finding the channel "gone" for another hour.
        await guilds.releaseRecheck(claim).catch((again: unknown) => logFailure("give back its re-check", again));
      });
    },
    /** The verdict on a failed call, after remembering a "gone" answer; a gone guild is remembered as such when it is known. */
    async refused(
      result: Exclude<DiscordResult<unknown>, { kind: "ok" }>,
      guildId: string | undefined,
      failed: FailureVerdict,
    ): Promise<FailureVerdict> {
      const code = failed.kind === "dead" && result.kind === "error" ? result.code : undefined;
      const scope = code === undefined ? undefined : GUILD_GONE_CODES.has(code) ? "guild" : CHANNEL_GONE_CODES.has(code) ? "channel" : undefined;
      if (code === undefined || scope === undefined) {
        await giveBack();
        return failed;
      }
      await guilds.markGone({ channelId, guildId }, { code, reason: failed.reason }, scope, sender.now());
      settle();
      return failed;
    },
  };
}

/** The card for a copy in this guild (none: a DM), with a line for the one person it's shown to. */
export async function renderDiscordCopy(sender: Pick<DiscordSender, "identities">, issue: Issue, guildId: string | undefined, notice?: string) {
  const assigneeChatUserId = await discordUserIdOf(sender, issue, guildId);
  return renderDiscordMessage(buildIssueView(issue, { ...(assigneeChatUserId ? { assigneeChatUserId } : {}), ...(notice ? { notice } : {}) }));
}

/** The assignee's user in this server when they are linked there, however they were assigned: the user select shows them chosen. */
async function discordUserIdOf(sender: Pick<DiscordSender, "identities">, issue: Issue, guildId: string | undefined): Promise<string | undefined> {
  if (!guildId || !issue.assignee) return undefined;
  const linked = await sender.identities.findByEmail(issue.assignee.email, "discord");
  return linked.find((identity) => identity.scope === guildId)?.chatUserId;
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
