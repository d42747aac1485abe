import type { TransactionAction } from "@azure/data-tables";
import { TABLES, type StorageClients } from "./clients";
import { escapeOData, isConflict, isPreconditionFailed, safeKey } from "./table";

/** Rows of one workspace's channels sit in one partition of the `instances` table, beside the heartbeats. */
const PARTITION_PREFIX = "slack-slots:";
/** Tries of one booking's transaction when another instance wrote the same channels in between (412/409). */
const TRIES = 6;
/** A Table transaction holds at most 100 operations: a booking writes at most this many channels at once. */
const CHANNELS_PER_TRANSACTION = 100;

type SlotRow = {
  partitionKey: string;
  rowKey: string;
  /** Epoch ms: the earliest the channel's next post may go. */
  nextAt: number;
};

interface Known {
  nextAt: number;
  /** "" when the write's answer gave none: the next booking reads the row first. */
  etag: string;
}

interface Waiting {
  channel: string;
  resolve: (at: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Slack's per-channel posting slots, shared by every instance while more than one is live (docs/pacing.md,
 * "Several instances"). Each channel has a row holding the time its next post may go; booking a slot moves it on by
 * `spacingMs` under the row's ETag. Budgets split between instances left the posts of a storm's last seconds at one
 * instance's half pace while the other had nothing left to post; with one schedule, whichever instance holds the
 * posts gets the channel's whole pace.
 *
 * Bookings an instance asks for while one of its workspace's is being written are written together next, one
 * transaction for every channel they name: a delivery's posts to ten channels, or a wave of retries, cost a read
 * and a write, not two requests each.
 */
export class ChannelSchedule {
  private readonly known = new Map<string, Map<string, Known>>();
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly writing = new Set<string>();

  constructor(
    private readonly storage: StorageClients,
    private readonly spacingMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** When the channel's next post may go, as this instance last read or wrote it (no request): 0 when it doesn't know. */
  nextKnown(teamId: string, channel: string): number {
    return this.known.get(teamId)?.get(channel)?.nextAt ?? 0;
  }

  /** Books the channel's next slot, now at the earliest, and tells its time (epoch ms). */
  book(teamId: string, channel: string): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const list = this.waiting.get(teamId) ?? [];
      list.push({ channel, resolve, reject });
      this.waiting.set(teamId, list);
      if (!this.writing.has(teamId)) void this.writeWaiting(teamId);
    });
  }

  private async writeWaiting(teamId: string): Promise<void> {
    this.writing.add(teamId);
    // Bookings asked for in the same turn of the event loop (a delivery's posts) go in the first transaction.
    await Promise.resolve();
    try {
      for (;;) {
        const list = this.waiting.get(teamId) ?? [];
        if (list.length === 0) return;
        const batch = takeChannels(list, CHANNELS_PER_TRANSACTION);
        this.waiting.set(teamId, list.slice(batch.length));
        try {
          const slots = await this.write(teamId, batch);
          batch.forEach((waiting, i) => waiting.resolve(slots[i]!));
        } catch (error) {
          for (const waiting of batch) waiting.reject(error);
        }
      }
    } finally {
      this.writing.delete(teamId);
    }
  }

  /** One slot per entry, in order (a channel named twice gets two slots, one spacing apart). */
  private async write(teamId: string, batch: Waiting[]): Promise<number[]> {
    const table = await this.storage.table(TABLES.instances);
    const partitionKey = PARTITION_PREFIX + safeKey(teamId);
    const channels = [...new Set(batch.map((waiting) => waiting.channel))];
    for (let attempt = 1; ; attempt++) {
      let known = this.known.get(teamId);
      if (!known || channels.some((channel) => known!.get(channel)?.etag === "")) known = await this.read(teamId, partitionKey);
      const now = this.now();
      const spacing = this.spacingMs();
      const next = new Map(channels.map((channel) => [channel, Math.max(now, known!.get(channel)?.nextAt ?? 0)]));
      const slots = batch.map((waiting) => {
        const at = next.get(waiting.channel)!;
        next.set(waiting.channel, at + spacing);
        return at;
      });
      const actions = channels.map((channel): TransactionAction => {
        const row: SlotRow = { partitionKey, rowKey: safeKey(channel), nextAt: next.get(channel)! };
        const etag = known!.get(channel)?.etag;
        return etag ? ["update", row, "Replace", { etag }] : ["create", row];
      });
      try {
        const response = await table.submitTransaction(actions);
        channels.forEach((channel, n) => {
          known!.set(channel, { nextAt: next.get(channel)!, etag: response.subResponses[n]?.etag ?? "" });
        });
        return slots;
      } catch (error) {
        // Another instance booked in one of these channels since this one read them: read them again.
        if (!(isPreconditionFailed(error) || isConflict(error)) || attempt >= TRIES) throw error;
        this.known.delete(teamId);
      }
    }
  }

  private async read(teamId: string, partitionKey: string): Promise<Map<string, Known>> {
    const table = await this.storage.table(TABLES.instances);
    const known = new Map<string, Known>();
    for await (const row of table.listEntities<SlotRow>({
      queryOptions: { filter: `PartitionKey eq '${escapeOData(partitionKey)}'`, select: ["RowKey", "nextAt"] },
    })) {
      known.set(decodeURIComponent(row.rowKey), { nextAt: Number(row.nextAt), etag: row.etag });
    }
    this.known.set(teamId, known);
    return known;
  }
}

/** The first waiting bookings that name at most `limit` channels between them. */
function takeChannels(list: Waiting[], limit: number): Waiting[] {
  const channels = new Set<string>();
  let end = 0;
  for (; end < list.length; end++) {
    channels.add(list[end]!.channel);
    if (channels.size > limit) break;
  }
  return list.slice(0, end);
}

let schedule: ChannelSchedule | undefined;

/** This process's view of the shared schedule (one per process, like its heartbeat). */
export function channelSchedule(storage: StorageClients, spacingMs: () => number): ChannelSchedule {
  schedule ??= new ChannelSchedule(storage, spacingMs);
  return schedule;
}
