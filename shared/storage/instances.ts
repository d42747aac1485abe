import { randomUUID } from "node:crypto";
import { TABLES, type StorageClients } from "./clients";

/**
 * How often an instance that paces calls writes its heartbeat and counts the others: also how long the others may
 * pace at a budget meant for one instance fewer after an instance starts sending (the platforms' 429s cover that).
 */
export const HEARTBEAT_MS = 15_000;
/** A heartbeat older than this (two and a half beats) belonged to an instance that stopped or died. */
export const LIVE_MS = 40_000;
/**
 * A heartbeat younger than this belongs to an instance sending now: a sending instance beats on its first call
 * after HEARTBEAT_MS. One whose own beat is older waits for a new count before it sends again.
 */
export const SENDING_MS = HEARTBEAT_MS + 5_000;
/**
 * The share of the app's budget an instance takes while instances sending now haven't counted it yet (they each
 * still use the share their last count gave them): what the margin below the platforms' limits can absorb.
 */
export const UNCOUNTED_SHARE = 0.05;
/** A 429 makes an instance count again (`recount`) at most this often. */
const RECOUNT_AFTER_429_MS = 1000;
/** Rows this old are deleted by whoever lists them, so instances long gone don't pile up. */
const FORGET_MS = 3_600_000;
const PARTITION = "pacing";

interface HeartbeatEntity {
  partitionKey: string;
  rowKey: string;
  seenAt: string;
  /** The live instances the writer counted at that beat: its share of the app's budget is 1 ÷ this. */
  live?: number;
}

/**
 * How many instances are sending to the platforms right now, and this one's share of the app's budget, from a
 * heartbeat row each keeps in the `instances` table: one upsert and one list per instance every HEARTBEAT_MS,
 * whatever the traffic (never per post). An instance that sends nothing writes nothing and isn't counted: it uses
 * no budget. An instance the others haven't counted yet (it just started sending) takes what their shares leave.
 */
export class InstanceCount {
  readonly id = randomUUID();
  private live = 1;
  private share = 1;
  private beatAt = Number.NEGATIVE_INFINITY;
  /** When the last finished count began: the `seenAt` of this instance's row. */
  private countedAt = Number.NEGATIVE_INFINITY;
  private nextBeatAt = Number.NEGATIVE_INFINITY;
  private beating?: Promise<void>;

  constructor(
    private readonly storage: StorageClients,
    private readonly now: () => number = Date.now,
  ) {}

  /** Live instances as last counted (1 before the first count). */
  get known(): number {
    return this.live;
  }

  /** This instance's share of the app's budget as last counted: 1 ÷ live, less while others haven't counted it. */
  get shareOfApp(): number {
    return this.share;
  }

  /**
   * The live instances, this one included. Beats again in the background when the last beat is HEARTBEAT_MS old
   * (sooner while the others haven't counted this one). Waits for the count when the others may have stopped
   * counting this instance (it sent nothing for a while) and at the very first call: a new instance never starts at
   * a budget meant for one.
   */
  async current(): Promise<number> {
    const now = this.now();
    if (!this.beating && now >= this.nextBeatAt) this.startBeat(now);
    if (this.beating && now - this.countedAt >= SENDING_MS) await this.beating;
    return this.live;
  }

  /**
   * A platform answered 429: perhaps an instance started sending since the last count and this one still paces at
   * a budget meant for one fewer. Counts again now (at most once a second) rather than at the next beat.
   */
  recount(): void {
    const now = this.now();
    if (this.beating || now - this.beatAt < RECOUNT_AFTER_429_MS) return;
    this.startBeat(now);
  }

  private startBeat(now: number): void {
    this.beatAt = now;
    this.nextBeatAt = now + HEARTBEAT_MS;
    this.beating = this.beat(now).finally(() => {
      this.beating = undefined;
      this.countedAt = now;
    });
  }

  private async beat(now: number): Promise<void> {
    try {
      const table = await this.storage.table(TABLES.instances);
      const write = (live: number) =>
        table.upsertEntity<HeartbeatEntity>({ partitionKey: PARTITION, rowKey: this.id, seenAt: new Date(now).toISOString(), live }, "Replace");
      const written = this.live;
      // Written before the others are listed: of two instances starting together, at least one sees the other.
      await write(written);
      const others: { seenAt: number; live?: number }[] = [];
      const gone: string[] = [];
      for await (const row of table.listEntities<HeartbeatEntity>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } })) {
        if (row.rowKey === this.id) continue;
        const seenAt = Date.parse(row.seenAt);
        if (now - seenAt < LIVE_MS) others.push({ seenAt, live: row.live });
        else if (now - seenAt > FORGET_MS) gone.push(row.rowKey);
      }
      this.live = others.length + 1;
      // Instances sending now each use 1 ÷ the count of their last beat: one that hasn't counted this instance yet
      // leaves it less than an even split, until it beats again.
      const sending = others.filter((other) => now - other.seenAt < SENDING_MS);
      const theirs = sending.reduce((sum, other) => sum + 1 / (other.live ?? this.live), 0);
      this.share = Math.min(1 / this.live, Math.max(UNCOUNTED_SHARE, 1 - theirs));
      if (this.share < 1 / this.live) {
        // Count again just after the soonest of them has beaten again.
        const soonest = Math.min(...sending.map((other) => other.seenAt + HEARTBEAT_MS + RECOUNT_AFTER_429_MS));
        this.nextBeatAt = Math.max(now + RECOUNT_AFTER_429_MS, Math.min(soonest, now + HEARTBEAT_MS));
      }
      // The others read this instance's share from its row: written again when the count changed.
      if (this.live !== written) await write(this.live);
      for (const rowKey of gone) await table.deleteEntity(PARTITION, rowKey).catch(() => undefined);
    } catch {
      // Keep the last count: the platforms' 429s (with Retry-After) stay the backstop.
    }
  }
}

let tracker: InstanceCount | undefined;

/** This process's heartbeat (one per process: it is the process that is an instance). */
export function instances(storage: StorageClients): InstanceCount {
  tracker ??= new InstanceCount(storage);
  return tracker;
}

/** This process's share of the app's budget (1 until the first heartbeat read): see `InstanceCount.shareOfApp`. */
export function instanceShareOfApp(): number {
  return tracker?.shareOfApp ?? 1;
}
