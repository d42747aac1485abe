import { TABLES, type StorageClients } from "./clients";
import { isConflict, isNotFound, isPreconditionFailed, safeKey } from "./table";

/** The gate's row in the issue's `cards` partition (read by `LiveCards.listWithGate` with the live cards). */
export interface RefreshStateEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  lastRunAt: string;
  /** Refreshes already queued (a trailing one, retries of throttled copies) for these times: ISO times, comma-separated. */
  scheduledFor?: string;
  /** The start of the latest run that finished updating every copy: a trailing refresh due before it is redundant. */
  doneFrom?: string;
  /** The start of the latest run that ended with copies left (held back, throttled): it is no longer going. */
  endedFrom?: string;
}

export type GateDecision =
  /** `previousRunAt`: when the run before this one started (the issue is still changing if that was recently). */
  { kind: "run"; startedAt: string; previousRunAt?: string } | { kind: "defer"; delaySeconds: number; trailingFor: string } | { kind: "drop" };

export const REFRESH_GATE_ROW = "~refresh";
const ROW = REFRESH_GATE_ROW;
/**
 * A refresh queued for later than this from now has certainly not started: clocks of instances and of the queue
 * service differ by less. (A queued message becomes visible at its time by the queue's clock.)
 */
const NOT_STARTED_MARGIN_MS = 1000;
/** A run that started this long ago and never recorded itself done belonged to an instance that died. */
const UNFINISHED_RUN_MS = 60_000;
/** A pending refresh due this little after the one wanted still counts as covering it. */
const PENDING_SLACK_MS = 2000;

/**
 * Coalesces card refreshes per issue: the first change of a burst refreshes at once, every later one
 * within the window folds into a single trailing refresh at the window's end. So a burst of N changes
 * costs each copy at most two updates, and the second shows the final state (OnCall's bug #5088:
 * 100k queued update tasks).
 */
export class RefreshGate {
  constructor(
    private readonly storage: StorageClients,
    private readonly windowMs: number,
  ) {}

