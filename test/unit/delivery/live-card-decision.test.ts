// The one rule the alert planner and the deliverer's claim share: does this alert post a card in a target?
import { describe, expect, it } from "vitest";
import { SLOW_RETRY_MAX_SECONDS } from "../../../shared/delivery/retry-policy";
import { liveCardDecision, STALE_CLAIM_MS, type LiveCard } from "../../../shared/storage/live-cards";

const NOW = Date.parse("2026-12-06T08:00:00.000Z");
const DAY = 24 * 3_600_000;
const policy = { renotifyAfterMs: DAY, now: NOW, status: "unresolved" } as const;
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const posted = (overrides: Partial<LiveCard> = {}): LiveCard => ({
  targetKey: "slack:T1:C1",
  state: "posted",
  alertId: "a1",
  claimedAt: ago(60_000),
  postedAt: ago(50_000),
  messageRef: "C1/1.2",
  ...overrides,
});

describe("liveCardDecision", () => {
  it("no live card: post the first", () => {
    expect(liveCardDecision(undefined, "a2", policy)).toEqual({ kind: "post", because: "first" });
  });

  it("a live card: update it, unless the issue regressed or got worse, or the card is older than RENOTIFY_HOURS", () => {
    expect(liveCardDecision(posted(), "a2", policy)).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
    expect(liveCardDecision(posted(), "a2", { ...policy, notify: "regressed" })).toEqual({ kind: "post", because: "regressed" });
    expect(liveCardDecision(posted(), "a2", { ...policy, notify: "level-rose" })).toEqual({ kind: "post", because: "level-rose" });
    expect(liveCardDecision(posted({ postedAt: ago(DAY + 1) }), "a2", policy)).toEqual({ kind: "post", because: "renotify" });
  });

  it("a live card this alert posted: nothing to post, even for a regression or an old card (its delivery is being redone)", () => {
    expect(liveCardDecision(posted(), "a1", { ...policy, notify: "regressed" })).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
    expect(liveCardDecision(posted({ postedAt: ago(DAY + 1) }), "a1", policy)).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
  });

  it("a claim being posted: this alert's own is a retry, another's merges, a stale one is taken over", () => {
    const posting = posted({ state: "posting", postedAt: undefined, messageRef: undefined, claimedAt: ago(1000) });
    expect(liveCardDecision(posting, "a1", policy)).toEqual({ kind: "post", because: "retry" });
    expect(liveCardDecision(posting, "a2", policy)).toEqual({ kind: "merged", intoAlertId: "a1" });
    expect(liveCardDecision({ ...posting, claimedAt: ago(STALE_CLAIM_MS + 1) }, "a2", policy)).toEqual({ kind: "post", because: "stale-claim" });
    // A regression doesn't post over a card still being posted: it merges into it.
    expect(liveCardDecision(posting, "a2", { ...policy, notify: "regressed" })).toEqual({ kind: "merged", intoAlertId: "a1" });
  });

  it("a first post waiting out its slow retry (a platform outage) keeps its claim: another alert merges, no second card", () => {
    const waiting = posted({ state: "posting", postedAt: undefined, messageRef: undefined, claimedAt: ago((SLOW_RETRY_MAX_SECONDS + 60) * 1000) });
    expect(liveCardDecision(waiting, "a2", { ...policy, notify: "regressed" })).toEqual({ kind: "merged", intoAlertId: "a1" });
  });

  describe("an ignored issue, or one still resolved after the alert (Sentry mutes archived issues)", () => {
    const ignored = { ...policy, status: "ignored" } as const;
    const resolved = { ...policy, status: "resolved" } as const;

    it("a live card older than RENOTIFY_HOURS is updated, not posted again", () => {
      const old = posted({ postedAt: ago(DAY + 3_600_000) });
      expect(liveCardDecision(old, "a2", ignored)).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
      expect(liveCardDecision(old, "a2", resolved)).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
    });

    it("a level that rose posts no new card: the live one is updated", () => {
      expect(liveCardDecision(posted(), "a2", { ...ignored, notify: "level-rose" })).toEqual({ kind: "update-existing", messageRef: "C1/1.2" });
    });

    it("no card in the target yet (a new subscription), or only a claim that died: nothing is posted while ignored", () => {
      expect(liveCardDecision(undefined, "a2", ignored)).toEqual({ kind: "silenced", status: "ignored" });
      const dead = posted({ state: "posting", postedAt: undefined, messageRef: undefined, claimedAt: ago(STALE_CLAIM_MS + 1) });
      expect(liveCardDecision(dead, "a2", ignored)).toEqual({ kind: "silenced", status: "ignored" });
    });

    it("no card in the target yet while resolved: the first card is posted, showing it resolved (an incident that fired and recovered before its card went out is seen)", () => {
      expect(liveCardDecision(undefined, "a2", resolved)).toEqual({ kind: "post", because: "first" });
    });

    it("this alert's own claim is still posted (its card may already be out), and another's still merges", () => {
      const posting = posted({ state: "posting", postedAt: undefined, messageRef: undefined, claimedAt: ago(1000) });
      expect(liveCardDecision(posting, "a1", ignored)).toEqual({ kind: "post", because: "retry" });
      expect(liveCardDecision(posting, "a2", ignored)).toEqual({ kind: "merged", intoAlertId: "a1" });
    });

    it("a regression (the issue is unresolved again) still posts a new card", () => {
      expect(liveCardDecision(posted(), "a2", { ...policy, notify: "regressed" })).toEqual({ kind: "post", because: "regressed" });
    });
  });
});
