import { messageCount, queueClient } from "../test/support/queues";
import { pause } from "./pool";
import type { SoakTiming } from "./settings";
import type { SoakStack } from "./stack";

/** The queues the app consumes (delayed and leased messages count: storage reports them). */
export const APP_QUEUES = ["alerts", "deliveries", "card-refresh", "member-sync", "slack-actions"];
/**
 * A time-bound ignore parks its wake-up on this queue until the ignore ends (hours or days: a fuzzed PATCH can
 * make one). Its messages count as parked once none is visible and their count has held still for longer than
 * any short wait the app puts there (settling, coalescing: seconds).
 */
const PARKED_WAKE_UPS = "card-refresh";
const PARKED_AFTER_MS = 15_000;

/**
 * Resolves true once nothing is queued for the app at `quietChecks` checks in a row, then waits
 * `settleMs` more (a handler may be between two sends); false at the deadline.
 */
export async function waitUntilQuiet(stack: SoakStack, timing: SoakTiming, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let wakeUpsBefore = -1;
  let unchangedSince = Date.now();
  while (Date.now() < deadline) {
    const counts = await Promise.all(APP_QUEUES.map((queue) => messageCount(stack.azurite.connectionString, queue)));
    const wakeUps = counts[APP_QUEUES.indexOf(PARKED_WAKE_UPS)]!;
    if (wakeUps !== wakeUpsBefore) unchangedSince = Date.now();
    wakeUpsBefore = wakeUps;
    const parked = wakeUps === 0 || (Date.now() - unchangedSince >= PARKED_AFTER_MS && !(await hasVisible(stack, PARKED_WAKE_UPS)));
    quiet = parked && counts.every((n, i) => n === 0 || APP_QUEUES[i] === PARKED_WAKE_UPS) ? quiet + 1 : 0;
    if (quiet >= timing.quietChecks) {
      await pause(timing.settleMs);
      return true;
    }
    await pause(timing.quietIntervalMs);
  }
  return false;
}

async function hasVisible(stack: SoakStack, queue: string): Promise<boolean> {
  const peeked = await queueClient(stack.azurite.connectionString, queue).peekMessages({ numberOfMessages: 1 });
  return peeked.peekedMessageItems.length > 0;
}
