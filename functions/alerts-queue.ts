import type { InvocationContext } from "@azure/functions";
import { appContext } from "../shared/runtime";
import { takeAlert } from "../shared/workflows/alert-intake";

/** `alerts` queue: producers' alerts in, issues and planned deliveries out (a new issue's first few cards posted here). */
export async function alertsQueue(message: unknown, context: InvocationContext): Promise<void> {
  const original =
    typeof context.triggerMetadata?.queueTrigger === "string"
      ? context.triggerMetadata.queueTrigger
      : typeof message === "string"
        ? message
        : JSON.stringify(message);
  const insertionTime = context.triggerMetadata?.insertionTime;
  const insertedAt = typeof insertionTime === "string" || insertionTime instanceof Date ? new Date(insertionTime) : undefined;
  const ctx = appContext(context);
  const result = await takeAlert(ctx.storage, message, original, { deliverer: ctx, insertedAt });
  if (result.kind === "poisoned") {
    // Paths and the schema's or storage's reasons; never the values themselves.
    const reasons = result.poison.issues.map((issue) => `${issue.path || "(root)"}: ${issue.message}`).join("; ");
    context.warn(`Alert rejected and moved to alerts-poison: ${result.poison.error} ${reasons}`);
  } else if (result.kind === "release") {
    const waiting = result.retryInSeconds ? `, ${result.waiting} waiting (back in ${result.retryInSeconds}s)` : "";
    context.log(`Release ${result.project} ${result.version}: ${result.sent} notices sent, ${result.dead} dead${waiting}`);
  } else if (result.kind === "no-issue") {
    context.log(`Issue action for ${result.issueId}: no such issue here, nothing to change`);
  } else {
    const posted = result.posted ? `, ${result.posted} posted here` : "";
    context.log(
      `Alert for issue ${result.issue.id}: ${result.duplicate ? "already taken, no change" : `issue v${result.issue.version}`}, ${result.deliveries} deliveries queued${posted}`,
    );
  }
}
