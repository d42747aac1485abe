import { requestNeverSent } from "../http";

/** What to do after a failed send: try again later, or give up on this target for good. */
export type FailureVerdict =
  | {
      kind: "retry";
      delaySeconds: number;
      reason: string;
      /** No answer came (timeout, connection lost after sending): a post may have landed all the same. */
      ambiguous?: boolean;
      /**
       * Only waiting: our own pacing held the call back, or the platform answered 429. Waiting is not failing:
       * it never uses up an attempt of the failure budget (MAX_DELIVERY_ATTEMPTS).
       */
      throttled?: true;
      /**
       * Our own pacing promised the post this moment (epoch ms) on this instance's budget: whichever instance
       * takes the retry posts then without asking its own budget again (docs/pacing.md, "Several instances").
       */
      slotAt?: number;
    }
  | { kind: "dead"; reason: string }
  | { kind: "dead-installation"; reason: string };

/** Real failures (5xx, timeouts, network) allowed per delivery or copy update; throttling doesn't count. */
export const MAX_DELIVERY_ATTEMPTS = 8;

/** Whether this outcome uses up an attempt: every retry does, except one that was only throttled. */
export function countsAsAttempt(verdict: FailureVerdict): boolean {
  return !(verdict.kind === "retry" && verdict.throttled);
}
const BASE_DELAY_SECONDS = 2;
const MAX_DELAY_SECONDS = 300;

/**
 * Exponential backoff with full jitter, used when the service gave no Retry-After:
 * attempt 1 → 0–2 s, 2 → 0–4 s, … capped at 5 minutes. Never below one second.
 */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling * random()));
}

/** A server-given Retry-After wins, plus a little jitter so a throttled burst doesn't return in lockstep. */
export function retryDelay(attempt: number, retryAfterSec: number | undefined, random: () => number = Math.random): number {
  if (retryAfterSec !== undefined) return Math.ceil(retryAfterSec + retryAfterSec * 0.2 * random());
  return backoffSeconds(attempt, random);
}

/** Whether a request that failed without an HTTP answer may still have reached the platform. */
export function mayHaveLanded(error: unknown): boolean {
  return !requestNeverSent(error);
}
