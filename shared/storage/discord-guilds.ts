import type { TableClient } from "@azure/data-tables";
import { TABLES, type StorageClients } from "./clients";
import { isConflict, isNotFound, isPreconditionFailed } from "./table";

/**
 * How long Discord's "gone" for a channel or guild is believed before one real request asks again: a 403 may be
 * a permission put back later, and nothing else would tell us (no gateway).
 */
export const RECHECK_GONE_AFTER_MS = 60 * 60_000;
/** An instance writes a guild's "seen" at most this often: interactions are frequent, and it only needs to be recent. */
const SEEN_WRITE_EVERY_MS = 60_000;

/** Per storage account: guild id → when this instance last wrote that the guild was seen. */
const seenWrittenAt = new WeakMap<StorageClients, Map<string, number>>();

/**
 * How long an instance trusts a channel's or guild's row it read: a fan-out or a storm of alerts to one channel
 * reads it once. A change this instance writes takes effect here at once; one written on another instance shows
 * here within this time.
 */
export const ROW_CACHE_MS = 10_000;

/** A row as read (`undefined`: there is none), trusted until `until` (epoch ms). */
type Remembered = { row: (GoneFields & { etag?: string }) | undefined; until: number };
/** Per storage account: `partitionKey/rowKey` → the row as this instance last read or wrote it. */
const rowCaches = new WeakMap<StorageClients, Map<string, Remembered>>();

/** Discord's answer that a channel or guild is gone for the bot, as a row remembers it (`active: false`). */
interface GoneFields {
  active?: boolean;
  goneCode?: number;
  goneReason?: string;
  /** When Discord last said so, or when one request was last allowed to ask again. */
  checkedAt?: string;
}

interface GuildEntity extends GoneFields {
  partitionKey: string;
  rowKey: string;
  guildId: string;
  firstSeenAt?: string;
  /** The last interaction from the guild (written at most every SEEN_WRITE_EVERY_MS per instance). */
  lastSeenAt?: string;
  etag?: string;
}

interface ChannelEntity extends GoneFields {
  partitionKey: string;
  rowKey: string;
  channelId: string;
  /** Learnt from Discord on the first post there: a channel never moves to another guild. */
  guildId?: string;
  etag?: string;
}

export interface GoneAnswer {
  code: number;
  /** Discord's words, as the delivery's dead reason shows them. */
  reason: string;
}

/**
 * May the app ask Discord about a channel now: `open` (nothing known against it); `recheck` (it was gone, and this
 * caller is the one allowed to ask again: it reports back with `restored` or `markGone`); `gone` (don't ask).
 */
export type ChannelAccess =
  | { kind: "open"; guildId?: string }
  | { kind: "recheck"; guildId?: string; mark: "channel" | "guild"; claim: RecheckClaim }
  | { kind: "gone"; guildId?: string; reason: string };

/** The one caller's right to ask again: the row it moved `checkedAt` on, as that write left it, and what it was before. */
export interface RecheckClaim {
  partitionKey: string;
  rowKey: string;
  etag: string;
  checkedBefore: string | undefined;
}

const guildKey = (guildId: string) => ({ partitionKey: `discord:${guildId}`, rowKey: "guild" });
const channelKey = (channelId: string) => ({ partitionKey: `discord:${channelId}`, rowKey: "channel" });

/**
 * The Discord guilds the app serves, in the installations table (`discord:<guildId>` / `guild`), and the channels
 * it posts to (`discord:<channelId>` / `channel`: the channel's guild, and whether Discord refuses it). Without a
 * gateway connection there is no GUILD_CREATE or GUILD_DELETE: a guild is recorded (and re-activated) by its
 * interactions, and found gone by Discord's answers to the posts, which are remembered so that later alerts ask
 * nothing: Discord bans the app's IP for a while after 10,000 refused requests in 10 minutes.
 */
export class DiscordGuilds {
  constructor(private readonly storage: StorageClients) {}

  /** An interaction from the guild: the bot is there, so whatever Discord refused there is worth asking again. */
  async recordSeen(guildId: string, now = new Date()): Promise<void> {
    const written = writtenFor(this.storage);
    const last = written.get(guildId);
    if (last !== undefined && now.getTime() - last < SEEN_WRITE_EVERY_MS) return;
    const table = await this.table();
    const at = now.toISOString();
    let created = false;
    const seen = { guildId, active: true, lastSeenAt: at };
    if (last === undefined) {
      try {
        const { etag } = await table.createEntity<GuildEntity>({ ...guildKey(guildId), ...seen, firstSeenAt: at });
        this.wrote(guildKey(guildId), { ...seen, firstSeenAt: at }, etag);
        created = true;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    if (!created) {
      const { etag } = await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(guildId), ...seen }, "Merge");
      this.wrote(guildKey(guildId), seen, etag);
    }
    written.set(guildId, now.getTime());
  }

