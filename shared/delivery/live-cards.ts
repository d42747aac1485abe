import { TABLES, type StorageClients } from "../storage/clients";
import { isConflict, isNotFound, isPreconditionFailed } from "../storage/errors";
import { safeKey } from "./deliveries";

/**
 * "Which card for this issue is live in this target?" One row per issue × target, claimed with a
 * conditional create, so of many alerts for one issue arriving at once exactly one posts a card and the
 * others update it (Sentry posts a new message every time; peers.md).
 */
interface LiveCardEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  state: "posting" | "posted";
  alertId: string;
  claimedAt: string;
  messageRef?: string;
  postedAt?: string;
}

export type Claim =
  | { kind: "post"; because: "first" | "regressed" | "level-rose" | "renotify" | "retry" | "stale-claim" }
  | { kind: "update-existing"; messageRef: string }
  | { kind: "merged"; intoAlertId: string };

/** A claim not turned into a card within this long belonged to an instance that died. */
const STALE_CLAIM_MS = 10 * 60_000;
export const LIVE_ROW_PREFIX = "~live:";

export class LiveCards {
  constructor(private readonly storage: StorageClients) {}

  async claim(
    issueId: string,
    targetKey: string,
    alertId: string,
    options: { notify?: "regressed" | "level-rose"; renotifyAfterMs: number; now?: number },
  ): Promise<Claim> {
    const table = await this.storage.table(TABLES.cards);
    const now = options.now ?? Date.now();
    const keys = { partitionKey: safeKey(issueId), rowKey: `${LIVE_ROW_PREFIX}${safeKey(targetKey)}` };
    const mine: LiveCardEntity = { ...keys, state: "posting", alertId, claimedAt: new Date(now).toISOString() };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await table.createEntity(mine);
        return { kind: "post", because: "first" };
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      let row: LiveCardEntity;
      try {
        row = await table.getEntity<LiveCardEntity>(keys.partitionKey, keys.rowKey);
      } catch (error) {
        if (isNotFound(error)) continue; // released meanwhile: try to create again
        throw error;
      }
      let because: Extract<Claim, { kind: "post" }>["because"] | undefined;
      if (row.state === "posting") {
        if (row.alertId === alertId) return { kind: "post", because: "retry" };
        if (now - Date.parse(row.claimedAt) < STALE_CLAIM_MS) return { kind: "merged", intoAlertId: row.alertId };
        because = "stale-claim";
      } else if (options.notify) {
        because = options.notify;
      } else if (now - Date.parse(row.postedAt ?? row.claimedAt) > options.renotifyAfterMs) {
        because = "renotify";
      } else {
        return { kind: "update-existing", messageRef: row.messageRef ?? "" };
      }
      try {
        await table.updateEntity(mine, "Replace", { etag: row.etag });
        return { kind: "post", because };
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error; // someone else moved first: look again
      }
    }
    throw new Error("live card claim kept conflicting");
  }

  async posted(issueId: string, targetKey: string, messageRef: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.updateEntity(
      { partitionKey: safeKey(issueId), rowKey: `${LIVE_ROW_PREFIX}${safeKey(targetKey)}`, state: "posted", messageRef, postedAt: new Date().toISOString() },
      "Merge",
    );
  }

  /** Forget the live card (it can't be posted, or it was deleted): the next alert posts a new one. */
  async release(issueId: string, targetKey: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    try {
      await table.deleteEntity(safeKey(issueId), `${LIVE_ROW_PREFIX}${safeKey(targetKey)}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