  /**
   * `trailingFor`: this is the trailing refresh scheduled for that moment. It runs unless the gate's row proves
   * its work was done: a run that started at or after that moment and finished (`done`). A run recorded as started
   * proves nothing (its instance may have died before updating the copies), nor does a forgotten row.
   */
  async enter(issueId: string, options: { trailingFor?: string; now?: number } = {}): Promise<GateDecision> {
    const now = options.now ?? Date.now();
    const run: GateDecision = { kind: "run", startedAt: new Date(now).toISOString() };
    if (this.windowMs === 0) return run;
    const table = await this.storage.table(TABLES.cards);
    const keys = { partitionKey: safeKey(issueId), rowKey: ROW };
    for (let attempt = 0; attempt < 5; attempt++) {
      let row: RefreshStateEntity | undefined;
      try {
        row = await table.getEntity<RefreshStateEntity>(keys.partitionKey, keys.rowKey);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      const ran = row ? Date.parse(row.lastRunAt) : 0;
      try {
        if (options.trailingFor && row?.doneFrom && row.doneFrom >= options.trailingFor) return { kind: "drop" };
        const lastRunEnded = row?.endedFrom !== undefined && row.endedFrom >= row.lastRunAt;
        if (options.trailingFor && row && row.lastRunAt >= options.trailingFor && now - ran < UNFINISHED_RUN_MS && !lastRunEnded) {
          // A run that started after this one's time is still going: look again once it must have finished,
          // and drop then if it did (it updated every copy), run if it didn't (its instance died).
          return { kind: "defer", delaySeconds: Math.ceil(this.windowMs / 1000), trailingFor: options.trailingFor };
        }
        if (options.trailingFor && row && now >= ran && now - ran < this.windowMs) {
          // A retry (throttled copies) due within a run's window waits for the window's end like a change does, so
          // a copy is never updated more than twice within one window.
          return { kind: "defer", delaySeconds: Math.max(1, Math.ceil((ran + this.windowMs - now) / 1000)), trailingFor: options.trailingFor };
        }
        if (!row) {
          await table.createEntity<RefreshStateEntity>({ ...keys, lastRunAt: run.startedAt });
          return run;
        }
        const kept = { ...(row.doneFrom ? { doneFrom: row.doneFrom } : {}), ...(row.endedFrom ? { endedFrom: row.endedFrom } : {}) };
        if (now - ran >= this.windowMs || options.trailingFor) {
          const still = pendingOf(row, now);
          const pending = still.length ? { scheduledFor: still.join(",") } : {};
          await table.updateEntity<RefreshStateEntity>({ ...keys, lastRunAt: run.startedAt, ...kept, ...pending }, "Replace", { etag: row.etag });
          return { ...run, previousRunAt: row.lastRunAt };
        }
        const trailing = ran + this.windowMs;
        // A trailing refresh still to come covers this change. One whose time has passed is late, or was lost
        // with the instance that scheduled it: schedule another (if both arrive, the second finds the work done).
        // A retry pending for much later (copies throttled) doesn't cover it: the other copies shouldn't wait that long.
        if (covers(pendingOf(row, now), trailing)) return { kind: "drop" };
        const trailingFor = new Date(trailing).toISOString();
        const scheduledFor = [...pendingOf(row, now), trailingFor].sort().join(",");
        await table.updateEntity<RefreshStateEntity>({ ...keys, lastRunAt: row.lastRunAt, scheduledFor, ...kept }, "Replace", { etag: row.etag });
        return { kind: "defer", delaySeconds: Math.max(1, Math.ceil((trailing - now) / 1000)), trailingFor };
      } catch (error) {
        // Another instance moved first (wrote the row, or forgot it): look again.
        if (!isConflict(error) && !isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
    }
    // Still contended after five looks: run rather than risk losing the change.
    return run;
  }

  /**
   * Whether a change already stored is certain to be shown by a refresh already queued and not yet started (so
   * none need be queued for it): the test `enter` makes to drop a change's refresh, taken before sending it.
   * `row`: the gate's row as just read, if any.
   */
  pendingRunCovers(row: RefreshStateEntity | undefined, now = Date.now()): boolean {
    if (!row || this.windowMs === 0) return false;
    const ran = Date.parse(row.lastRunAt);
    if (!(now >= ran && now - ran < this.windowMs)) return false;
    return covers(pendingOf(row, now + NOT_STARTED_MARGIN_MS), ran + this.windowMs);
  }

  /**
   * A run must come back in `delaySeconds` (copies throttled, or held back). Keeps at most one such refresh pending
   * per issue: when one is already queued for no later than that, it will render the latest state and this one is
   * not needed (undefined). Otherwise returns the `trailingFor` of the refresh to queue, recorded on the gate's row
   * once queued (`scheduled`), so that the next run finds it.
   */
  async pendingFor(issueId: string, delaySeconds: number, now = Date.now()): Promise<string | undefined> {
    const table = await this.storage.table(TABLES.cards);
    const due = now + delaySeconds * 1000;
    try {
      const row = await table.getEntity<RefreshStateEntity>(safeKey(issueId), ROW);
      if (covers(pendingOf(row, now), due)) return undefined;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return new Date(due).toISOString();
  }

  /**
   * The refresh for `trailingFor` is on the queue (sent before it is recorded: a crash between leaves one too many,
   * never none). `endedRun`: the start of the run that queued it, which ends here with copies left.
   */
  async scheduled(issueId: string, trailingFor: string, endedRun?: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    const keys = { partitionKey: safeKey(issueId), rowKey: ROW };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        let row: RefreshStateEntity | undefined;
        try {
          row = await table.getEntity<RefreshStateEntity>(keys.partitionKey, keys.rowKey);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
        if (!row) {
          await table.createEntity<RefreshStateEntity>({ ...keys, lastRunAt: new Date(0).toISOString(), scheduledFor: trailingFor });
          return;
        }
        const scheduledFor = [...pendingOf(row, Date.now()).filter((t) => t !== trailingFor), trailingFor].sort().join(",");
        const ended = endedRun && !(row.endedFrom && row.endedFrom >= endedRun) ? { endedFrom: endedRun } : {};
        await table.updateEntity({ partitionKey: keys.partitionKey, rowKey: keys.rowKey, scheduledFor, ...ended }, "Merge", { etag: row.etag });
        return;
      } catch (error) {
        if (!isConflict(error) && !isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
    }
  }

  /**
   * The run that started at `startedAt` ended with copies left, relying on a refresh already pending: that one, when
   * it comes, must not wait for this run as if it were still going. One blind write: an older run's mark landing
   * over a newer one's only makes a pending refresh wait as it would have anyway.
   */
  async ended(issueId: string, startedAt: string): Promise<void> {
    if (this.windowMs === 0) return;
    const table = await this.storage.table(TABLES.cards);
    try {
      await table.updateEntity({ partitionKey: safeKey(issueId), rowKey: ROW, endedFrom: startedAt }, "Merge");
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** The run that started at `startedAt` brought every copy up to date. */
  async done(issueId: string, startedAt: string): Promise<void> {
    if (this.windowMs === 0) return;
    const table = await this.storage.table(TABLES.cards);
    for (let attempt = 0; attempt < 5; attempt++) {
      let row: RefreshStateEntity;
      try {
        row = await table.getEntity<RefreshStateEntity>(safeKey(issueId), ROW);
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      if (row.doneFrom && row.doneFrom >= startedAt) return;
      try {
        await table.updateEntity({ partitionKey: row.partitionKey, rowKey: row.rowKey, doneFrom: startedAt }, "Merge", { etag: row.etag });
        return;
      } catch (error) {
        if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
    }
  }

  /**
   * A run that had nothing to update (no copies yet, or all current) shouldn't hold back the next change:
   * forget it. A trailing refresh already queued still arrives and runs (`enter` never drops one).
   */
  async forget(issueId: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    try {
      await table.deleteEntity(safeKey(issueId), ROW);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

/** The refreshes recorded as queued that are still to come. */
function pendingOf(row: RefreshStateEntity, now: number): string[] {
  return (row.scheduledFor ?? "").split(",").filter((time) => time && Date.parse(time) > now);
}

/** A refresh still to come, due no later than `due` (give or take PENDING_SLACK_MS), renders the latest state in time. */
function covers(pending: string[], due: number): boolean {
  return pending.some((time) => Date.parse(time) <= due + PENDING_SLACK_MS);
}
