import type { InvocationContext } from "@azure/functions";
import { deliveryEnvelopeSchema, deliveryMessageSchema, targetLabel } from "../shared/delivery/deliveries";
import { getRuntime } from "../shared/runtime";
import { deliver, refuseInvalidTarget } from "../shared/workflows/deliver";

/** `deliveries` queue: one card post per message. */
export async function deliveriesQueue(message: unknown, context: InvocationContext): Promise<void> {
  const { config, storage, teams, slackTokens } = getRuntime();
  const parsed = deliveryMessageSchema.safeParse(message);
  if (!parsed.success) {
    const envelope = deliveryEnvelopeSchema.safeParse(message);
    if (envelope.success) {
      const reason = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
      await refuseInvalidTarget(storage, envelope.data, reason);
      context.warn(`Delivery ${targetLabel(envelope.data.targetKey)} of ${envelope.data.alertId}: dead, ${reason}`);
      return;
    }
    // Only our own code writes this queue: a malformed message is a bug. Throwing lets the host retry it and
    // then keep it on deliveries-poison for people to inspect, rather than dropping it.
    throw new Error(`delivery message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  const result = await deliver({ config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) }, parsed.data);
  context.log(`Delivery ${targetLabel(parsed.data.targetKey)} of ${parsed.data.alertId}: ${result}`);
}
