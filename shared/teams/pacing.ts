import { liveInstanceCount, noteDeferral } from "../storage/instances";
import { sleep } from "../storage/table";

// Pacing below the platforms' rate limits (docs/pacing.md): the sliding-window limiter every sender books its calls
// on, and Teams' budgets. It sits in the platform-client layer because every Teams call of the bot spends its
// tenant's budget, including calls made below the delivery layer (the 1:1 chats opened, the rosters read):
// `TeamsConnector` books those itself. Slack's limits and the settling rules are in delivery/pacing.ts.

export interface Window {
  /** Length of the window in milliseconds. */
  ms: number;
  /** Requests allowed within it. */
  limit: number;
}

/** Teams: per bot per conversation, sends (rate-limit page: 7/1 s, 8/2 s, 60/30 s, 1800/h). */
export const TEAMS_CONVERSATION_LIMITS: Window[] = [
  { ms: 1000, limit: 7 },
  { ms: 2000, limit: 8 },
  { ms: 30_000, limit: 60 },
  { ms: 3_600_000, limit: 1800 },
];
/** Teams: every call of one app in one tenant, whatever it is (notes/teams.md §7: "All bot API calls share one policy"). */
export const TEAMS_TENANT_LIMITS: Window[] = [{ ms: 1000, limit: 50 }];

/** The share of each published limit the app as a whole uses: the rest absorbs clock skew and instance-count lag. */
export const PACING_SHARE = 0.9;

/**
 * One instance's windows for its `share` of a limit (0.9 ÷ live instances). A window keeps at least one request
 * and never gets shorter than the platform's (a shorter one would let a burst exceed the platform's window);
 * where rounding down would lose rate, the window is stretched instead: 1/s at 0.9 → 1 per 1.112 s. `marginMs`
 * lengthens every window (see TEAMS_MARGIN_MS).
 */
export function pacedWindows(limits: Window[], share: number, marginMs = 0): Window[] {
  return limits.map((window) => {
    const allowed = window.limit * share;
    const limit = Math.max(1, Math.floor(allowed));
    return { ms: Math.max(window.ms, Math.ceil((window.ms * limit) / allowed)) + marginMs, limit };
  });
}

/**
 * Teams counts requests as they arrive, in strict sliding windows: a request booked for one moment can arrive a
 * little later (a busy event loop, the network) and crowd the next window. This much is added to each window.
 * It costs the short windows (bursts) only; sustained rates are set by the long ones.
 */
export const TEAMS_MARGIN_MS = 200;

export type Slot = { ok: true } | { ok: false; retryInSeconds: number; at: number };

/**
 * Sliding-window pacing for one process, first come first served. A request that fits within `maxWaitMs` books
 * its slot and sleeps until then; one that doesn't is told when to come back, through the queue. Those promised
 * times are spread at the paced rate, so deferred work returns in a steady stream rather than all at once, and
 * hold no slot here: a retry asks again. Unless the caller keeps the promise (`acquireOrPromise`): then the slot is held for that
 * request (later ones queue behind it), and the caller carries it in the retry so that whichever instance takes
 * the retry posts then (Slack posts: docs/pacing.md, "Several instances").
 */
export class SlidingWindowLimiter {
  private readonly booked = new Map<string, number[]>();
  private readonly held = new Map<string, number[]>();
  private readonly promised = new Map<string, number[]>();

  constructor(
    private readonly windows: Window[] | (() => Window[]),
    private readonly now: () => number = Date.now,
    private readonly wait: (ms: number) => Promise<void> = sleep,
    /** Told of every request held back, waiting in process or deferred (see `forSends`). */
    private readonly onHoldBack: () => void = () => undefined,
  ) {}

