import { describe, expect, it } from "vitest";
import {
  acquireTogether,
  nextSlot,
  PACING_SHARE,
  pacedWindows,
  SLACK_CHANNEL_LIMITS,
  SLACK_TIER3_LIMITS,
  SlidingWindowLimiter,
  TEAMS_CONVERSATION_LIMITS,
  TEAMS_TENANT_LIMITS,
  unsettledPostWindows,
  type Window,
} from "../../../shared/delivery/pacing";

/** The most requests any window of `ms` holds among `times` (windows open on the left, as the platforms count). */
function busiest(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  return Math.max(0, ...sorted.map((end) => sorted.filter((t) => t > end - ms && t <= end).length));
}

/** A limiter of one request a second for "c", that has just let one through; it never sleeps. */
async function oneASecondAfterOne(now: () => number): Promise<SlidingWindowLimiter> {
  const limiter = new SlidingWindowLimiter([{ ms: 1000, limit: 1 }], now, async () => undefined);
  expect(await limiter.acquire("c", 0)).toEqual({ ok: true });
  return limiter;
}

/** Sends `n` requests as early as the limiter allows, each booked without waiting, and returns their times. */
function schedule(windows: Window[], n: number): number[] {
  const taken: number[] = [];
  for (let i = 0; i < n; i++) taken.push(nextSlot(windows, taken, 0));
  return taken;
}

describe("an instance's share of a published limit", () => {
  it("one instance: 90 % of each window, rounded down, never a window shorter than the platform's", () => {
    expect(pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE)).toEqual([
      { ms: 1000, limit: 6 },
      { ms: 2000, limit: 7 },
      { ms: 30_000, limit: 54 },
      { ms: 3_600_000, limit: 1620 },
    ]);
    expect(pacedWindows(TEAMS_TENANT_LIMITS, PACING_SHARE)).toEqual([{ ms: 1000, limit: 45 }]);
    expect(pacedWindows(SLACK_TIER3_LIMITS, PACING_SHARE)).toEqual([{ ms: 60_000, limit: 45 }]);
  });

  it("a limit below one request per window keeps one request and stretches the window instead: Slack's 1/s → 0.9/s", () => {
    expect(pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE)).toEqual([{ ms: 1112, limit: 1 }]);
    expect(pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE / 2)).toEqual([{ ms: 2223, limit: 1 }]);
  });

  it("split between live instances, their windows together stay within 90 % of every published window", () => {
    for (const instances of [1, 2, 3, 4, 7]) {
      for (const limits of [TEAMS_CONVERSATION_LIMITS, TEAMS_TENANT_LIMITS, SLACK_CHANNEL_LIMITS, SLACK_TIER3_LIMITS]) {
        const paced = pacedWindows(limits, PACING_SHARE / instances);
        limits.forEach((published, i) => {
          const mine = paced[i]!;
          expect(mine.ms).toBeGreaterThanOrEqual(published.ms);
          // The long-run rate of all instances together, as a share of the published rate.
          const share = (instances * mine.limit) / mine.ms / (published.limit / published.ms);
          expect(share).toBeLessThanOrEqual(PACING_SHARE + 1e-9);
        });
      }
    }
  });

  it("two instances on Teams: 3/1 s, 3/2 s, 27/30 s each, so both bursting at once stay under 7/1 s and 8/2 s", () => {
    const each = pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE / 2);
    expect(each.map((w) => w.limit)).toEqual([3, 3, 27, 810]);
    const both = [...schedule(each, 40), ...schedule(each, 40)];
    for (const published of TEAMS_CONVERSATION_LIMITS.slice(0, 3)) expect(busiest(both, published.ms)).toBeLessThanOrEqual(published.limit);
  });

  it("a margin lengthens every window (Teams: a send may arrive later than booked)", () => {
    expect(pacedWindows([{ ms: 1000, limit: 7 }], PACING_SHARE, 200)).toEqual([{ ms: 1200, limit: 6 }]);
  });
});

describe("the next slot", () => {
  it("a burst as large as the shortest window allows, then the longer windows set the pace", () => {
    const times = schedule(pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE), 60);
    expect(times.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(times[6]).toBe(1000);
    for (const window of pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE)) expect(busiest(times, window.ms)).toBeLessThanOrEqual(window.limit);
    // 54 in any 30 s: the 55th waits for the first to leave the window.
    expect(times[54]).toBe(30_000);
  });

  it("never before a time already taken (first come, first served)", () => {
    expect(nextSlot([{ ms: 1000, limit: 10 }], [0, 5000], 100)).toBe(5000);
  });
});

