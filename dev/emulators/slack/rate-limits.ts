import type { Clock } from "./clock";

/**
 * How a Web API method is throttled (https://docs.slack.dev/apis/web-api/rate-limits), always
 * "per method per workspace per app":
 * - tiers 1–4 allow 1 / 20 / 50 / 100 calls per minute with bursts up to that many;
 * - `chat.postMessage` is special: about one message per second per channel, short bursts tolerated.
 */
export type RateRule = { kind: "tier"; tier: 1 | 2 | 3 | 4 } | { kind: "per-channel" } | { kind: "none" };

export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;
/** chat.postMessage: a burst of 3, then 1 per second per channel. */
export const POST_MESSAGE_BURST = 3;
export const POST_MESSAGE_PER_SECOND = 1;

/**
 * How Slack limits `conversations.history` for this app. `non-marketplace`: a commercially distributed app not approved
 * for the Slack Marketplace (Slack changelog 2025-05-29, "Rate limit changes for non-Marketplace apps": new apps and
 * new installations since 2025-05-29, existing installations later): Tier 1, 1 request per minute, and `limit` at
 * most, and by default, 15. `standard`: Marketplace-approved and internal apps (Tier 3, `limit` up to 999).
 */
export type HistoryAccess = "standard" | "non-marketplace";
export const NON_MARKETPLACE_HISTORY_LIMIT = 15;

export const rate = {
  tier: (tier: 1 | 2 | 3 | 4): RateRule => ({ kind: "tier", tier }),
  perChannel: { kind: "per-channel" } as RateRule,
  none: { kind: "none" } as RateRule,
};

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly refillPerMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes one token, or returns how many whole seconds (at least 1) until one is available. */
  take(now: number): number | undefined {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.updatedAt) * this.refillPerMs);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.refillPerMs / 1000));
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly clock: Clock,
    public enforced: boolean,
  ) {}

  /**
   * Records one call; returns the `Retry-After` seconds when the call must be refused with HTTP 429. `always`: a
   * limit the test opted into on its own (the non-Marketplace history limits), enforced even when the rest are not.
   */
  check(rule: RateRule, method: string, teamId: string, channel: string | undefined, { always = false } = {}): number | undefined {
    if ((!this.enforced && !always) || rule.kind === "none") return undefined;
    const now = this.clock.now();
    if (rule.kind === "per-channel") {
      const key = `${teamId}:${method}:${channel ?? ""}`;
      return this.bucket(key, POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND / 1000, now).take(now);
    }
    const perMinute = TIER_PER_MINUTE[rule.tier];
    return this.bucket(`${teamId}:${method}`, perMinute, perMinute / 60_000, now).take(now);
  }

  reset(): void {
    this.buckets.clear();
  }

  private bucket(key: string, capacity: number, refillPerMs: number, now: number): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(capacity, refillPerMs, now);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