  /**
   * A limiter of this instance's calls to a platform: a request held back tells the instance count, which counts
   * again when that ends a quiet spell (storage/instances.ts). Waits in process count: a storm's first seconds are
   * mostly those, and an instance that counted alone at the start kept pacing alone (two instances' Teams bursts
   * met a few seconds into the fan-out benchmark: 17 429s).
   */
  static forSends(windows: () => Window[]): SlidingWindowLimiter {
    return new SlidingWindowLimiter(windows, Date.now, sleep, noteDeferral);
  }

  /** How long until one more request for `key` fits every window after the slots already booked (0 = now). */
  delayFor(key: string): number {
    const now = this.now();
    return nextSlot(this.current(), this.list(this.booked, key, now), now) - now;
  }

  /** Books a request made now. */
  record(key: string): void {
    const now = this.now();
    insert(this.list(this.booked, key, now, true), now);
  }

  /**
   * The share of the tightest window still free for `key` right now (1 = untouched, 0 = spent): lets a caller keep
   * a scarce budget for work that matters more. `atLeastMs` leaves out shorter windows (a burst's), whose
   * headroom says nothing about how busy the key is.
   */
  headroom(key: string, atLeastMs = 0): number {
    const now = this.now();
    const times = this.list(this.booked, key, now);
    const windows = this.current().filter((w) => w.ms >= atLeastMs);
    return Math.min(...windows.map((w) => Math.max(0, 1 - times.filter((t) => t > now - w.ms && t <= now).length / w.limit)));
  }

  /** How many more requests for `key` fit right now while `keptShare` of every window stays unspent. */
  spare(key: string, keptShare: number): number {
    const now = this.now();
    const times = this.list(this.booked, key, now);
    return Math.max(
      0,
      Math.min(...this.current().map((w) => Math.floor(w.limit * (1 - keptShare) - times.filter((t) => t > now - w.ms && t <= now).length))),
    );
  }

  /** A slot within `maxWaitMs` (slept until), or when to come back (spread after the other deferred requests). */
  async acquire(key: string, maxWaitMs: number): Promise<Slot> {
    return acquireTogether([[this, key]], maxWaitMs);
  }

  /** `acquire`, but a deferred request is promised the slot it is told to come back for: held for it here. */
  async acquireOrPromise(key: string, maxWaitMs: number): Promise<Slot> {
    return acquireTogether([[this, key]], maxWaitMs, { keepPromise: true });
  }

  /** The earliest time from `from` at which one more request for `key` fits, behind every slot booked or held. */
  earliest(key: string, from: number): number {
    return nextSlot(this.current(), this.taken(key, this.now()), from);
  }

  /** The slots booked and held for `key`, in time order. */
  private taken(key: string, now: number): number[] {
    const booked = this.list(this.booked, key, now);
    const held = this.list(this.held, key, now);
    return held.length > 0 ? [...booked, ...held].sort((a, b) => a - b) : booked;
  }

  book(key: string, at: number): void {
    insert(this.list(this.booked, key, this.now(), true), at);
  }

  unbook(key: string, at: number): void {
    const booked = this.booked.get(key);
    const i = booked?.indexOf(at) ?? -1;
    if (i >= 0) booked!.splice(i, 1);
  }

  /**
   * The answer for a request that doesn't fit within its wait: when to come back. Held for it with `keepPromise`; otherwise
   * spread after the other promised times, holding nothing.
   */
  defer(key: string, options: { keepPromise?: boolean } = {}): Slot & { ok: false } {
    this.onHoldBack();
    const now = this.now();
    const at = this.earliest(key, now);
    if (options.keepPromise) {
      insert(this.list(this.held, key, now, true), at);
      return { ok: false, retryInSeconds: Math.ceil((at - now) / 1000), at };
    }
    const promised = this.list(this.promised, key, now, true);
    const back = nextSlot(
      this.current(),
      [...this.taken(key, now), ...promised].sort((a, b) => a - b),
      now,
    );
    insert(promised, back);
    return { ok: false, retryInSeconds: Math.ceil((back - now) / 1000), at: back };
  }

