import type { InvocationContext } from "@azure/functions";
import { IdentityRepository } from "../shared/identity/identities";
import { getRuntime } from "../shared/runtime";
import { handleBlockActions } from "../shared/slack/interactions";
import { blockActionsSchema, schemaFailure } from "../shared/slack/payloads";

/** `slack-actions` queue: clicks that needed Slack's API before they could be applied. */
export async function slackActionsQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = blockActionsSchema.safeParse(message);
  if (!parsed.success) throw new Error(`queued Slack click malformed at ${schemaFailure(parsed.error)}`);
  const { config, storage, slackTokens } = getRuntime();
  if (!slackTokens) throw new Error("a Slack click was queued but Slack is not configured");
  const app = { config, storage, slackTokens, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
  await handleBlockActions(app, parsed.data, "worker");
}
