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

interface DeliveryEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  issueId: string;
  target: string;
  state: DeliveryState;
  enqueued: boolean;
  attempts: number;
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
    changes: Partial<Pick<DeliveryRow, "state" | "enqueued" | "attempts" | "messageRef" | "reason" | "decision" | "sendingSince">>,
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
   */
  async take(row: DeliveryRow, attempt: number): Promise<boolean> {
    const table = await this.storage.table(TABLES.deliveries);
    try {
      await table.updateEntity(
        { partitionKey: safeKey(row.alertId), rowKey: safeKey(row.targetKey), state: "sending", attempts: attempt, sendingSince: new Date().toISOString() },
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
    messageRef: entity.messageRef,
    reason: entity.reason,
    decision: entity.decision,
    sendingSince: entity.sendingSince,
    etag: entity.etag,
  });
}
