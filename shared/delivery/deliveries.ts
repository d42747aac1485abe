import { createHash } from "node:crypto";
import { z } from "zod";
import { alertTargetSchema, type AlertTarget } from "../domain/alert";
import { TABLES, type StorageClients } from "../storage/clients";
import { isConflict, isNotFound, isPreconditionFailed } from "../storage/errors";
import { stripUndefined } from "../storage/issues";

/** `sending`: one consumer took this delivery (conditional write) and is posting it right now. */
export type DeliveryState = "pending" | "sending" | "sent" | "dead";

export interface DeliveryRow {
  alertId: string;
  targetKey: string;
  issueId: string;
  target: AlertTarget;
  state: DeliveryState;
  /** The delivery message is on the queue (set after the send succeeded, so a crash re-sends). */
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
  etag?: string;
}

/** The message on the `deliveries` queue: one post of one alert's issue to one target. */
export const deliveryMessageSchema = z.object({
  alertId: z.string().min(1),
  issueId: z.string().min(1),
  targetKey: z.string().min(1),
  target: alertTargetSchema,
  /** Post a new card even where one is live: the issue came back, or got worse. */
  notify: z.enum(["regressed", "level-rose"]).optional(),
});
export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;
/** The message without its target checked: a target stored before today's id grammar can still arrive. */
export const deliveryEnvelopeSchema = deliveryMessageSchema.extend({ target: z.unknown() });

interface DeliveryEntity {
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
}

/**
 * Table keys cannot hold / \ # ? or control characters: those (and %) are percent-encoded as UTF-8, so
 * `decodeURIComponent` always reverses it. Total: an unpaired surrogate (refused at every edge) becomes U+FFFD
 * rather than throwing.
 */
export function safeKey(value: string): string {
  return value.toWellFormed().replace(/[/\\#?%\u0000-\u001f\u007f-\u009f]/g, (c: string) => encodeURIComponent(c).toLowerCase());
}

/**
 * How a target appears in logs: channels by id, people never by email or object id but by the kind of target
 * and a stable hash of its key (the same person gives the same hash, so log lines can still be followed).
 */
export function targetLabel(targetKey: string): string {
  const person = /^(msteams:|slack:[^:]+:)(email|user):/.exec(targetKey);
  if (!person) return targetKey;
  const hash = createHash("sha256").update(targetKey).digest("hex").slice(0, 12);
  return `${person[1]}person#${hash}`;
}

/** The delivery's name on the platform (Slack message metadata): stable per alert × target, no personal data. */
export function deliveryId(alertId: string, targetKey: string): string {
  return createHash("sha256").update(`${alertId}\n${targetKey}`).digest("base64url").slice(0, 22);
}

export class DeliveryRepository {
  constructor(private readonly storage: StorageClients) {}

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
    const table = await this.storage.table(TABLES.deliveries);
    try {
      return fromEntity(await table.getEntity<DeliveryEntity>(safeKey(alertId), safeKey(targetKey)));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async update(
    alertId: string,
    targetKey: string,
    changes: Partial<
      Pick<DeliveryRow, "state" | "enqueued" | "attempts" | "unconfirmed" | "reposted" | "messageRef" | "reason" | "decision" | "sendingSince">
    >,
  ): Promise<void> {
    const table = await this.storage.table(TABLES.deliveries);
    await table.updateEntity(
      stripUndefined({ partitionKey: safeKey(alertId), rowKey: safeKey(targetKey), ...changes }),
      "Merge",
    );
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
    etag: entity.etag,
  });
}
