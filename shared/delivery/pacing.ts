import { sleep } from "../storage/errors";

export interface Window {
  /** Length of the window in milliseconds. */
  ms: number;
  /** Requests allowed within it. */
  limit: number;
}

/** Teams: per bot per conversation, sends (rate-limit page: 7/1 s, 8/2 s, 60/30 s, 1800/h). */
export const TEAMS_CONVERSATION_WINDOWS: Window[] = [
  { ms: 1000, limit: 7 },
  { ms: 2000, limit: 8 },
  { ms: 30_000, limit: 60 },
  { ms: 3_600_000, limit: 1800 },
];
/** Teams: all calls of one app in one tenant. */
export const TEAMS_TENANT_WINDOWS: Window[] = [{ ms: 1000, limit: 50 }];
/** Slack: chat.postMessage about one per second per channel, with a short burst. */
export const SLACK_CHANNEL_WINDOWS: Window[] = [
  { ms: 1000, limit: 1 },
  { ms: 10_000, limit: 10 },
];
/** Slack Tier 3 (chat.update, chat.postEphemeral): 50 per minute per workspace. */
export const SLACK_TIER3_WINDOWS: Window[] = [{ ms: 60_000, limit: 50 }];

/**
 * Sliding-window limiter for one process. Instances don't coordinate: the service's 429 + Retry-After
 * stays the backstop, and the queue's low batch size keeps the number of instances small.
 */
export class SlidingWindowLimiter {
  private readonly history = new Map<string, number[]>();

  constructor(
    private readonly windows: Window[],
    private readonly now: () => number = Date.now,
  ) {}

  /** How long until one more request for `key` fits every window (0 = now). */
  delayFor(key: string): number {
    const now = this.now();
    const times = this.prune(key, now);
    let wait = 0;
    for (const window of this.windows) {
      const inWindow = times.filter((t) => t > now - window.ms);
      if (inWindow.length >= window.limit) {
        const oldest = inWindow[inWindow.length - window.limit]!;
        wait = Math.max(wait, oldest + window.ms - now);
      }
    }
    return wait;
  }

  record(key: string): void {
    const now = this.now();
    this.prune(key, now).push(now);
  }

  /**
   * Waits for a slot when it comes soon (a short in-process wait beats a round trip through the queue),
   * and reports the wait in seconds when it is longer than `maxWaitMs`, for the caller to re-queue.
   */
  async acquire(key: string, maxWaitMs: number): Promise<{ ok: true } | { ok: false; retryInSeconds: number }> {
    for (;;) {
      const wait = this.delayFor(key);
      if (wait === 0) {
        this.record(key);
        return { ok: true };
      }
      if (wait > maxWaitMs) return { ok: false, retryInSeconds: Math.ceil(wait / 1000) };
      await sleep(wait);
    }
  }

  private prune(key: string, now: number): number[] {
    const longest = Math.max(...this.windows.map((w) => w.ms));
    const times = (this.history.get(key) ?? []).filter((t) => t > now - longest);
    this.history.set(key, times);
    return times;
  }
}
