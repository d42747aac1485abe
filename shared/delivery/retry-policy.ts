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
       * The platform itself answered 429 (our own pacing's hold-backs don't set it). Retries count these in a row
       * (`throttlesAfter`), so that one without Retry-After waits longer each time.
       */
      throttledByPlatform?: true;
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

/**
 * The 429s in a row a retry carries after this outcome: one more after the platform's; as many after our own pacing
 * held it back (that says nothing of the platform); none after anything else.
 */
export function throttlesAfter(verdict: FailureVerdict, before: number): number {
  if (verdict.kind !== "retry") return 0;
  if (verdict.throttledByPlatform) return before + 1;
  return verdict.throttled ? before : 0;
}

/**
 * A first post or a copy update still failing after MAX_DELIVERY_ATTEMPTS is not dead (its platform never said
 * the target is gone): it is tried again this long after (plus up to SLOW_RETRY_JITTER_SECONDS, so what one outage
 * stopped doesn't all come back at once), again and again, until it lands, its platform says it is gone, or it has
 * been failing for GIVE_UP_AFTER_FAILING_MS. One call every 10–15 minutes costs an outage little; a day of it is
 * no outage but an answer the sender can't act on (a Teams 400, an unknown Slack error), which would otherwise cost
 * a call every 10–15 minutes for ever. The next change (a copy) or alert (a post) tries it afresh.
 */
const SLOW_RETRY_SECONDS = 600;
const SLOW_RETRY_JITTER_SECONDS = 300;
/** The longest wait between two tries of a delivery (the claim on its card must outlast it: live-cards' STALE_CLAIM_MS). */
export const SLOW_RETRY_MAX_SECONDS = SLOW_RETRY_SECONDS + SLOW_RETRY_JITTER_SECONDS;
export const GIVE_UP_AFTER_FAILING_MS = 24 * 60 * 60_000;

/** The slow schedule, as log lines tell it. */
export const SLOW_RETRY_SCHEDULE =
  `every ${SLOW_RETRY_SECONDS / 60}–${(SLOW_RETRY_SECONDS + SLOW_RETRY_JITTER_SECONDS) / 60} minutes until it lands, ` +
  `its platform says it is gone or it has failed for ${GIVE_UP_AFTER_FAILING_MS / 3_600_000} hours`;

export type NextTry = { kind: "retry"; delaySeconds: number; slow: boolean } | { kind: "give-up" };

/**
 * What follows a failed attempt (the `attempt`-th) whose verdict is a retry: within the attempts, or only
 * throttled, the retry it asks for; past them, the slow retry; after a day of failing (`failingSince`, when the
 * first real failure of the run was), giving up.
 */
export function nextTry(
  verdict: Extract<FailureVerdict, { kind: "retry" }>,
  attempt: number,
  failingSince: string | undefined,
  now: number,
  random: () => number = Math.random,
): NextTry {
  const outOfAttempts = !verdict.throttled && attempt >= MAX_DELIVERY_ATTEMPTS;
  if (!outOfAttempts) return { kind: "retry", delaySeconds: verdict.delaySeconds, slow: false };
  if (failingSince !== undefined && now - Date.parse(failingSince) >= GIVE_UP_AFTER_FAILING_MS) return { kind: "give-up" };
  return { kind: "retry", delaySeconds: SLOW_RETRY_SECONDS + Math.round(SLOW_RETRY_JITTER_SECONDS * random()), slow: true };
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
