import type { Status } from "../domain/issue";
import { REFRESH_GATE_ROW, type RefreshStateEntity } from "./refresh-gate";
import type { TransactionAction } from "@azure/data-tables";
import { TABLES, type StorageClients } from "./clients";
import { isConflict, isNotFound, isPreconditionFailed, escapeOData, safeKey, submitInChunks } from "./table";

/**
 * "Which card for this issue is live in this target?" One row per issue × target in the issue's `cards`
 * partition, claimed with a conditional write, so of many alerts for one issue arriving at once exactly one
 * posts a card and the others update it (Sentry posts a new message every time; peers.md).
 */
type LiveCardEntity = {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  state: "posting" | "posted";
  alertId: string;
  claimedAt: string;
  messageRef?: string;
  postedAt?: string;
};

/** A live-card row as read: where the issue's card in one target stands. */
export interface LiveCard {
  targetKey: string;
  state: "posting" | "posted";
  alertId: string;
  claimedAt: string;
  messageRef?: string;
  postedAt?: string;
  etag?: string;
}

export type PostReason = "first" | "regressed" | "level-rose" | "renotify" | "retry" | "stale-claim";

export type Claim =
  | { kind: "post"; because: PostReason }
  | { kind: "update-existing"; messageRef: string }
  | { kind: "merged"; intoAlertId: string }
  /** No card in the target, and none is posted: the issue is ignored or resolved. */
  | { kind: "silenced"; status: Exclude<Status, "unresolved"> };

export interface LiveCardPolicy {
  /** Post a new card even where one is live: the issue came back, or got worse. */
  notify?: "regressed" | "level-rose";
  renotifyAfterMs: number;
  /** The issue's status with this alert applied (as stored when deciding): ignored or resolved, it posts no new card. */
  status: Status;
  now?: number;
}

/**
 * A claim not turned into a card within this long belonged to an instance that died (its delivery message lost).
 * Each try of the delivery claims it afresh, so this outlasts the longest wait between two tries, a first post's
 * slow retry (10–15 minutes, delivery/retry-policy.ts): a claim gone stale between them let another alert post a
 * card beside the one still being retried.
 */
export const STALE_CLAIM_MS = 20 * 60_000;
export const LIVE_ROW_PREFIX = "~live:";

/**
 * Whether this alert must post a card in a target, given the target's live-card row (none: no card there).
 * The one rule both the alert planner and the deliverer's claim apply, so they can't disagree.
 *
 * An ignored or resolved issue posts no new card over a live one: the live card is updated by the card refresh
 * instead (even past RENOTIFY_HOURS or when the level rose). A target with no card gets none while the issue is
 * ignored (subscribed since, or its claim died), as Sentry sends nothing for an archived issue; it still gets the
 * first card of a resolved one, so an incident that fired and recovered before its card went out is seen. This
 * alert's own claim is always posted: its card may already be out (an attempt that got no answer), and left
 * unposted the claim would hold later alerts off the target (merged) until it went stale.
 */
export function liveCardDecision(live: LiveCard | undefined, alertId: string, policy: LiveCardPolicy): Claim {
  const claim = decisionForAnyStatus(live, alertId, policy);
  if (policy.status === "unresolved" || claim.kind !== "post" || claim.because === "retry") return claim;
  if (live?.state === "posted") return { kind: "update-existing", messageRef: live.messageRef ?? "" };
  return policy.status === "resolved" ? claim : { kind: "silenced", status: policy.status };
}

function decisionForAnyStatus(live: LiveCard | undefined, alertId: string, policy: LiveCardPolicy): Claim {
  const now = policy.now ?? Date.now();
  if (!live) return { kind: "post", because: "first" };
  if (live.state === "posting") {
    if (live.alertId === alertId) return { kind: "post", because: "retry" };
    if (now - Date.parse(live.claimedAt) < STALE_CLAIM_MS) return { kind: "merged", intoAlertId: live.alertId };
    return { kind: "post", because: "stale-claim" };
  }
  // This alert's own card, recorded: its delivery is being redone after a crash, and there is nothing to post.
  if (live.alertId === alertId) return { kind: "update-existing", messageRef: live.messageRef ?? "" };
  if (policy.notify) return { kind: "post", because: policy.notify };
  if (now - Date.parse(live.postedAt ?? live.claimedAt) > policy.renotifyAfterMs) return { kind: "post", because: "renotify" };
  return { kind: "update-existing", messageRef: live.messageRef ?? "" };
}

/**
 * Whether a card of the issue was ever posted in any of these targets (`rows`: all the issue's live-card rows). None:
 * every row is a claim of a first card still being posted, whose deliverer reads the issue after recording the card
 * and refreshes it if the issue moved on (`refreshIfOutdated`), so a change needs no refresh of its own.
 */
export function anyCardPosted(rows: Map<string, LiveCard>): boolean {
  return [...rows.values()].some((row) => row.state === "posted" || row.postedAt !== undefined);
}

const liveRowKey = (targetKey: string) => `${LIVE_ROW_PREFIX}${safeKey(targetKey)}`;

/**
 * A card just posted in a target by this alert: the write that makes it the live one (it goes in the issue's
 * `cards` transaction with the copy's row). An upsert, so it can't fail on a row released meanwhile.
 */
