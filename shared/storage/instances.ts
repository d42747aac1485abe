import { randomUUID } from "node:crypto";
import { TABLES, type StorageClients } from "./clients";

/**
 * How often an instance that paces calls writes its heartbeat and counts the others: also how long the others may
 * pace at a budget meant for one instance fewer after an instance starts sending (the platforms' 429s cover that).
 */
export const HEARTBEAT_MS = 15_000;
/** A heartbeat older than this (two and a half beats) belonged to an instance that stopped or died. */
export const LIVE_MS = 40_000;
/** A 429, or a deferral early in a busy spell, makes an instance count again (`recount`) at most this often. */
const RECOUNT_AFTER_429_MS = 1000;
/** An instance that deferred nothing for this long was quiet: its next deferral starts a busy spell (`deferred`). */
const QUIET_MS = HEARTBEAT_MS;
/** Rows this old are deleted by whoever lists them, so instances long gone don't pile up. */
const FORGET_MS = 3_600_000;
const PARTITION = "pacing";

interface HeartbeatEntity {
  partitionKey: string;
  rowKey: string;
  seenAt: string;
}

/**
 * How many instances are sending to the platforms right now, from a heartbeat row each keeps in the `instances`
 * table: one upsert and one list per instance every HEARTBEAT_MS, whatever the traffic (never per post).
 * An instance that sends nothing writes nothing and isn't counted: it uses no budget.
 */
export class InstanceCount {
  readonly id = randomUUID();
  private live = 1;
  private beatAt = Number.NEGATIVE_INFINITY;
  private beating?: Promise<void>;
  private counted = false;
  private deferredAt = Number.NEGATIVE_INFINITY;
  private busySince = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly storage: StorageClients,
    private readonly now: () => number = Date.now,
  ) {}

  /** Live instances as last counted (1 before the first count). */
  get known(): number {
    return this.live;
  }

  /**
   * The live instances, this one included. Beats again in the background when the last beat is HEARTBEAT_MS old;
   * the very first call waits for its count, so a new instance never starts at a budget meant for one.
   */
  async current(): Promise<number> {
    const now = this.now();
    if (!this.beating && now - this.beatAt >= HEARTBEAT_MS) {
      this.beatAt = now;
      this.beating = this.beat(now).finally(() => (this.beating = undefined));
    }
    if (!this.counted && this.beating) await this.beating;
    return this.live;
  }

  /**
   * A platform answered 429: perhaps an instance started sending since the last count and this one still paces at
   * a budget meant for one fewer. Counts again now (at most once a second) rather than at the next beat.
   */
  recount(): void {
    const now = this.now();
    if (this.beating || now - this.beatAt < RECOUNT_AFTER_429_MS) return;
    this.beatAt = now;
    this.beating = this.beat(now).finally(() => (this.beating = undefined));
  }

  /**
   * This instance's pacing deferred a call: it is using its whole share. At the start of a busy spell that is when
   * its count matters and may be stale: the work arrived at every instance at once, and the others started sending
   * since its last beat. So in the spell's first HEARTBEAT_MS it counts again (at most every second), not only at
   * the next beat (two instances paced at 1.5 × the budget for up to 15 s, and drew 429s).
   */
  deferred(): void {
    const now = this.now();
    if (now - this.deferredAt >= QUIET_MS) this.busySince = now;
    this.deferredAt = now;
    if (now - this.busySince < HEARTBEAT_MS) this.recount();
  }

  private async beat(now: number): Promise<void> {
    try {
      const table = await this.storage.table(TABLES.instances);
      await table.upsertEntity<HeartbeatEntity>({ partitionKey: PARTITION, rowKey: this.id, seenAt: new Date(now).toISOString() }, "Replace");
      let live = 0;
      const gone: string[] = [];
      for await (const row of table.listEntities<HeartbeatEntity>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } })) {
        const age = now - Date.parse(row.seenAt);
        if (row.rowKey === this.id || age < LIVE_MS) live++;
        else if (age > FORGET_MS) gone.push(row.rowKey);
      }
      this.live = Math.max(1, live);
      for (const rowKey of gone) await table.deleteEntity(PARTITION, rowKey).catch(() => undefined);
    } catch {
      // Keep the last count: the platforms' 429s (with Retry-After) stay the backstop.
    } finally {
      this.counted = true;
    }
  }
}

let tracker: InstanceCount | undefined;

/** This process's heartbeat (one per process: it is the process that is an instance). */
export function instances(storage: StorageClients): InstanceCount {
  tracker ??= new InstanceCount(storage);
  return tracker;
}

/** How many instances share the platforms' limits (1 until the first heartbeat read). */
export function liveInstanceCount(): number {
  return tracker?.known ?? 1;
}

/** This process's pacing deferred a call (see `InstanceCount.deferred`). */
export function noteDeferral(): void {
  tracker?.deferred();
}
