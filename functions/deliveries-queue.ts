import type { InvocationContext } from "@azure/functions";
import { deliveryMessageSchema } from "../shared/delivery/deliveries";
import { getRuntime } from "../shared/runtime";
import { deliver } from "../shared/workflows/deliver";

/** `deliveries` queue: one card post per message. */
export async function deliveriesQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = deliveryMessageSchema.safeParse(message);
  if (!parsed.success) {
    // Our own queue: a malformed message is a bug; dropping it beats five identical failures.
    context.error(`Delivery message malformed at ${parsed.error.issues[0]?.path.join(".")}: dropped`);
    return;
  }
  const { config, storage, teams, slackTokens } = getRuntime();
  const result = await deliver({ config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) }, parsed.data);
  context.log(`Delivery ${parsed.data.targetKey} of ${parsed.data.alertId}: ${result}`);
}
