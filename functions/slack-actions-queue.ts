import type { InvocationContext } from "@azure/functions";
import { zodPath } from "../shared/http";
import { IdentityRepository } from "../shared/storage/identities";
import { getRuntime } from "../shared/runtime";
import { finishQueuedClick, slackActionMessageSchema } from "../shared/inbound/slack/interactions";

/** `slack-actions` queue: clicks finished off Slack's 3-second path (they needed Slack's API, or more time). */
export async function slackActionsQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = slackActionMessageSchema.safeParse(message);
  if (!parsed.success) throw new Error(`queued Slack click malformed at ${zodPath(parsed.error)}`);
  const { config, storage, slackTokens } = getRuntime();
  if (!slackTokens) throw new Error("a Slack click was queued but Slack is not configured");
  const app = { config, storage, slackTokens, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
  await finishQueuedClick(app, parsed.data);
}