describe("the limiter", () => {
  it("books a slot within the in-process wait and sleeps until it", async () => {
    let now = 0;
    const slept: number[] = [];
    const limiter = new SlidingWindowLimiter(
      [{ ms: 1000, limit: 1 }],
      () => now,
      async (ms) => {
        slept.push(ms);
        now += ms;
      },
    );
    expect(await limiter.acquire("c", 2000)).toEqual({ ok: true });
    expect(await limiter.acquire("c", 2000)).toEqual({ ok: true });
    expect(slept).toEqual([1000]);
  });

  it("tells the instance count of each request it holds back, a wait in process as well as a deferral, and of none that goes at once", async () => {
    // A storm's first seconds are mostly waits in process: an instance that counted alone at the start and was told
    // only of deferrals kept pacing alone (two instances' Teams bursts met: 17 429s in the fan-out benchmark).
    let now = 0;
    let heldBack = 0;
    const limiter = new SlidingWindowLimiter(
      [{ ms: 1000, limit: 1 }],
      () => now,
      async (ms) => {
        now += ms;
      },
      () => heldBack++,
    );
    expect(await limiter.acquire("c", 2000)).toEqual({ ok: true });
    expect(heldBack).toBe(0);
    expect(await limiter.acquire("c", 2000)).toEqual({ ok: true });
    expect(heldBack).toBe(1);
    expect(await limiter.acquire("c", 0)).toMatchObject({ ok: false });
    expect(heldBack).toBe(2);
  });

  it("tells deferred requests to come back spread at the paced rate, without holding the slots they were told about", async () => {
    const limiter = await oneASecondAfterOne(() => 0);
    const deferred = [];
    for (let i = 0; i < 4; i++) deferred.push(await limiter.acquire("c", 0));
    expect(deferred).toEqual([1, 2, 3, 4].map((retryInSeconds) => ({ ok: false, retryInSeconds, at: retryInSeconds * 1000 })));
    // A deferred request may come back to another instance: here the promised times are not booked, so whichever
    // request comes first when the window has room goes.
    expect(limiter.delayFor("c")).toBe(1000);
  });

  it("a kept promise holds its slot: later requests queue behind it, and one that doesn't keep its promise asks again", async () => {
    let now = 0;
    const limiter = await oneASecondAfterOne(() => now);
    // Two card posts deferred, each promised the slot it is to come back for (another instance may post in it).
    expect(await limiter.acquireOrPromise("c", 0)).toEqual({ ok: false, retryInSeconds: 1, at: 1000 });
    expect(await limiter.acquireOrPromise("c", 0)).toEqual({ ok: false, retryInSeconds: 2, at: 2000 });
    // At 1 s the first promised slot is the promise's, not the next request's: it books the slot after the second.
    now = 1000;
    expect(await limiter.acquire("c", 1999)).toMatchObject({ ok: false });
    expect(await limiter.acquire("c", 2000)).toEqual({ ok: true });
    // A request that won't carry its promise (a thread line) is told a time after every held slot, holding none.
    expect(await limiter.acquire("c", 0)).toEqual({ ok: false, retryInSeconds: 3, at: 4000 });
    expect(await limiter.acquireOrPromise("c", 0)).toEqual({ ok: false, retryInSeconds: 3, at: 4000 });
  });

  it("tells the instance count of every request it defers, not of those it lets through (a busy spell's start)", async () => {
    let deferrals = 0;
    const limiter = new SlidingWindowLimiter(
      [{ ms: 1000, limit: 1 }],
      () => 0,
      async () => undefined,
      () => deferrals++,
    );
    expect(await limiter.acquire("c", 0)).toEqual({ ok: true });
    expect(deferrals).toBe(0);
    expect((await limiter.acquire("c", 0)).ok).toBe(false);
    expect((await limiter.acquireOrPromise("c", 0)).ok).toBe(false);
    expect(deferrals).toBe(2);
  });

  it("follows the instance count: the same limiter paces at half the rate once a second instance is counted", async () => {
    let instances = 1;
    let now = 0;
    const limiter = new SlidingWindowLimiter(
      () => pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE / instances),
      () => now,
    );
    for (let i = 0; i < 6; i++) expect(await limiter.acquire("c", 0)).toEqual({ ok: true });
    expect((await limiter.acquire("c", 0)).ok).toBe(false);
    now = 60_000;
    instances = 2;
    for (let i = 0; i < 3; i++) expect(await limiter.acquire("c", 0)).toEqual({ ok: true });
    expect((await limiter.acquire("c", 0)).ok).toBe(false);
  });

  it("headroom: the share of the tightest window still free", () => {
    const now = 0;
    const limiter = new SlidingWindowLimiter([{ ms: 60_000, limit: 4 }], () => now);
    expect(limiter.headroom("w")).toBe(1);
    limiter.record("w");
    expect(limiter.headroom("w")).toBe(0.75);
    limiter.record("w");
    limiter.record("w");
    limiter.record("w");
    expect(limiter.headroom("w")).toBe(0);
  });

  it("headroom over the longer windows only: a burst's window says nothing about how busy a conversation is", () => {
    const now = 0;
    const limiter = new SlidingWindowLimiter(
      [
        { ms: 1000, limit: 2 },
        { ms: 30_000, limit: 10 },
      ],
      () => now,
    );
    limiter.record("c");
    limiter.record("c");
    expect(limiter.headroom("c")).toBe(0);
    expect(limiter.headroom("c", 30_000)).toBe(0.8);
  });

  it("spare: how many more fit now while a share of every window is kept", () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter([{ ms: 60_000, limit: 45 }], () => now);
    expect(limiter.spare("w", 0.9)).toBe(4);
    limiter.record("w");
    limiter.record("w");
    expect(limiter.spare("w", 0.9)).toBe(2);
    limiter.record("w");
    limiter.record("w");
    limiter.record("w");
    expect(limiter.spare("w", 0.9)).toBe(0);
    expect(limiter.spare("w", 0)).toBe(40);
    now = 60_001;
    expect(limiter.spare("w", 0.9)).toBe(4);
  });

  it("cards posted while their issue is still changing are counted over five minutes: a storm's second minute owes no more updates", () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter(unsettledPostWindows(PACING_SHARE), () => now);
    const budget = Math.floor(SLACK_TIER3_LIMITS[0]!.limit * PACING_SHARE);
    for (let n = 0; n < budget; n++) limiter.record("w");
    expect(limiter.delayFor("w")).toBeGreaterThan(0);
    now = 61_000;
    expect(limiter.delayFor("w")).toBeGreaterThan(0);
    now = 300_001;
    expect(limiter.delayFor("w")).toBe(0);
  });
});

