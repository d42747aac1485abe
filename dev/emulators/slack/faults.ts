/** A failure to serve instead of the real answer, for the next `times` matching calls. */
export interface FaultSpec {
  /** A Web API method (`chat.postMessage`, …) or `response_url` for posts to response URLs. */
  method: string;
  /** Only calls whose `channel` argument equals this. */
  channel?: string;
  /**
   * Slack error code to answer with: HTTP 200 `{ok:false, error}`, except `ratelimited` (HTTP 429 with
   * `Retry-After`) and, for `response_url`, the HTTP 404 text answers `used_url` / `expired_url`.
   */
  error?: string;
  /** Answer with this 5xx status and a non-JSON body instead (a load balancer or outage, not Slack's API). */
  httpStatus?: 500 | 502 | 503 | 504;
  /** `Retry-After` seconds; default 1 for `ratelimited`, otherwise sent only when given. */
  retryAfterSec?: number;
  /**
   * With `ratelimited`: the 429 carries no `Retry-After` at all (a proxy in between dropped it, or Slack left it
   * out). @slack/web-api then throws a plain Error instead of its WebAPIRateLimitedError.
   */
  withoutRetryAfter?: boolean;
  /** Wait this long before answering (alone: a slow but otherwise normal answer). */
  delayMs?: number;
  /** How many matching calls fail; default 1, `Infinity` for all. */
  times?: number;
  /** Only every n-th matching call fails (the others pass untouched): throttling on a share of calls. */
  every?: number;
}

export class Faults {
  private faults: { spec: FaultSpec; remaining: number; seen: number }[] = [];

  inject(spec: FaultSpec): void {
    if (spec.error === undefined && spec.httpStatus === undefined && spec.delayMs === undefined) {
      throw new Error("a fault needs an error, an httpStatus or a delayMs");
    }
    this.faults.push({ spec, remaining: spec.times ?? 1, seen: 0 });
  }

  /** The first armed fault matching this call, consuming one of its uses. */
  take(method: string, channel: string | undefined): FaultSpec | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        f.spec.method === method &&
        (f.spec.channel === undefined || f.spec.channel === channel) &&
        // Every matching call advances an `every` fault's count; only each n-th one is served the fault.
        (f.spec.every === undefined || ++f.seen % f.spec.every === 0),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return fault.spec;
  }

  clear(): void {
    this.faults = [];
  }
}
