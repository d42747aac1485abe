// Every 1:1 chat the bot writes to and every conversation it replies in becomes a key of the Teams limiters: a key with
// nothing left within its longest window is forgotten, so a long-running instance's memory doesn't grow with every
// conversation it ever wrote to.
import { describe, expect, it } from "vitest";
import { SlidingWindowLimiter } from "../../../shared/teams/pacing";

function limiterAt(clock: { now: number }) {
  return new SlidingWindowLimiter(
    [
      { ms: 1000, limit: 2 },
      { ms: 10_000, limit: 5 },
    ],
    () => clock.now,
    async (ms) => {
      clock.now += ms;
    },
  );
}

describe("the limiter's keys", () => {
  it("are forgotten once nothing of theirs is left within the longest window, even when never asked about again", async () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    for (let n = 0; n < 100; n++) expect(await limiter.acquire(`a:chat-${n}`, 0)).toEqual({ ok: true });
    expect(limiter.keyCount()).toBe(100);

    clock.now = 10_001; // every one idle for longer than the longest window
    expect(await limiter.acquire("a:another-chat", 0)).toEqual({ ok: true });
    expect(limiter.keyCount()).toBe(1);
  });

  it("keep what is still within a window, and pace by it", async () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    expect(await limiter.acquire("busy", 0)).toEqual({ ok: true });
    expect(await limiter.acquire("busy", 0)).toEqual({ ok: true });
    clock.now = 9_000;
    for (let n = 0; n < 10; n++) await limiter.acquire(`other-${n}`, 0);
    clock.now = 10_500;
    expect(await limiter.acquire("other-new", 0)).toEqual({ ok: true });
    // "busy" spent 2 of its 5 at 0 (gone from the 10 s window); the others' 9 s requests are still within it.
    expect(limiter.keyCount()).toBe(11);
    expect(limiter.delayFor("busy")).toBe(0);
  });

  it("asking about a key never seen, or idle, leaves nothing behind", () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    expect(limiter.delayFor("never-seen")).toBe(0);
    expect(limiter.headroom("never-seen")).toBe(1);
    expect(limiter.spare("never-seen", 0)).toBe(2);
    expect(limiter.earliest("never-seen", 0)).toBe(0);
    expect(limiter.keyCount()).toBe(0);
  });

  it("a deferral's promised and held times count as the key's, and go when they are old", async () => {
    const clock = { now: 0 };
    const limiter = limiterAt(clock);
    await limiter.acquire("c", 0);
    await limiter.acquire("c", 0);
    const deferred = await limiter.acquireOrPromise("c", 0);
    expect(deferred).toMatchObject({ ok: false, at: 1000 });
    await limiter.acquire("d", 0);
    const promised = await limiter.acquire("d", 0).then(() => limiter.acquire("d", 0));
    expect(promised.ok).toBe(false);
    expect(limiter.keyCount()).toBe(2);
    clock.now = 30_000;
    limiter.record("e");
    expect(limiter.keyCount()).toBe(1);
  });
});