export function livePostedAction(
  issueId: string,
  targetKey: string,
  alertId: string,
  messageRef: string,
  postedAt = new Date().toISOString(),
): TransactionAction {
  return ["upsert", { partitionKey: safeKey(issueId), rowKey: liveRowKey(targetKey), state: "posted", alertId, messageRef, postedAt }, "Merge"];
}

/** Forget the live card of a target (it can't be posted): the next alert posts a new one. */
export function liveReleaseAction(issueId: string, targetKey: string): TransactionAction {
  return ["delete", { partitionKey: safeKey(issueId), rowKey: liveRowKey(targetKey) }];
}

export class LiveCards {
  constructor(private readonly storage: StorageClients) {}

  /** Every live-card row of the issue: one query on its `cards` partition. */
  async list(issueId: string): Promise<Map<string, LiveCard>> {
    return (await this.listWithGate(issueId)).live;
  }

  /** `list`, and the issue's refresh gate row (whether a card refresh is pending) in the same query. */
  async listWithGate(issueId: string): Promise<{ live: Map<string, LiveCard>; gate?: RefreshStateEntity }> {
    const table = await this.storage.table(TABLES.cards);
    const live = new Map<string, LiveCard>();
    let gate: RefreshStateEntity | undefined;
    const partition = escapeOData(safeKey(issueId));
    for await (const entity of table.listEntities<LiveCardEntity | RefreshStateEntity>({
      queryOptions: {
        filter: `PartitionKey eq '${partition}' and ((RowKey ge '${LIVE_ROW_PREFIX}' and RowKey lt '~live;') or RowKey eq '${REFRESH_GATE_ROW}')`,
      },
    })) {
      if (entity.rowKey === REFRESH_GATE_ROW) {
        gate = entity as RefreshStateEntity;
        continue;
      }
      const card = fromEntity(entity as LiveCardEntity);
      live.set(card.targetKey, card);
    }
    return { live, gate };
  }

  /** Claims the issue's card in one target for this alert (see `claimMany`). */
  async claim(issueId: string, targetKey: string, alertId: string, policy: LiveCardPolicy): Promise<Claim> {
    return (await this.claimMany(issueId, [targetKey], alertId, policy)).get(targetKey)!;
  }

  /**
   * Claims the issue's card in each target for this alert, in one transaction in the issue's `cards` partition
   * (each row created, or replaced on its ETag). First it assumes no target has a row (a new issue, the usual
   * case for a delivery); when that fails, the rows are read and `liveCardDecision` settles each target. For an
   * ignored or resolved issue, which posts no first card, the rows are read first.
   * `known`: the rows as the caller read them, to start from instead (`"read"`: read them first).
   */
  async claimMany(
    issueId: string,
    targetKeys: string[],
    alertId: string,
    policy: LiveCardPolicy,
    start?: Map<string, LiveCard> | "read",
  ): Promise<Map<string, Claim>> {
    const table = await this.storage.table(TABLES.cards);
    const now = policy.now ?? Date.now();
    const partitionKey = safeKey(issueId);
    // A claim replacing a target's card keeps when that card was posted: a card was posted there (`anyCardPosted`).
    const mine = (targetKey: string, replacing?: LiveCard): LiveCardEntity => ({
      partitionKey,
      rowKey: liveRowKey(targetKey),
      state: "posting",
      alertId,
      claimedAt: new Date(now).toISOString(),
      ...(replacing?.postedAt ? { postedAt: replacing.postedAt } : {}),
    });
    // Assuming no rows is checked by the creates failing; an ignored or resolved issue creates none, so it reads them.
    const read = start === "read" || (start === undefined && policy.status !== "unresolved");
    let known = read ? await this.list(issueId) : start;
    for (let attempt = 0; attempt < 5; attempt++) {
      const claims = new Map<string, Claim>();
      const actions: TransactionAction[] = [];
      for (const targetKey of targetKeys) {
        const live = known?.get(targetKey);
        const claim = liveCardDecision(live, alertId, { ...policy, now });
        claims.set(targetKey, claim);
        if (claim.kind !== "post") continue;
        actions.push(live ? ["update", mine(targetKey, live), "Replace", { etag: live.etag }] : ["create", mine(targetKey)]);
      }
      try {
        await submitInChunks(table, actions);
        return claims;
      } catch (error) {
        // Someone else moved first (or a chunk went through before a later one failed): look again.
        if (!isConflict(error) && !isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
      known = await this.list(issueId);
      // A chunk that went through made some rows ours already: they decide "retry" (post) on the next round.
    }
    throw new Error("live card claim kept conflicting");
  }

  async posted(issueId: string, targetKey: string, alertId: string, messageRef: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.upsertEntity(livePostedAction(issueId, targetKey, alertId, messageRef)[1], "Merge");
  }

  /** Forget the live card (it can't be posted, or it was deleted): the next alert posts a new one. */
  async release(issueId: string, targetKey: string): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    try {
      await table.deleteEntity(safeKey(issueId), liveRowKey(targetKey));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

function fromEntity(entity: LiveCardEntity): LiveCard {
  return {
    targetKey: decodeURIComponent(entity.rowKey.slice(LIVE_ROW_PREFIX.length)),
    state: entity.state,
    alertId: entity.alertId,
    claimedAt: entity.claimedAt,
    ...(entity.messageRef !== undefined ? { messageRef: entity.messageRef } : {}),
    ...(entity.postedAt !== undefined ? { postedAt: entity.postedAt } : {}),
    ...(entity.etag !== undefined ? { etag: entity.etag } : {}),
  };
}
