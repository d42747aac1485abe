import { TABLES, type StorageClients } from "./clients";
import { SLACK_WORKSPACE_ROW, slackWorkspacePartition } from "./slack-installations";
import { escapeOData, getIfPresent, isConflict, isPreconditionFailed, safeKey } from "./table";

/**
 * Why the app may not post in a channel. Each is set by one kind of Slack event and cleared only by its opposite:
 * `removed` by the app invited back, `archived` by an unarchive; `deleted` never. A channel is active with none
 * left, so unarchiving a channel the app was removed from doesn't put the app back in it.
 */
export type SlackChannelMark = "removed" | "archived" | "deleted";

const MARK_REASONS: Record<SlackChannelMark, string> = {
  removed: "the app was removed from the channel",
  archived: "the channel was archived",
  deleted: "the channel was deleted",
};
/** The row keeps its marks as their reasons, in `inactiveReason`, joined by this. */
const REASON_SEPARATOR = "; ";

/**
 * Whether the app may post in a Slack channel, as Slack's channel events last said: inactive while any mark is
 * set (the app removed, the channel archived or deleted). A channel Slack never told us about has no row, and is active.
 */
export interface SlackChannelState {
  teamId: string;
  channel: string;
  active: boolean;
  /** The reasons of the marks set, joined by "; ". */
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

type Remembered = { states: Promise<Map<string, SlackChannelState>>; until: number };
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

  /**
   * The channel's state. The workspace's channel rows are read together (one query) and kept CHANNEL_STATE_CACHE_MS:
   * an alert to ten channels of one workspace reads them once, not ten times.
   */
  async get(teamId: string, channel: string): Promise<SlackChannelState | undefined> {
    const cache = stateCache(this.storage);
    let remembered = cache.get(teamId);
    if (!remembered || remembered.until <= Date.now()) {
      // The read itself is shared: an alert's posts to the workspace's channels go out together.
      remembered = { states: this.readWorkspace(teamId), until: Date.now() + CHANNEL_STATE_CACHE_MS };
      cache.set(teamId, remembered);
      remembered.states.catch(() => cache.get(teamId) === remembered && cache.delete(teamId));
    }
    return (await remembered.states).get(channel);
  }

  private async readWorkspace(teamId: string): Promise<Map<string, SlackChannelState>> {
    const table = await this.storage.table(TABLES.installations);
    const states = new Map<string, SlackChannelState>();
    const filter = `PartitionKey eq '${escapeOData(slackWorkspacePartition(teamId))}' and RowKey ne '${escapeOData(SLACK_WORKSPACE_ROW)}'`;
    for await (const entity of table.listEntities<SlackChannelEntity>({ queryOptions: { filter } })) {
      const channel = entity.rowKey; // a channel id (C…, G…): safeKey leaves it as it is
      states.set(channel, fromEntity(teamId, channel, entity));
    }
    return states;
  }

  /**
   * Sets or clears one mark as Slack said it happened at `happenedAt`, the other marks kept, unless an event from
   * later was recorded already (Slack retries an event for minutes, and may deliver it after a newer one): the
   * channel's state then, or undefined when the event was too old to change anything.
   */
  async record(
    teamId: string,
    channel: string,
    change: { mark: SlackChannelMark; set: boolean; happenedAt: Date },
  ): Promise<SlackChannelState | undefined> {
    const table = await this.storage.table(TABLES.installations);
    const partitionKey = slackWorkspacePartition(teamId);
    const rowKey = safeKey(channel);
    const reason = MARK_REASONS[change.mark];
    try {
      for (;;) {
        const current = await getIfPresent<SlackChannelEntity>(table, partitionKey, rowKey);
        if (current && Date.parse(current.changedAt) > change.happenedAt.getTime()) return undefined;
        const others = reasonsOf(current).filter((kept) => kept !== reason);
        const reasons = change.set ? [...others, reason] : others;
        const entity: SlackChannelEntity = {
          partitionKey,
          rowKey,
          active: reasons.length === 0,
          inactiveReason: reasons.join(REASON_SEPARATOR),
          changedAt: change.happenedAt.toISOString(),
          updatedAt: new Date().toISOString(),
        };
        try {
          if (current) await table.updateEntity(entity, "Replace", { etag: current.etag });
          else await table.createEntity(entity);
          return fromEntity(teamId, channel, entity);
        } catch (error) {
          // Another event for the channel was recorded meanwhile: look again at which one is newer.
          if (!isPreconditionFailed(error) && !isConflict(error)) throw error;
        }
      }
    } finally {
      stateCache(this.storage).delete(teamId);
    }
  }
}

/** The marks set on a channel (none for a channel Slack never told us about, or one the app may post in again). */
export function channelMarks(state: SlackChannelState | undefined): SlackChannelMark[] {
  if (!state || state.active || !state.inactiveReason) return [];
  const reasons = state.inactiveReason.split(REASON_SEPARATOR);
  return (Object.keys(MARK_REASONS) as SlackChannelMark[]).filter((mark) => reasons.includes(MARK_REASONS[mark]));
}

/** The reasons of the marks a row holds (a reason this code no longer knows stays, cleared by nothing). */
function reasonsOf(entity: SlackChannelEntity | undefined): string[] {
  if (!entity || entity.active || !entity.inactiveReason) return [];
  return entity.inactiveReason.split(REASON_SEPARATOR);
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
