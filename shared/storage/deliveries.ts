import { createHash } from "node:crypto";
import type { TransactionAction } from "@azure/data-tables";
import { z } from "zod";
import { alertTargetSchema, type AlertTarget } from "../domain/alert";
import { QUEUE_MESSAGE_JSON_BYTES } from "../domain/queue-message";
import { TABLES, type StorageClients } from "./clients";
import { isConflict, isNotFound, isPreconditionFailed, stripUndefined, submitInChunks, getIfPresent, safeKey } from "./table";

/** `sending`: one consumer took this delivery (conditional write) and is posting it right now. */
/** A post takes seconds (10 s timeout, 2 s pacing); a "sending" row older than this belonged to a consumer that died. */
export const SENDING_STALE_MS = 60_000;

export type DeliveryState = "pending" | "sending" | "sent" | "dead";

export interface DeliveryRow {
  alertId: string;
  targetKey: string;
  issueId: string;
  target: AlertTarget;
  state: DeliveryState;
  /**
   * The delivery message is on the queue (set after the send succeeded, so a crash re-sends). Left false on rows
   * the alerts handler posts itself: a redelivered alert queues those still unfinished.
   */
  enqueued: boolean;
  attempts: number;
  /** Attempts whose outcome is unknown: no answer came (timeout), or the instance died while posting. */
  unconfirmed: number;
  /** Posts made without proof that an unconfirmed one hadn't landed: each may be a duplicate (at most 1). */
  reposted: number;
  messageRef?: string;
  reason?: string;
  decision?: string;
  sendingSince?: string;
  /** When the current run of real failures began (throttling is not one): a day of them and the delivery gives up. */
  failingSince?: string;
  etag?: string;
}

/** How the reason of a delivery that gave up begins (rows recorded before the slow retries say it too). */
export const GAVE_UP = "gave up after";

/**
 * Whether the delivery ended dead only because it kept failing, its platform never saying the target is gone:
 * the alert sent again tries it afresh. (A post withheld for fear of a duplicate, or a target gone, stays dead.)
 */
export function gaveUp(row: Pick<DeliveryRow, "state" | "reason">): boolean {
  return row.state === "dead" && (row.reason?.startsWith(GAVE_UP) ?? false);
}

const notifySchema = z.enum(["regressed", "level-rose"]).optional();
/** A paced retry's promised posting moment (epoch ms, see FailureVerdict.slotAt). */
const slotAtSchema = z.number().int().positive().optional();
/** The 429s in a row the platform answered this target's post with: one more without Retry-After waits longer. */
const throttlesSchema = z.number().int().positive().optional();

