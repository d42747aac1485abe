import { errorReply, type Reply } from "./http.js";
import type { ConnectorOperation, FaultSpec, Operation } from "./types.js";

export const baseConversationId = (id: string): string => id.split(";")[0] ?? id;

const DEFAULT_ERRORS: Record<number, [code: string, message: string]> = {
  401: ["Unauthorized", "Authorization has been denied for this request."],
  403: ["BotNotInConversationRoster", "The bot is not part of the conversation roster."],
  404: ["ConversationNotFound", "Conversation not found."],
  412: ["PreconditionFailed", "Precondition failed, please retry."],
  429: ["Throttled", "Too many requests."],
  500: ["InternalServerError", "An internal error occurred."],
  502: ["BadGateway", "Bad gateway."],
  503: ["ServiceUnavailable", "Service unavailable."],
  504: ["GatewayTimeout", "Gateway timeout."],
};

/**
 * Microsoft documents this exact body for a bot that was blocked or uninstalled: no `error`
 * envelope, the sub code sits in a JSON string inside `message`.
 */
export function messageWritesBlockedReply(): Reply {
  const message = JSON.stringify(
    { subCode: "MessageWritesBlocked", details: "Thread is blocked from message writes.", errorCode: null, errorSubCode: null },
    null,
    2,
  ).replace(/\n/g, "\r\n");
  return { status: 403, body: { errorCode: 209, message } };
}

export function faultReply(fault: FaultSpec): Reply {
  const headers = fault.retryAfterSec === undefined ? undefined : { "retry-after": String(fault.retryAfterSec) };
  if (fault.code === "MessageWritesBlocked") return { ...messageWritesBlockedReply(), status: fault.status, ...(headers ? { headers } : {}) };
  const [defaultCode, message] = DEFAULT_ERRORS[fault.status] ?? ["Error", "Injected fault."];
  return errorReply(fault.status, fault.code ?? defaultCode, message, headers);
}

interface ArmedFault extends FaultSpec {
  remaining: number;
  /** Matching requests seen (for `every`). */
  seen: number;
}

export class FaultBook {
  private faults: ArmedFault[] = [];

  inject(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.times ?? 1, seen: 0 });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first armed fault matching the request, consuming one of its `times`. */
  take(operation: Operation, conversationId: string | undefined): FaultSpec | undefined {
    const fault = this.faults.find(
      (f) =>
        (f.operation === undefined || f.operation === operation) &&
        (f.conversationId === undefined ||
          (conversationId !== undefined && baseConversationId(f.conversationId) === baseConversationId(conversationId))) &&
        // Every matching request advances an `every` fault's count; only each n-th one is served the fault.
        (f.every === undefined || ++f.seen % f.every === 0),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }
}

// Per bot per thread, from Microsoft's "Rate limiting for agents" table: [window ms, max requests].
export const LIMITS = {
  write: [
    [1_000, 7],
    [2_000, 8],
    [30_000, 60],
    [3_600_000, 1_800],
  ],
  members: [
    [1_000, 14],
    [2_000, 16],
    [30_000, 120],
    [3_600_000, 3_600],
  ],
  // Every call of one bot in one tenant (the emulator serves one tenant): 50 requests per second.
  tenant: [[1_000, 50]],
} as const satisfies Record<string, readonly (readonly [number, number])[]>;

const BUCKETS: Partial<Record<ConnectorOperation, keyof typeof LIMITS>> = {
  send: "write",
  reply: "write",
  update: "write",
  getMember: "members",
  pagedMembers: "members",
};

export class RateLimiter {
  enabled = false;
  /** Whether a 429 says how long to wait (Retry-After): Teams' don't always. */
  sendsRetryAfter = true;
  private readonly history = new Map<string, number[]>();

  /**
   * Records the request and returns undefined, or returns the seconds to wait when it is over a limit. Every call
   * counts against the tenant's limit (creating a conversation too); conversation calls also against their thread's.
   */
  check(operation: ConnectorOperation, conversationId: string | undefined, now = Date.now()): number | undefined {
    if (!this.enabled) return undefined;
    const bucket = BUCKETS[operation];
    const keys: [string, keyof typeof LIMITS][] = [["tenant", "tenant"]];
    if (bucket && conversationId !== undefined) keys.push([`${bucket}|${baseConversationId(conversationId)}`, bucket]);
    const waitMs = Math.max(...keys.map(([key, limits]) => this.waitFor(key, LIMITS[limits], now)));
    if (waitMs > 0) return Math.max(1, Math.ceil(waitMs / 1000));
    for (const [key] of keys) this.history.get(key)!.push(now);
    return undefined;
  }

  private waitFor(key: string, limits: readonly (readonly [number, number])[], now: number): number {
    const longest = Math.max(...limits.map(([window]) => window));
    const times = (this.history.get(key) ?? []).filter((t) => t > now - longest);
    this.history.set(key, times);
    let waitMs = 0;
    for (const [window, max] of limits) {
      const inWindow = times.filter((t) => t > now - window);
      const oldest = inWindow[inWindow.length - max];
      if (inWindow.length >= max && oldest !== undefined) waitMs = Math.max(waitMs, oldest + window - now);
    }
    return waitMs;
  }
}
