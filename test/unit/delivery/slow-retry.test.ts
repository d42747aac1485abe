// The one retry policy first posts and copy updates share: quick retries within the attempts, then every 10–15
// minutes, and giving up only after a day of failing; being throttled is never failing.
import { describe, expect, it } from "vitest";
import { GIVE_UP_AFTER_FAILING_MS, MAX_DELIVERY_ATTEMPTS, nextTry } from "../../../shared/delivery/retry-policy";

const failure = { kind: "retry" as const, delaySeconds: 7, reason: "HTTP 503" };
const throttled = { ...failure, reason: "rate limited (429)", throttled: true as const };
const now = Date.parse("2026-12-01T12:00:00.000Z");
const ago = (ms: number) => new Date(now - ms).toISOString();

describe("what follows a failed attempt", () => {
  it("within the attempts: the retry the platform's answer asks for", () => {
    expect(nextTry(failure, 1, ago(0), now)).toEqual({ kind: "retry", delaySeconds: 7, slow: false });
    expect(nextTry(failure, MAX_DELIVERY_ATTEMPTS - 1, ago(60_000), now)).toEqual({ kind: "retry", delaySeconds: 7, slow: false });
  });

  it("past them: 10–15 minutes, for as long as it has failed less than a day", () => {
    expect(nextTry(failure, MAX_DELIVERY_ATTEMPTS, ago(5 * 60_000), now, () => 0)).toEqual({ kind: "retry", delaySeconds: 600, slow: true });
    expect(nextTry(failure, MAX_DELIVERY_ATTEMPTS + 90, ago(GIVE_UP_AFTER_FAILING_MS - 1), now, () => 1)).toEqual({
      kind: "retry",
      delaySeconds: 900,
      slow: true,
    });
  });

  it("a day of failing: given up", () => {
    expect(nextTry(failure, MAX_DELIVERY_ATTEMPTS + 100, ago(GIVE_UP_AFTER_FAILING_MS), now)).toEqual({ kind: "give-up" });
  });

  it("throttled: only waiting, however long and however many times", () => {
    expect(nextTry(throttled, MAX_DELIVERY_ATTEMPTS + 100, ago(2 * GIVE_UP_AFTER_FAILING_MS), now)).toEqual({
      kind: "retry",
      delaySeconds: 7,
      slow: false,
    });
  });
});
