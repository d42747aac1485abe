import type { StorageClients } from "../../storage/clients";
import { forgetDelivery, recordFirstDelivery } from "../../storage/events";
import { SlackInstallations } from "../../storage/slack-installations";
import type { EventEnvelope } from "../../slack/payloads";

export type EventReply = { status: number; body?: unknown };

/** Events API: answer the URL check, deduplicate Slack's retries by event_id, and act on uninstalls. */
export async function handleSlackEvent(deps: { storage: StorageClients; log: (line: string) => void }, envelope: EventEnvelope): Promise<EventReply> {
  if (envelope.type === "url_verification") return { status: 200, body: { challenge: envelope.challenge } };
  if (envelope.type !== "event_callback") return { status: 200 };
  if (!(await recordFirstDelivery(deps.storage, "slack", envelope.event_id))) {
    deps.log(`Slack event ${envelope.event_id} already handled (retry)`);
    return { status: 200 };
  }
  const event = envelope.event;
  if (event.bot_id || event.subtype === "bot_message") return { status: 200 };
  try {
    await act(deps, envelope);
  } catch (error) {
    // Let Slack's retry do it again: the event is only "handled" once it was.
    await forgetDelivery(deps.storage, "slack", envelope.event_id);
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
