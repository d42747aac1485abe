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
/**
 * An instance whose heartbeat is this recent may be about to send again: at the start of a busy spell, before the
 * instances have counted each other, it is counted (`known`).
 */
const RECENT_MS = 600_000;
/** A busy spell's first this long counts the instances seen within RECENT_MS as well as the live ones. */
const SPELL_START_MS = 2000;
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
  /** Instances seen within RECENT_MS at the last count, this one included. */
  private recent = 1;
  private askedAt = Number.NEGATIVE_INFINITY;
  private spellStart = Number.NEGATIVE_INFINITY;
  private beatAt = Number.NEGATIVE_INFINITY;
  private beating?: Promise<void>;
  private counted = false;
  private deferredAt = Number.NEGATIVE_INFINITY;
  private busySince = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly storage: StorageClients,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Live instances as last counted (1 before the first count). In a busy spell's first SPELL_START_MS, the instances
   * seen within RECENT_MS count too: a storm reaches every instance at once, and each would otherwise start it at a
   * budget meant for itself alone, its heartbeat and the others' older than LIVE_MS after a quiet spell (two
   * instances' first bursts met in the fan-out benchmark: 17 Teams 429s in one second). By then a busy instance has
   * counted again (`deferred`) and seen who is sending.
   */
  get known(): number {
    return this.now() - this.spellStart < SPELL_START_MS ? Math.max(this.live, this.recent) : this.live;
  }

  /**
   * The instances to pace for, this one included (`known`). Beats again in the background when the last beat is
   * HEARTBEAT_MS old, and when a busy spell starts (the first call after QUIET_MS without one; its deferrals count
   * again within seconds, `deferred`). The
   * very first call waits for its count, so a new instance never starts at a budget meant for one, and so do the
   * calls at a spell's start.
   */
  async current(): Promise<number> {
    const now = this.now();
    if (now - this.askedAt >= QUIET_MS) this.spellStart = now;
    this.askedAt = now;
    if (!this.beating && (now - this.beatAt >= HEARTBEAT_MS || this.beatAt < this.spellStart)) {
      this.beatAt = now;
      this.beating = this.beat(now).finally(() => (this.beating = undefined));
    }
    // A spell's first count is waited for: the instances seen lately are what its first bursts are paced by.
    if (this.beating && (!this.counted || this.beatAt === this.spellStart)) await this.beating;
    return this.known;
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
   * This instance's pacing held a call back (a wait in process or a deferral): it is using its whole share. At the
   * start of a busy spell that is when its count matters and may be stale: the work arrived at every instance at
   * once, and the others started sending since its last beat. So in the spell's first HEARTBEAT_MS it counts again (at most every second), not only at
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
      let recent = 0;
      const gone: string[] = [];
      for await (const row of table.listEntities<HeartbeatEntity>({ queryOptions: { filter: `PartitionKey eq '${PARTITION}'` } })) {
        const age = now - Date.parse(row.seenAt);
        if (row.rowKey === this.id || age < LIVE_MS) live++;
        else if (age > FORGET_MS) gone.push(row.rowKey);
        if (row.rowKey === this.id || age < RECENT_MS) recent++;
      }
      this.live = Math.max(1, live);
      this.recent = Math.max(1, recent);
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
