import type { InvocationContext } from "@azure/functions";
import { deliveryMessageSchema, targetLabel } from "../shared/delivery/deliveries";
import { getRuntime } from "../shared/runtime";
import { deliver } from "../shared/workflows/deliver";

/** `deliveries` queue: one card post per message. */
export async function deliveriesQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = deliveryMessageSchema.safeParse(message);
  if (!parsed.success) {
    // Only our own code writes this queue: a malformed message is a bug. Throwing lets the host retry it and
    // then keep it on deliveries-poison for people to inspect, rather than dropping it.
    throw new Error(`delivery message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  const { config, storage, teams, slackTokens } = getRuntime();
  const result = await deliver({ config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) }, parsed.data);
  context.log(`Delivery ${targetLabel(parsed.data.targetKey)} of ${parsed.data.alertId}: ${result}`);
}