/** The first shape of a `deliveries` message: one post of one alert's issue to one target (still read: it may be in flight during a deploy). */
export const deliveryMessageSchema = z.object({
  alertId: z.string().min(1),
  issueId: z.string().min(1),
  targetKey: z.string().min(1),
  target: alertTargetSchema,
  /** Post a new card even where one is live: the issue came back, or got worse. */
  notify: notifySchema,
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;
/** The message without its target checked: a target stored before today's id grammar can still arrive. */
export const deliveryEnvelopeSchema = deliveryMessageSchema.extend({ target: z.unknown() });

/** The `deliveries` message: the posts of one alert's issue to its targets (those that need one). */
export const deliveryBatchSchema = z.object({
  alertId: z.string().min(1),
  issueId: z.string().min(1),
  targets: z.array(z.object({ targetKey: z.string().min(1), target: alertTargetSchema, slotAt: slotAtSchema, throttles: throttlesSchema })).min(1),
  notify: notifySchema,
  /** The planner claimed these targets' live cards for the alert (`LiveCards.claimMany`): the deliverer reads the claims first. */
  claimed: z.boolean().optional(),
});
export type DeliveryBatch = z.infer<typeof deliveryBatchSchema>;
/** At most this many targets per `deliveries` message: one invocation posts them, a few at a time. */
const TARGETS_PER_MESSAGE = 100;

/**
 * The `deliveries` messages that carry a batch: as many targets in each as fit a queue message (a long
 * conversation id makes a target several hundred bytes), and at most TARGETS_PER_MESSAGE.
 */
export function deliveryMessages(batch: DeliveryBatch): DeliveryBatch[] {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  const emptySize = bytes({ ...batch, targets: [] });
  const messages: DeliveryBatch[] = [];
  let targets: DeliveryBatch["targets"] = [];
  let size = emptySize;
  for (const target of batch.targets) {
    const added = bytes(target) + (targets.length > 0 ? 1 : 0);
    if (targets.length > 0 && (size + added > QUEUE_MESSAGE_JSON_BYTES || targets.length >= TARGETS_PER_MESSAGE)) {
      messages.push({ ...batch, targets });
      targets = [];
      size = emptySize;
    }
    size += bytes(target) + (targets.length > 0 ? 1 : 0);
    targets.push(target);
  }
  if (targets.length > 0) messages.push({ ...batch, targets });
  return messages;
}

const deliveryBatchEnvelopeSchema = deliveryBatchSchema.extend({
  targets: z.array(z.object({ targetKey: z.string().min(1), target: z.unknown(), slotAt: slotAtSchema, throttles: throttlesSchema })).min(1),
});

export type ReadDelivery = { ok: true; batch: DeliveryBatch; invalid: { targetKey: string; reason: string }[] } | { ok: false; path: string };

/**
 * Either shape of a `deliveries` message, as a batch of the targets it can post to, plus the targets no
 * platform accepts (a subscription stored before the id grammar): those are recorded dead, not thrown.
 */
export function readDeliveryMessage(message: unknown): ReadDelivery {
  const single = deliveryEnvelopeSchema.safeParse(message);
  const envelope = single.success
    ? { ...single.data, targets: [{ targetKey: single.data.targetKey, target: single.data.target }] }
    : deliveryBatchEnvelopeSchema.safeParse(message);
  if ("success" in envelope && !envelope.success) {
    const problem = (single.error?.issues.length ?? 0) <= envelope.error.issues.length ? single.error! : envelope.error;
    return { ok: false, path: problem.issues[0]?.path.join(".") || "(root)" };
  }
  const data = "success" in envelope ? envelope.data! : envelope;
  const targets: DeliveryBatch["targets"] = [];
  const invalid: { targetKey: string; reason: string }[] = [];
  for (const { targetKey, target, slotAt, throttles } of data.targets as {
    targetKey: string;
    target: unknown;
    slotAt?: number;
    throttles?: number;
  }[]) {
    const parsed = alertTargetSchema.safeParse(target);
    if (parsed.success) targets.push({ targetKey, target: parsed.data, ...(slotAt ? { slotAt } : {}), ...(throttles ? { throttles } : {}) });
    else
      invalid.push({
        targetKey,
        reason: parsed.error.issues.map((issue) => `target.${issue.path.join(".")}: ${issue.message}`.replace(/\.:/, ":")).join("; "),
      });
  }
  const claimed = "claimed" in data && data.claimed === true;
  return {
    ok: true,
    batch: stripUndefined({ alertId: data.alertId, issueId: data.issueId, targets, notify: data.notify, ...(claimed ? { claimed } : {}) }),
    invalid,
  };
}

type DeliveryEntity = {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  issueId: string;
  target: string;
  state: DeliveryState;
  enqueued: boolean;
  attempts: number;
  unconfirmed?: number;
  reposted?: number;
  messageRef?: string;
  reason?: string;
  decision?: string;
  sendingSince?: string;
  failingSince?: string;
};

/**
 * How a target appears in logs: channels by id, people never by email or object id but by the kind of target
 * and a stable hash of its key (the same person gives the same hash, so log lines can still be followed).
 */
export function targetLabel(targetKey: string): string {
  const person = /^(msteams:|(?:slack|discord):[^:]+:)(email|user):/.exec(targetKey);
  if (!person) return targetKey;
  const hash = createHash("sha256").update(targetKey).digest("hex").slice(0, 12);
  return `${person[1]}person#${hash}`;
}

/** The delivery's name on the platform (Slack message metadata): stable per alert × target, no personal data. */
export function deliveryId(alertId: string, targetKey: string): string {
  return createHash("sha256").update(`${alertId}\n${targetKey}`).digest("base64url").slice(0, 22);
}

export type DeliveryChanges = Partial<
  Pick<
    DeliveryRow,
    "state" | "enqueued" | "attempts" | "unconfirmed" | "reposted" | "messageRef" | "reason" | "decision" | "sendingSince" | "failingSince"
  >
>;

/** A row to plan: pending (to post), or already decided (`sent`, with the decision: a live card is updated instead). */
export interface PlannedDelivery {
  targetKey: string;
  target: AlertTarget;
  decided?: { decision: string; messageRef?: string };
}

export class DeliveryRepository {
  constructor(private readonly storage: StorageClients) {}

  /**
   * Creates the alert's delivery rows in one transaction (one partition: the alert; chunks of 100). When the
   * alert was planned before (a redelivery), the rows already there are kept as they are and returned; only
   * the missing ones are created. `known`: the alert's rows as the caller read them, to start from. `afresh`: the
   * targets whose delivery gave up (`gaveUp`) to plan again, each replacing its row on the row's ETag; the counts of
   * posts whose outcome is unknown stay, so the "exactly once" rule still holds across them.
   * `created`: the targets whose rows this call wrote.
   */
  async planMany(
    alertId: string,
    issueId: string,
    planned: PlannedDelivery[],
    { known = new Map(), afresh = new Set() }: { known?: Map<string, DeliveryRow>; afresh?: Set<string> } = {},
  ): Promise<{ rows: DeliveryRow[]; created: Set<string> }> {
    const table = await this.storage.table(TABLES.deliveries);
    const entities = new Map(planned.map((p) => [p.targetKey, plannedEntity(alertId, issueId, p)]));
    let existing = known;
    for (let attempt = 0; ; attempt++) {
      const writes = new Map<string, TransactionAction>();
      for (const [key, entity] of entities) {
        const row = existing.get(key);
        if (!row) writes.set(key, ["create", entity]);
        else if (afresh.has(key) && gaveUp(row))
          writes.set(key, ["update", { ...entity, unconfirmed: row.unconfirmed, reposted: row.reposted }, "Replace", { etag: row.etag }]);
      }
      try {
        await submitInChunks(table, [...writes.values()]);
        return {
          rows: planned.map((p) => {
            const write = writes.get(p.targetKey);
            return write ? fromEntity(write[1] as DeliveryEntity) : existing.get(p.targetKey)!;
          }),
          created: new Set(writes.keys()),
        };
      } catch (error) {
        if (!(isConflict(error) || isPreconditionFailed(error)) || attempt >= 5) throw error;
      }
      existing = new Map((await this.listForAlert(alertId)).map((row) => [row.targetKey, row]));
    }
  }

  /** Records that the delivery messages of these rows are on the queue: one transaction. */
  async markEnqueued(alertId: string, targetKeys: string[]): Promise<void> {
    await this.updateMany(alertId, new Map(targetKeys.map((key) => [key, { enqueued: true }])));
  }

  /** Merges changes into several rows of one alert: one transaction (chunks of 100). */
  async updateMany(alertId: string, changes: Map<string, DeliveryChanges>): Promise<void> {
    const table = await this.storage.table(TABLES.deliveries);
    await submitInChunks(
      table,
      [...changes].map(([targetKey, change]) => [
        "update",
        stripUndefined({ partitionKey: safeKey(alertId), rowKey: safeKey(targetKey), ...change }),
        "Merge",
      ]),
    );
  }

  /**
   * Takes several deliveries of one alert for this attempt, in one transaction, each write conditional on its
   * row's ETag: of two copies of a message only one posts. False (nothing taken) when any row moved meanwhile.
   */
  async takeMany(takes: { row: DeliveryRow; attempt: number; unconfirmed: number }[]): Promise<boolean> {
    if (takes.length === 0) return true;
    const table = await this.storage.table(TABLES.deliveries);
    const sendingSince = new Date().toISOString();
    try {
      await submitInChunks(
        table,
        takes.map(({ row, attempt, unconfirmed }) => [
          "update",
          { partitionKey: safeKey(row.alertId), rowKey: safeKey(row.targetKey), state: "sending", attempts: attempt, unconfirmed, sendingSince },
          "Merge",
          { etag: row.etag },
        ]),
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) return false;
      throw error;
    }
  }

  /** Creates the pending row, or returns the row an earlier delivery of the same alert made. */
  async plan(alertId: string, issueId: string, targetKey: string, target: AlertTarget): Promise<DeliveryRow> {
    const table = await this.storage.table(TABLES.deliveries);
    const entity: DeliveryEntity = {
      partitionKey: safeKey(alertId),
      rowKey: safeKey(targetKey),
      issueId,
      target: JSON.stringify(target),
      state: "pending",
      enqueued: false,
      attempts: 0,
      unconfirmed: 0,
      reposted: 0,
    };
    try {
      await table.createEntity(entity);
      return fromEntity(entity);
    } catch (error) {
      if (!isConflict(error)) throw error;
      return (await this.get(alertId, targetKey))!;
    }
  }

  async get(alertId: string, targetKey: string): Promise<DeliveryRow | undefined> {
    const entity = await getIfPresent<DeliveryEntity>(await this.storage.table(TABLES.deliveries), safeKey(alertId), safeKey(targetKey));
    return entity && fromEntity(entity);
  }

  async update(
    alertId: string,
    targetKey: string,
    changes: Partial<
      Pick<DeliveryRow, "state" | "enqueued" | "attempts" | "unconfirmed" | "reposted" | "messageRef" | "reason" | "decision" | "sendingSince">
    >,
  ): Promise<void> {
    const table = await this.storage.table(TABLES.deliveries);
    await table.updateEntity(stripUndefined({ partitionKey: safeKey(alertId), rowKey: safeKey(targetKey), ...changes }), "Merge");
  }

  /**
   * Takes the delivery for this attempt: a conditional write on the row's ETag, so of two copies of one
   * queue message (queues deliver at least once) only one posts. False when another consumer moved first.
   * `unconfirmed`: the count to record, raised when the row shows an earlier consumer died while posting.
   */
  async take(row: DeliveryRow, attempt: number, unconfirmed = row.unconfirmed): Promise<boolean> {
    const table = await this.storage.table(TABLES.deliveries);
    try {
      await table.updateEntity(
        {
          partitionKey: safeKey(row.alertId),
          rowKey: safeKey(row.targetKey),
          state: "sending",
          attempts: attempt,
          unconfirmed,
          sendingSince: new Date().toISOString(),
        },
        "Merge",
        { etag: row.etag },
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }

  async listForAlert(alertId: string): Promise<DeliveryRow[]> {
    const table = await this.storage.table(TABLES.deliveries);
    const rows: DeliveryRow[] = [];
    for await (const entity of table.listEntities<DeliveryEntity>({
      queryOptions: { filter: `PartitionKey eq '${safeKey(alertId).replace(/'/g, "''")}'` },
    })) {
      rows.push(fromEntity(entity));
    }
    return rows;
  }
}

function plannedEntity(alertId: string, issueId: string, planned: PlannedDelivery): DeliveryEntity {
  return stripUndefined({
    partitionKey: safeKey(alertId),
    rowKey: safeKey(planned.targetKey),
    issueId,
    target: JSON.stringify(planned.target),
    state: planned.decided ? "sent" : "pending",
    // A decided row needs no message: as far as planning goes, it is done.
    enqueued: Boolean(planned.decided),
    attempts: 0,
    unconfirmed: 0,
    reposted: 0,
    decision: planned.decided?.decision,
    messageRef: planned.decided?.messageRef,
  });
}

function fromEntity(entity: DeliveryEntity): DeliveryRow {
  return stripUndefined({
    alertId: decodeURIComponent(entity.partitionKey),
    targetKey: decodeURIComponent(entity.rowKey),
    issueId: entity.issueId,
    target: JSON.parse(entity.target) as AlertTarget,
    state: entity.state,
    enqueued: entity.enqueued,
    attempts: Number(entity.attempts ?? 0),
    unconfirmed: Number(entity.unconfirmed ?? 0),
    reposted: Number(entity.reposted ?? 0),
    messageRef: entity.messageRef,
    reason: entity.reason,
    decision: entity.decision,
    sendingSince: entity.sendingSince,
    failingSince: entity.failingSince,
    etag: entity.etag,
  });
}
