import { TABLES, type StorageClients } from "./clients";
import { createIfAbsent, safeKey } from "./table";

/** Row key of a platform's event id in the `events` table. */
function eventKey(provider: string, eventId: string): string {
  return `${provider}:${safeKey(eventId)}`;
}

/** Records the event id; false when it was already recorded (the platform retried a slow or failed ack). */
export async function recordFirstDelivery(storage: StorageClients, provider: string, eventId: string): Promise<boolean> {
  const table = await storage.table(TABLES.events);
  return createIfAbsent(table, { partitionKey: eventKey(provider, eventId), rowKey: "", receivedAt: new Date().toISOString() });
}

/** Forgets the event id, so the platform's retry is handled again. */
export async function forgetDelivery(storage: StorageClients, provider: string, eventId: string): Promise<void> {
  const table = await storage.table(TABLES.events);
  await table.deleteEntity(eventKey(provider, eventId), "").catch(() => undefined);
}
