import { TABLES, type StorageClients } from "./clients";
import { slackWorkspacePartition } from "./slack-installations";
import { getIfPresent, isConflict, isPreconditionFailed, safeKey } from "./table";

/**
 * Whether the app may post in a Slack channel, as Slack's channel events last said: inactive once the app was
 * removed or the channel archived or deleted, active again when the app is invited back or the channel unarchived.
 * A channel Slack never told us about has no row, and is active.
 */
export interface SlackChannelState {
  teamId: string;
  channel: string;
  active: boolean;
  inactiveReason?: string;
  /** When the change happened, by Slack's clock: an event older than this one is a late retry and changes nothing. */
  changedAt: string;
  updatedAt: string;
}

interface SlackChannelEntity {
  partitionKey: string;
  rowKey: string;
  active: boolean;
  inactiveReason: string;
  changedAt: string;
  updatedAt: string;
}

/**
 * How long an instance trusts the state it read: a fan-out or a storm to one channel reads it once. A change
 * recorded on this instance takes effect at once; one recorded on another instance shows here within this time.
 */
export const CHANNEL_STATE_CACHE_MS = 10_000;

type Remembered = { state: SlackChannelState | undefined; until: number };
const stateCaches = new WeakMap<StorageClients, Map<string, Remembered>>();

function stateCache(storage: StorageClients): Map<string, Remembered> {
  let cache = stateCaches.get(storage);
  if (!cache) {
    cache = new Map();
    stateCaches.set(storage, cache);
  }
  return cache;
}

/** Rows of the `installations` table: the workspace's partition, the channel id as row key (the workspace's own row is `workspace`). */
export class SlackChannels {
  constructor(private readonly storage: StorageClients) {}

  async get(teamId: string, channel: string): Promise<SlackChannelState | undefined> {
    const cache = stateCache(this.storage);
    const key = `${teamId}/${channel}`;
    const remembered = cache.get(key);
    if (remembered && remembered.until > Date.now()) return remembered.state;
    const table = await this.storage.table(TABLES.installations);
    const entity = await getIfPresent<SlackChannelEntity>(table, slackWorkspacePartition(teamId), safeKey(channel));
    const state = entity && fromEntity(teamId, channel, entity);
    cache.set(key, { state, until: Date.now() + CHANNEL_STATE_CACHE_MS });
    return state;
  }

  /**
   * Records what Slack said happened to the channel at `happenedAt`, unless an event from later was recorded
   * already (Slack retries an event for minutes, and may deliver it after a newer one). False when it changed nothing.
   */
  async record(teamId: string, channel: string, change: { active: boolean; reason?: string; happenedAt: Date }): Promise<boolean> {
    const table = await this.storage.table(TABLES.installations);
    const partitionKey = slackWorkspacePartition(teamId);
    const rowKey = safeKey(channel);
    const entity: SlackChannelEntity = {
      partitionKey,
      rowKey,
      active: change.active,
      inactiveReason: change.active ? "" : (change.reason ?? "inactive"),
      changedAt: change.happenedAt.toISOString(),
      updatedAt: new Date().toISOString(),
    };
    try {
      for (;;) {
        const current = await getIfPresent<SlackChannelEntity>(table, partitionKey, rowKey);
        if (current && Date.parse(current.changedAt) > change.happenedAt.getTime()) return false;
        try {
          if (current) await table.updateEntity(entity, "Replace", { etag: current.etag });
          else await table.createEntity(entity);
          return true;
        } catch (error) {
          // Another event for the channel was recorded meanwhile: look again at which one is newer.
          if (!isPreconditionFailed(error) && !isConflict(error)) throw error;
        }
      }
    } finally {
      stateCache(this.storage).delete(`${teamId}/${channel}`);
    }
  }
}

function fromEntity(teamId: string, channel: string, entity: SlackChannelEntity): SlackChannelState {
  return {
    teamId,
    channel,
    active: entity.active,
    ...(entity.inactiveReason ? { inactiveReason: entity.inactiveReason } : {}),
    changedAt: entity.changedAt,
    updatedAt: entity.updatedAt,
  };
}
