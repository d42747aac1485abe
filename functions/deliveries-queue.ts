import type { InvocationContext } from "@azure/functions";
import { readDeliveryMessage, targetLabel } from "../shared/storage/deliveries";
import { appContext } from "../shared/runtime";
import { deliverBatch, refuseInvalidTargets } from "../shared/workflows/deliver";

/** `deliveries` queue: one alert's card posts to its targets per message (or, in the first shape, to one target). */
export async function deliveriesQueue(message: unknown, context: InvocationContext): Promise<void> {
  const ctx = appContext(context);
  const read = readDeliveryMessage(message);
  // Only our own code writes this queue: a malformed message is a bug. Throwing lets the host retry it and
  // then keep it on deliveries-poison for people to inspect, rather than dropping it.
  if (!read.ok) throw new Error(`delivery message malformed at ${read.path}`);
  const { batch, invalid } = read;
  await refuseInvalidTargets(ctx.storage, batch.alertId, invalid);
  for (const { targetKey, reason } of invalid) context.warn(`Delivery ${targetLabel(targetKey)} of ${batch.alertId}: dead, ${reason}`);
  if (batch.targets.length === 0) return;
  const results = await deliverBatch(ctx, batch);
  for (const [targetKey, result] of results) {
    // A dead one was logged by the deliverer, with its reason: once is enough.
    if (result !== "dead") context.log(`Delivery ${targetLabel(targetKey)} of ${batch.alertId}: ${result}`);
  }
}