  async isKnown(guildId: string): Promise<boolean> {
    return (await this.read<GuildEntity>(guildKey(guildId))) !== undefined;
  }

  /**
   * What is known against posting to the channel (its guild's row too, when the guild is known: `knownGuildId`
   * from the caller's memory, else the channel's row). A gone mark past RECHECK_GONE_AFTER_MS, or a channel's
   * mark older than the guild's last interaction, lets exactly one caller ask again (a conditional write).
   * The rows are read at most once per ROW_CACHE_MS on this instance.
   */
  async channelAccess(channelId: string, knownGuildId: string | undefined, now: Date): Promise<ChannelAccess> {
    const [channel, knownGuild] = await Promise.all([
      this.readCached<ChannelEntity>(channelKey(channelId)),
      knownGuildId ? this.readCached<GuildEntity>(guildKey(knownGuildId)) : undefined,
    ]);
    const guildId = channel?.guildId ?? knownGuildId;
    const guild = knownGuild ?? (guildId && guildId !== knownGuildId ? await this.readCached<GuildEntity>(guildKey(guildId)) : undefined);
    if (guild?.active === false) {
      if (!isDue(guild, now)) return { kind: "gone", guildId, reason: goneReason(guild, "server") };
      const claim = await this.claimRecheck(guild, now);
      return claim ? { kind: "recheck", guildId, mark: "guild", claim } : { kind: "gone", guildId, reason: goneReason(guild, "server") };
    }
    if (channel?.active === false) {
      const seenSince = guild?.lastSeenAt !== undefined && channel.checkedAt !== undefined && guild.lastSeenAt > channel.checkedAt;
      if (!seenSince && !isDue(channel, now)) return { kind: "gone", guildId, reason: goneReason(channel, "channel") };
      const claim = await this.claimRecheck(channel, now);
      return claim ? { kind: "recheck", guildId, mark: "channel", claim } : { kind: "gone", guildId, reason: goneReason(channel, "channel") };
    }
    return { kind: "open", guildId };
  }

  /** Remembers the channel's guild, so no instance needs to ask Discord for it again: the row's new ETag. */
  async rememberGuildOfChannel(channelId: string, guildId: string): Promise<string | undefined> {
    const fields = { channelId, guildId };
    const { etag } = await (await this.table()).upsertEntity<Partial<ChannelEntity>>({ ...channelKey(channelId), ...fields }, "Merge");
    this.wrote(channelKey(channelId), fields, etag);
    return etag;
  }

