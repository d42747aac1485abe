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
  | { kind: "recheck"; guildId?: string; mark: "channel" | "guild" }
  | { kind: "gone"; guildId?: string; reason: string };

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
    if (last === undefined) {
      try {
        await table.createEntity<GuildEntity>({ ...guildKey(guildId), guildId, active: true, firstSeenAt: at, lastSeenAt: at });
        created = true;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    if (!created) await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(guildId), guildId, active: true, lastSeenAt: at }, "Merge");
    written.set(guildId, now.getTime());
  }

  async isKnown(guildId: string): Promise<boolean> {
    return (await this.read<GuildEntity>(guildKey(guildId))) !== undefined;
  }

  /**
   * What is known against posting to the channel (its guild's row too, when the guild is known: `knownGuildId`
   * from the caller's memory, else the channel's row). A gone mark past RECHECK_GONE_AFTER_MS, or a channel's
   * mark older than the guild's last interaction, lets exactly one caller ask again (a conditional write).
   */
  async channelAccess(channelId: string, knownGuildId: string | undefined, now: Date): Promise<ChannelAccess> {
    const [channel, knownGuild] = await Promise.all([
      this.read<ChannelEntity>(channelKey(channelId)),
      knownGuildId ? this.read<GuildEntity>(guildKey(knownGuildId)) : undefined,
    ]);
    const guildId = channel?.guildId ?? knownGuildId;
    const guild = knownGuild ?? (guildId && guildId !== knownGuildId ? await this.read<GuildEntity>(guildKey(guildId)) : undefined);
    if (guild?.active === false) {
      if (!isDue(guild, now)) return { kind: "gone", guildId, reason: goneReason(guild, "server") };
      return (await this.claimRecheck(guild, now))
        ? { kind: "recheck", guildId, mark: "guild" }
        : { kind: "gone", guildId, reason: goneReason(guild, "server") };
    }
    if (channel?.active === false) {
      const seenSince = guild?.lastSeenAt !== undefined && channel.checkedAt !== undefined && guild.lastSeenAt > channel.checkedAt;
      if (!seenSince && !isDue(channel, now)) return { kind: "gone", guildId, reason: goneReason(channel, "channel") };
      return (await this.claimRecheck(channel, now))
        ? { kind: "recheck", guildId, mark: "channel" }
        : { kind: "gone", guildId, reason: goneReason(channel, "channel") };
    }
    return { kind: "open", guildId };
  }

  /** Remembers the channel's guild, so no instance needs to ask Discord for it again. */
  async rememberGuildOfChannel(channelId: string, guildId: string): Promise<void> {
    await (await this.table()).upsertEntity<Partial<ChannelEntity>>({ ...channelKey(channelId), channelId, guildId }, "Merge");
  }

  /** Discord said the channel (or, `scope: "guild"`, the whole guild) is gone for the bot. */
  async markGone(where: { channelId: string; guildId?: string }, answer: GoneAnswer, scope: "channel" | "guild", now: Date): Promise<void> {
    const table = await this.table();
    const gone: GoneFields = { active: false, goneCode: answer.code, goneReason: answer.reason, checkedAt: now.toISOString() };
    if (scope === "guild" && where.guildId) {
      await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(where.guildId), guildId: where.guildId, ...gone }, "Merge");
    } else {
      await table.upsertEntity<Partial<ChannelEntity>>(
        { ...channelKey(where.channelId), channelId: where.channelId, ...(where.guildId ? { guildId: where.guildId } : {}), ...gone },
        "Merge",
      );
    }
    // This instance's next interaction from the guild must be written, or it would not lift the mark.
    if (where.guildId) writtenFor(this.storage).delete(where.guildId);
  }

  /** The one request allowed to ask again got through: the channel (or guild) is served again. */
  async restored(where: { channelId: string; guildId?: string }, mark: "channel" | "guild"): Promise<void> {
    const table = await this.table();
    if (mark === "guild" && where.guildId) {
      await table.upsertEntity<Partial<GuildEntity>>({ ...guildKey(where.guildId), guildId: where.guildId, active: true }, "Merge");
    } else {
      await table.upsertEntity<Partial<ChannelEntity>>({ ...channelKey(where.channelId), channelId: where.channelId, active: true }, "Merge");
    }
  }

  /** Moves the mark's check to now, on its ETag: false when another caller got there first. */
  private async claimRecheck(row: GuildEntity | ChannelEntity, now: Date): Promise<boolean> {
    try {
      await (await this.table()).updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, checkedAt: now.toISOString() }, "Merge", {
        etag: row.etag!,
      });
      return true;
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) return false;
      throw error;
    }
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
