import type { InvocationContext } from "@azure/functions";
import { zodPath } from "../shared/http";
import { withSlack } from "../shared/context";
import { appContext } from "../shared/runtime";
import { finishQueued, slackActionMessageSchema } from "../shared/inbound/slack/interactions";

/**
 * `slack-actions` queue: clicks finished off Slack's 3-second path (they needed Slack's API, or more time), the
 * channel checks `/triage subscribe` leaves for later, and the answers to people who mentioned the app.
 */
export async function slackActionsQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = slackActionMessageSchema.safeParse(message);
  if (!parsed.success) throw new Error(`queued Slack work malformed at ${zodPath(parsed.error)}`);
  const ctx = withSlack(appContext(context));
  if (!ctx) throw new Error("Slack work was queued but Slack is not configured");
  await finishQueued(ctx, parsed.data);
}