/**
 * A clock for requests racing each other: `wait` resolves when `run` reaches its time, or later than that while
 * the event loop is `stalled` (every timer due within the stall fires at its end, as Node's do).
 */
function raceClock(stall?: { from: number; to: number }) {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    wait: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    async run(): Promise<void> {
      for (await flush(); timers.length > 0; await flush()) {
        timers.sort((a, b) => a.at - b.at);
        const timer = timers.shift()!;
        const fires = stall && timer.at > stall.from && timer.at < stall.to ? stall.to : timer.at;
        now = Math.max(now, fires);
        timer.resolve();
      }
    },
  };
}

describe("requests as they really go out", () => {
  it("a Teams post books its conversation and its tenant at the one time it goes: a conversation never gets more than its window", async () => {
    const clock = raceClock();
    const conversation = new SlidingWindowLimiter([{ ms: 1000, limit: 1 }], clock.now, clock.wait);
    const tenant = new SlidingWindowLimiter([{ ms: 1000, limit: 2 }], clock.now, clock.wait);
    const sentTo: Record<string, number[]> = { a: [], b: [], c: [] };
    const post = async (to: "a" | "b" | "c") => {
      const slot = await acquireTogether(
        [
          [conversation, to],
          [tenant, "tenant"],
        ],
        10_000,
      );
      if (slot.ok) sentTo[to]!.push(clock.now());
    };
    // Conversations b and c spend the tenant's first second; a's posts wait for the tenant. Booked one budget after
    // the other, a's first post held its conversation slot at 0 while it went at 1 s, and a's second went at 1 s too.
    const first = [post("b"), post("c")];
    await Promise.all(first);
    const posts = [post("a"), post("a"), post("a")];
    await clock.run();
    await Promise.all(posts);
    expect(sentTo.a).toHaveLength(3);
    expect(busiest(sentTo.a!, 1000)).toBe(1);
    expect(busiest([...sentTo.a!, ...sentTo.b!, ...sentTo.c!], 1000)).toBeLessThanOrEqual(2);
  });

  it("a reply that may wait long for its busy conversation doesn't hold back the rest of its tenant meanwhile", async () => {
    const clock = raceClock();
    const conversation = new SlidingWindowLimiter([{ ms: 10_000, limit: 1 }], clock.now, clock.wait);
    const tenant = new SlidingWindowLimiter([{ ms: 1000, limit: 2 }], clock.now, clock.wait);
    expect(await acquireTogether([[conversation, "busy"]], 0)).toEqual({ ok: true }); // its window is spent until 10 s
    const sent: Record<string, number> = {};
    // A reply in the busy conversation may wait 15 s; a card post elsewhere in the tenant, 2 s.
    const reply = acquireTogether(
      [
        [conversation, "busy"],
        [tenant, "tenant"],
      ],
      15_000,
    ).then(() => (sent.reply = clock.now()));
    const post = clock.wait(1000).then(async () => {
      if ((await acquireTogether([[tenant, "tenant"]], 2000)).ok) sent.post = clock.now();
    });
    await clock.run();
    await Promise.all([reply, post]);
    expect(sent.post).toBe(1000);
    expect(sent.reply).toBe(10_000);
  });

  it("a request whose timer fires late (a stalled event loop) takes a new slot from when it really goes", async () => {
    const clock = raceClock({ from: 900, to: 1900 });
    const limiter = new SlidingWindowLimiter([{ ms: 1000, limit: 1 }], clock.now, clock.wait);
    const sent: number[] = [];
    // Slots at 0, 1 s and 2 s; the 1 s timer fires at 1.9 s, the 2 s one on time.
    const requests = [0, 1, 2].map(async () => {
      if ((await limiter.acquire("c", 10_000)).ok) sent.push(clock.now());
    });
    await clock.run();
    await Promise.all(requests);
    expect(sent).toHaveLength(3);
    expect(busiest(sent, 1000)).toBe(1);
  });
});
