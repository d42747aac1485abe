import { messageCount } from "../test/support/queues";
import { pause } from "./pool";
import type { SoakTiming } from "./settings";
import type { SoakStack } from "./stack";

/** The queues the app consumes (delayed and leased messages count: storage reports them). */
export const APP_QUEUES = ["alerts", "deliveries", "card-refresh", "member-sync", "slack-actions"];

/**
 * Resolves true once nothing is queued for the app at `quietChecks` checks in a row, then waits
 * `settleMs` more (a handler may be between two sends); false at the deadline.
 */
export async function waitUntilQuiet(stack: SoakStack, timing: SoakTiming, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const counts = await Promise.all(APP_QUEUES.map((queue) => messageCount(stack.azurite.connectionString, queue)));
    quiet = counts.every((n) => n === 0) ? quiet + 1 : 0;
    if (quiet >= timing.quietChecks) {
      await pause(timing.settleMs);
      return true;
    }
    await pause(timing.quietIntervalMs);
  }
  return false;
}