  /** How many keys the limiter holds times for (what its memory grows with). */
  keyCount(): number {
    return new Set([...this.booked.keys(), ...this.held.keys(), ...this.promised.keys()]).size;
  }

  /** A request waits in process for its slot (`acquireTogether`). */
  heldBack(): void {
    this.onHoldBack();
  }

  /** The limiter's clock, shared by `acquireTogether`. */
  get clock(): { now: () => number; wait: (ms: number) => Promise<void> } {
    return { now: this.now, wait: this.wait };
  }

  private current(): Window[] {
    return typeof this.windows === "function" ? this.windows() : this.windows;
  }

  /**
   * The times still within the longest window for `key`: the list kept in `map` with `forWriting` (the caller adds to
   * it), else a copy, and a key left with none is dropped. Every 1:1 chat and conversation written to is a key: once
   * a longest window, every key idle that long is dropped too (`sweep`), so memory follows the recent traffic.
   */
  private list(map: Map<string, number[]>, key: string, now: number, forWriting = false): number[] {
    const longest = this.longestMs();
    this.sweep(now, longest);
    const kept = (map.get(key) ?? []).filter((t) => t > now - longest);
    if (kept.length > 0 || forWriting) map.set(key, kept);
    else map.delete(key);
    return kept;
  }

  private sweptAt = Number.NEGATIVE_INFINITY;

  private sweep(now: number, longest: number): void {
    if (now - this.sweptAt < longest) return;
    this.sweptAt = now;
    for (const map of [this.booked, this.held, this.promised]) {
      for (const [key, times] of map) if (!times.some((t) => t > now - longest)) map.delete(key);
    }
  }

  private longestMs(): number {
    return Math.max(...this.current().map((w) => w.ms));
  }
}

/**
 * A timer that fires this much later than the booked slot (a busy event loop, a starved CPU) makes the request go
 * out late: the slot is booked again from the time it really goes, or the requests booked behind it would reach
 * the platform closer together than the windows allow.
 */
export const LATE_WAKE_MS = 50;

/**
 * One slot in every budget a request spends (a Teams post: its conversation's and its tenant's), booked at one
 * time: the earliest that fits them all. Booked one after another, the first budget would record a time earlier
 * than the request really went (it waited for the second), and its windows would hold more than they say.
 * A request that can't go within `maxWaitMs` is deferred by the budget that holds it back the longest.
 */
export async function acquireTogether(
  budgets: readonly (readonly [SlidingWindowLimiter, string])[],
  maxWaitMs: number,
  options: { keepPromise?: boolean } = {},
): Promise<Slot> {
  const { now, wait } = budgets[0]![0].clock;
  const deadline = now() + maxWaitMs;
  for (let rebooked = 0; ; rebooked++) {
    const start = now();
    let at = start;
    for (let moved = true; moved; ) {
      moved = false;
      for (const [limiter, key] of budgets) {
        const earliest = limiter.earliest(key, at);
        if (earliest > at) [at, moved] = [earliest, true];
      }
    }
    if (at > deadline) {
      const [limiter, key] = budgets.reduce((a, b) => (b[0].earliest(b[1], start) > a[0].earliest(a[1], start) ? b : a));
      const deferred = limiter.defer(key, options);
      return deferred.at >= at ? deferred : { ...deferred, retryInSeconds: Math.ceil((at - start) / 1000), at };
    }
    // Booked far ahead, a slot would hold back every later request of its budgets (each goes after the last slot
    // taken): one busy conversation's reply would stall its whole tenant. Far off, it waits unbooked and asks again.
    if (at - start > BOOK_AHEAD_MS) {
      await wait(at - start - BOOK_AHEAD_MS);
      rebooked--;
      continue;
    }
    for (const [limiter, key] of budgets) limiter.book(key, at);
    if (at <= start) return { ok: true };
    for (const [limiter] of budgets) limiter.heldBack();
    await wait(at - start);
    if (now() - at <= LATE_WAKE_MS || rebooked >= 3) return { ok: true };
    for (const [limiter, key] of budgets) limiter.unbook(key, at);
  }
}