  /** Discord said the channel (or, `scope: "guild"`, the whole guild) is gone for the bot. */
  async markGone(where: { channelId: string; guildId?: string }, answer: GoneAnswer, scope: "channel" | "guild", now: Date): Promise<void> {
    const table = await this.table();
    const gone: GoneFields = { active: false, goneCode: answer.code, goneReason: answer.reason, checkedAt: now.toISOString() };
    if (scope === "guild" && where.guildId) {
      const fields = { guildId: where.guildId, ...gone };
      const { etag } = await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(where.guildId), ...fields }, "Merge");
      this.wrote(guildKey(where.guildId), fields, etag);
    } else {
      const fields = { channelId: where.channelId, ...(where.guildId ? { guildId: where.guildId } : {}), ...gone };
      const { etag } = await table.upsertEntity<Partial<ChannelEntity>>({ ...channelKey(where.channelId), ...fields }, "Merge");
      this.wrote(channelKey(where.channelId), fields, etag);
    }
    // This instance's next interaction from the guild must be written, or it would not lift the mark.
    if (where.guildId) writtenFor(this.storage).delete(where.guildId);
  }

  /** The one request allowed to ask again got through: the channel (or guild) is served again. */
  async restored(where: { channelId: string; guildId?: string }, mark: "channel" | "guild"): Promise<void> {
    const table = await this.table();
    if (mark === "guild" && where.guildId) {
      const fields = { guildId: where.guildId, active: true };
      const { etag } = await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(where.guildId), ...fields }, "Merge");
      this.wrote(guildKey(where.guildId), fields, etag);
    } else {
      const fields = { channelId: where.channelId, active: true };
      const { etag } = await table.upsertEntity<Partial<ChannelEntity>>({ ...channelKey(where.channelId), ...fields }, "Merge");
      this.wrote(channelKey(where.channelId), fields, etag);
    }
  }

  /**
   * The one request allowed to ask again got no answer that settles it (throttled, a 5xx, no connection): the
   * mark's check goes back to what it was, so the next caller (the retry) asks again rather than reading "gone".
   * Changes nothing if the row was written since the claim (another answer recorded meanwhile).
   */
  async releaseRecheck(claim: RecheckClaim): Promise<void> {
    const key = { partitionKey: claim.partitionKey, rowKey: claim.rowKey };
    // A mark written without a check time is due at once: the epoch keeps it so.
    const fields = { checkedAt: claim.checkedBefore ?? new Date(0).toISOString() };
    try {
      const { etag } = await (await this.table()).updateEntity({ ...key, ...fields }, "Merge", { etag: claim.etag });
      this.wrote(key, fields, etag);
    } catch (error) {
      if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      this.forget(key);
    }
  }

  /** Moves the mark's check to now, on its ETag: undefined when another caller got there first. */
  private async claimRecheck(row: GuildEntity | ChannelEntity, now: Date): Promise<RecheckClaim | undefined> {
    const key = { partitionKey: row.partitionKey, rowKey: row.rowKey };
    const fields = { checkedAt: now.toISOString() };
    try {
      const { etag } = await (await this.table()).updateEntity({ ...key, ...fields }, "Merge", { etag: row.etag! });
      this.wrote(key, fields, etag);
      return { ...key, etag: etag!, checkedBefore: row.checkedAt };
    } catch (error) {
      if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      // What this instance remembered is out of date: the next caller reads the row as it is now.
      this.forget(key);
      return undefined;
    }
  }

  private async readCached<T extends GoneFields>(key: { partitionKey: string; rowKey: string }): Promise<T | undefined> {
    const cache = rowCache(this.storage);
    const cacheKey = `${key.partitionKey}/${key.rowKey}`;
    const remembered = cache.get(cacheKey);
    if (remembered && remembered.until > Date.now()) return remembered.row as T | undefined;
    const row = await this.read<T>(key);
    cache.set(cacheKey, { row, until: Date.now() + ROW_CACHE_MS });
    return row;
  }

  /** A write of `fields` this instance made: a row it remembers now has them (one it doesn't is read when needed). */
  private wrote(key: { partitionKey: string; rowKey: string }, fields: object, etag: string | undefined): void {
    const cache = rowCache(this.storage);
    const cacheKey = `${key.partitionKey}/${key.rowKey}`;
    const remembered = cache.get(cacheKey);
    if (!remembered || remembered.until <= Date.now()) return;
    if (etag === undefined) {
      cache.delete(cacheKey);
      return;
    }
    cache.set(cacheKey, { row: { ...key, ...remembered.row, ...fields, etag }, until: remembered.until });
  }

  private forget(key: { partitionKey: string; rowKey: string }): void {
    rowCache(this.storage).delete(`${key.partitionKey}/${key.rowKey}`);
  }

  private async read<T extends object>(key: { partitionKey: string; rowKey: string }): Promise<T | undefined> {
    try {
      return (await (await this.table()).getEntity<T>(key.partitionKey, key.rowKey)) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private table(): Promise<TableClient> {
    return this.storage.table(TABLES.installations);
  }
}

function rowCache(storage: StorageClients): Map<string, Remembered> {
  let cache = rowCaches.get(storage);
  if (!cache) {
    cache = new Map();
    rowCaches.set(storage, cache);
  }
  return cache;
}

function writtenFor(storage: StorageClients): Map<string, number> {
  let written = seenWrittenAt.get(storage);
  if (!written) {
    written = new Map();
    seenWrittenAt.set(storage, written);
  }
  return written;
}

function recheckAt(row: GoneFields): number {
  const checked = row.checkedAt ? Date.parse(row.checkedAt) : Number.NaN;
  return Number.isNaN(checked) ? 0 : checked + RECHECK_GONE_AFTER_MS;
}

const isDue = (row: GoneFields, now: Date) => now.getTime() >= recheckAt(row);

function goneReason(row: GoneFields, what: "channel" | "server"): string {
  const said = row.goneReason ?? `Discord refused the ${what} (${row.goneCode ?? "?"})`;
  return `${said}, as Discord last answered at ${row.checkedAt ?? "?"}: not asked again before ${new Date(recheckAt(row)).toISOString()} or until Triage Relay is used in that server`;
}
