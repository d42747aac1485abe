import { createHash } from "node:crypto";

/**
 * Discord's REST API as the bot (`Authorization: Bot <token>`), rate limits done as Discord documents them:
 * per-route buckets learnt from `X-RateLimit-Bucket` / `-Remaining` / `-Reset-After` (a bucket is shared by the
 * routes that report the same id, separately per major parameter: channel, guild, webhook), the global limit of
 * 50 requests a second kept within this instance, and a 429's `retry_after` (with `X-RateLimit-Global` stopping
 * every request until it passes). A request that would be refused is not sent: it is answered `throttled` with
 * the wait, for the caller to re-queue durably.
 */

export type DiscordResult<T> =
  | { kind: "ok"; status: number; body: T }
  | { kind: "throttled"; retryAfterSeconds: number; global: boolean; sent: boolean }
  | { kind: "error"; status: number; code?: number; message: string }
  /**
   * No answer: a timeout or a lost connection (the request may have landed), or a connection never made (refused,
   * DNS: it can't have); `error` tells which.
   */
  | { kind: "unanswered"; error: unknown };

export const GLOBAL_REQUESTS_PER_SECOND = 50;
/** Waits up to this long in process for a bucket or the global window; a longer wait goes back to the queue. */
const MAX_IN_PROCESS_WAIT_MS = 1000;
const REQUEST_TIMEOUT_MS = 10_000;

interface BucketState {
  remaining: number;
  resetAt: number;
}

export interface RequestOptions {
  /**
   * The request, a wait for its bucket included, is over within this: its answer is given up (`unanswered`) then, or
   * after REQUEST_TIMEOUT_MS if sooner; a bucket wait that would leave no time for it is answered `throttled`, unsent.
   */
  timeoutMs?: number;
}

export interface DiscordRestOptions {
  apiUrl: string;
  botToken: string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class DiscordRest {
  /** Route (method + path template) → the bucket id Discord reported for it. */
  private readonly bucketOfRoute = new Map<string, string>();
  /** Bucket id + major parameter → what the last answer said about it. */
  private readonly buckets = new Map<string, BucketState>();
  private readonly globalWindow: number[] = [];
  private globalBlockedUntil = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DiscordRestOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async request<T>(method: string, path: string, body?: unknown, { timeoutMs }: RequestOptions = {}): Promise<DiscordResult<T>> {
    const route = routeOf(method, path);
    const bucketKey = () => `${this.bucketOfRoute.get(route.key) ?? route.key}|${route.major}`;
    const wait = this.waitBeforeSending(bucketKey());
    const answerWithinMs = Math.min(REQUEST_TIMEOUT_MS, (timeoutMs ?? Number.POSITIVE_INFINITY) - wait);
    if (wait > MAX_IN_PROCESS_WAIT_MS || answerWithinMs <= 0)
      return { kind: "throttled", retryAfterSeconds: wait / 1000, global: this.globalBlockedUntil > this.now(), sent: false };
    if (wait > 0) await this.sleep(wait);
    this.globalWindow.push(this.now());
    let response: Response;
    try {
      response = await fetch(`${this.options.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bot ${this.options.botToken}`,
          "user-agent": "DiscordBot (https://github.com/triage-relay, 1.0)",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(answerWithinMs),
      });
    } catch (error) {
      return { kind: "unanswered", error };
    }
    this.learn(route.key, route.major, response.headers);
    const text = await response.text().catch(() => "");
    const json = parseJson(text);
    if (response.status === 429) {
      const retryAfterSeconds = Number(json?.retry_after ?? response.headers.get("retry-after") ?? 1);
      const global = response.headers.get("x-ratelimit-global") === "true" || json?.global === true;
      if (global) this.globalBlockedUntil = Math.max(this.globalBlockedUntil, this.now() + retryAfterSeconds * 1000);
      else this.buckets.set(bucketKey(), { remaining: 0, resetAt: this.now() + retryAfterSeconds * 1000 });
      return { kind: "throttled", retryAfterSeconds, global, sent: true };
    }
    if (!response.ok) {
      return {
        kind: "error",
        status: response.status,
        code: typeof json?.code === "number" ? json.code : undefined,
        message: String(json?.message ?? response.statusText).slice(0, 200),
      };
    }
    return { kind: "ok", status: response.status, body: json as T };
  }

  /** Milliseconds to wait before this request may go: the global block, the bucket, the global window. */
  private waitBeforeSending(bucketKey: string): number {
    const now = this.now();
    let wait = Math.max(0, this.globalBlockedUntil - now);
    const bucket = this.buckets.get(bucketKey);
    if (bucket && bucket.remaining <= 0 && bucket.resetAt > now) wait = Math.max(wait, bucket.resetAt - now);
    while (this.globalWindow.length > 0 && this.globalWindow[0]! <= now - 1000) this.globalWindow.shift();
    if (this.globalWindow.length >= GLOBAL_REQUESTS_PER_SECOND) wait = Math.max(wait, this.globalWindow[0]! + 1000 - now);
    if (bucket && bucket.remaining > 0) bucket.remaining--;
    return wait;
  }

  private learn(routeKey: string, major: string, headers: Headers): void {
    const bucketId = headers.get("x-ratelimit-bucket");
    const remaining = headers.get("x-ratelimit-remaining");
    const resetAfter = headers.get("x-ratelimit-reset-after");
    if (!bucketId || remaining === null || resetAfter === null) return;
    this.bucketOfRoute.set(routeKey, bucketId);
    this.buckets.set(`${bucketId}|${major}`, { remaining: Number(remaining), resetAt: this.now() + Number(resetAfter) * 1000 });
  }
}

/** The route's bucket key before Discord names it (method + path with ids as placeholders) and its major parameter. */
export function routeOf(method: string, path: string): { key: string; major: string } {
  const major = /^\/(channels|guilds)\/(\d+)/.exec(path)?.[0] ?? /^\/webhooks\/\d+\/[^/]+/.exec(path)?.[0] ?? "";
  const template = path.replace(/^\/webhooks\/\d+\/[^/]+/, "/webhooks/:id/:token").replace(/\d{17,20}/g, ":id");
  return { key: `${method} ${template}`, major };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const clients = new Map<string, DiscordRest>();

/** One client per API URL and token in this instance, so every caller shares what the buckets said. */
export function discordRest(settings: { apiUrl: string; botToken: string }): DiscordRest {
  const key = createHash("sha256").update(`${settings.apiUrl}\n${settings.botToken}`).digest("hex");
  let client = clients.get(key);
  if (!client) {
    client = new DiscordRest(settings);
    clients.set(key, client);
  }
  return client;
}
