import type { StorageClients } from "../storage/clients";
import { TABLES } from "../storage/clients";
import { safeKey } from "../delivery/deliveries";
import { isConflict } from "../storage/errors";
import { SlackInstallations } from "./installations";
import type { EventEnvelope } from "./payloads";

export type EventReply = { status: number; body?: unknown };

/** Events API: answer the URL check, deduplicate Slack's retries by event_id, and act on uninstalls. */
export async function handleSlackEvent(deps: { storage: StorageClients; log: (line: string) => void }, envelope: EventEnvelope): Promise<EventReply> {
  if (envelope.type === "url_verification") return { status: 200, body: { challenge: envelope.challenge } };
  if (envelope.type !== "event_callback") return { status: 200 };
  if (!(await firstDelivery(deps.storage, envelope.event_id))) {
    deps.log(`Slack event ${envelope.event_id} already handled (retry)`);
    return { status: 200 };
  }
  const event = envelope.event;
  if (event.bot_id || event.subtype === "bot_message") return { status: 200 };
  try {
    await act(deps, envelope);
  } catch (error) {
    // Let Slack's retry do it again: the event is only "handled" once it was.
    await forgetDelivery(deps.storage, envelope.event_id);
    throw error;
  }
  return { status: 200 };
}

async function act(
  deps: { storage: StorageClients; log: (line: string) => void },
  envelope: Extract<EventEnvelope, { type: "event_callback" }>,
): Promise<void> {
  const event = envelope.event;
  switch (event.type) {
    case "app_uninstalled":
      await new SlackInstallations(deps.storage).deactivate(envelope.team_id, "app uninstalled");
      deps.log(`Slack workspace ${envelope.team_id}: app uninstalled, deliveries stopped`);
      break;
    case "tokens_revoked": {
      const revoked = (event as { tokens?: { bot?: string[] } }).tokens;
      if (!revoked || (revoked.bot?.length ?? 0) > 0) {
        await new SlackInstallations(deps.storage).deactivate(envelope.team_id, "tokens revoked");
        deps.log(`Slack workspace ${envelope.team_id}: bot token revoked, deliveries stopped`);
      }
      break;
    }
  }
}

function eventKey(eventId: string): string {
  return `slack:${safeKey(eventId)}`;
}

async function forgetDelivery(storage: StorageClients, eventId: string): Promise<void> {
  const table = await storage.table(TABLES.events);
  await table.deleteEntity(eventKey(eventId), "").catch(() => undefined);
}

/** Records the event id; false when it was already recorded (Slack retried a slow or failed ack). */
async function firstDelivery(storage: StorageClients, eventId: string): Promise<boolean> {
  const table = await storage.table(TABLES.events);
  try {
    await table.createEntity({ partitionKey: eventKey(eventId), rowKey: "", receivedAt: new Date().toISOString() });
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}