/** The furthest ahead a slot is booked: what deliveries wait in process at most (MAX_IN_PROCESS_WAIT_MS). */
const BOOK_AHEAD_MS = 2_000;

/** The earliest time ≥ now, and not before any time already taken, at which one more request fits every window. */
export function nextSlot(windows: Window[], taken: number[], now: number): number {
  let at = Math.max(now, taken.length ? taken[taken.length - 1]! : now);
  for (let moved = true; moved; ) {
    moved = false;
    for (const window of windows) {
      const inWindow = taken.filter((t) => t > at - window.ms);
      if (inWindow.length >= window.limit) {
        at = inWindow[inWindow.length - window.limit]! + window.ms;
        moved = true;
      }
    }
  }
  return at;
}

function insert(sorted: number[], time: number): void {
  let i = sorted.length;
  while (i > 0 && sorted[i - 1]! > time) i--;
  sorted.splice(i, 0, time);
}

/** The share of each published limit this instance may use: PACING_SHARE split evenly between live instances. */
export function instanceShare(): number {
  return PACING_SHARE / liveInstanceCount();
}

/** This instance's share of Teams' published limits: posts and updates per conversation, every call per tenant. */
export const teamsConversationLimiter = SlidingWindowLimiter.forSends(() =>
  pacedWindows(TEAMS_CONVERSATION_LIMITS, instanceShare(), TEAMS_MARGIN_MS),
);
export const teamsTenantLimiter = SlidingWindowLimiter.forSends(() => pacedWindows(TEAMS_TENANT_LIMITS, instanceShare(), TEAMS_MARGIN_MS));

/**
 * A Teams call made outside a delivery waits this long at most for its slot unless its caller says otherwise: as long
 * as a delivery's post waits in process (a longer wait goes back through the queue there).
 */
export const TEAMS_CALL_WAIT_MS = 2000;

/**
 * Books one Teams call: a slot in its tenant's budget and, for a post or an update (`conversationId`), in that
 * conversation's too, at one time (`acquireTogether`). Not within `maxWaitMs`: when to come back.
 */
export async function bookTeamsCall(budget: { tenantId: string; conversationId?: string }, maxWaitMs: number): Promise<Slot> {
  const tenant: [SlidingWindowLimiter, string] = [teamsTenantLimiter, budget.tenantId.toLowerCase()];
  if (budget.conversationId === undefined) return acquireTogether([tenant], maxWaitMs);
  return acquireTogether([[teamsConversationLimiter, baseConversation(budget.conversationId)], tenant], maxWaitMs);
}

/** A channel thread (`19:…;messageid=…`) is its channel's conversation, and spends its budget. */
function baseConversation(conversationId: string): string {
  return conversationId.split(";")[0]!;
}

const THROTTLE_WAIT_FIRST_SECONDS = 5;
const THROTTLE_WAIT_CAP_SECONDS = 300;

/**
 * How long to wait after the `throttles`-th 429 in a row that came without Retry-After (Teams sends none at times,
 * notes/teams.md §3.2): 5 s, doubling with each one, at most 5 minutes, 10 % either way so that what one burst
 * throttled doesn't come back at once (§7: "exponential backoff with random jitter"). The count travels with the
 * retry (a queue message), so the wait grows whichever instance takes it.
 */
export function teamsThrottleWaitSeconds(throttles: number, random: () => number = Math.random): number {
  const base = Math.min(THROTTLE_WAIT_CAP_SECONDS, THROTTLE_WAIT_FIRST_SECONDS * 2 ** Math.max(0, throttles - 1));
  return Math.max(1, Math.round(base * (0.9 + 0.2 * random())));
}
