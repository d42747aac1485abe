import { describe, expect, it } from "vitest";
import { applyAction, expireIgnore, type IssueAction } from "../../../shared/domain/actions";
import type { Actor, Issue, Status } from "../../../shared/domain/issue";
import { ana, anIssue, anonymous, NOW } from "../../fixtures/issues";

const states: Record<string, Issue> = {
  unresolved: anIssue(),
  resolved: anIssue({ status: "resolved", substatus: undefined, statusChangedBy: "Ben" }),
  ignored: anIssue({ status: "ignored", substatus: undefined, ignore: { mode: "forever" } }),
  resolvedInNext: anIssue({ status: "resolved", substatus: undefined, statusChangedBy: "Ben", resolution: { inRelease: "next", release: "1.2.3" } }),
  noRelease: anIssue({ tags: { browser: "Firefox" } }),
};

type Expectation = { kind: "changed"; to: Status } | { kind: "unchanged" } | { kind: "refused"; reason: RegExp };

const ignoreForever: IssueAction = { type: "ignore", ignore: { mode: "forever" } };
const ignore30: IssueAction = { type: "ignore", ignore: { mode: "minutes", minutes: 30 } };

// Every state × action: what happens, and what the person is told.
const table: [keyof typeof states, IssueAction, Expectation][] = [
  ["unresolved", { type: "resolve" }, { kind: "changed", to: "resolved" }],
  ["unresolved", { type: "resolve", inRelease: "current" }, { kind: "changed", to: "resolved" }],
  ["unresolved", { type: "resolve", inRelease: "next" }, { kind: "changed", to: "resolved" }],
  ["resolved", { type: "resolve" }, { kind: "unchanged" }],
  ["resolved", { type: "resolve", inRelease: "next" }, { kind: "changed", to: "resolved" }],
  ["resolvedInNext", { type: "resolve", inRelease: "next" }, { kind: "unchanged" }],
  ["resolvedInNext", { type: "resolve", inRelease: "current" }, { kind: "changed", to: "resolved" }],
  ["resolvedInNext", { type: "resolve" }, { kind: "changed", to: "resolved" }],
  ["ignored", { type: "resolve", inRelease: "next" }, { kind: "changed", to: "resolved" }],
  [
    "noRelease",
    { type: "resolve", inRelease: "next" },
    { kind: "refused", reason: /can't be resolved in the next release: its alerts name no release/ },
  ],
  ["noRelease", { type: "resolve", inRelease: "current" }, { kind: "refused", reason: /Resolve it immediately instead/ }],
  ["noRelease", { type: "resolve" }, { kind: "changed", to: "resolved" }],
  ["resolvedInNext", { type: "unresolve" }, { kind: "changed", to: "unresolved" }],
  ["ignored", { type: "resolve" }, { kind: "changed", to: "resolved" }],
  ["unresolved", { type: "unresolve" }, { kind: "unchanged" }],
  ["resolved", { type: "unresolve" }, { kind: "changed", to: "unresolved" }],
  ["ignored", { type: "unresolve" }, { kind: "changed", to: "unresolved" }],
  ["unresolved", ignoreForever, { kind: "changed", to: "ignored" }],
  ["resolved", ignoreForever, { kind: "refused", reason: /resolved\. Unresolve it/ }],
  ["ignored", ignoreForever, { kind: "unchanged" }],
  ["ignored", ignore30, { kind: "changed", to: "ignored" }],
  ["unresolved", { type: "unignore" }, { kind: "unchanged" }],
  ["resolved", { type: "unignore" }, { kind: "refused", reason: /Use Unresolve/ }],
  ["ignored", { type: "unignore" }, { kind: "changed", to: "unresolved" }],
  ["unresolved", { type: "assign", assignee: "me" }, { kind: "changed", to: "unresolved" }],
  ["resolved", { type: "assign", assignee: { email: "Ben@Contoso.com" } }, { kind: "changed", to: "resolved" }],
  ["ignored", { type: "unassign" }, { kind: "unchanged" }],
];

describe("applyAction over every state and action", () => {
  it.each(table)("%s + %j", (state, action, expected) => {
    const before = states[state]!;
    const outcome = applyAction(before, action, ana, NOW);
    expect(outcome.kind).toBe(expected.kind);
    if (outcome.kind === "changed" && expected.kind === "changed") {
      expect(outcome.issue.status).toBe(expected.to);
      expect(outcome.issue.version).toBe(before.version + 1);
      expect(outcome.activities).toHaveLength(1);
      expect(outcome.activities[0]).toMatchObject({
        issueId: before.id,
        action: action.type,
        actor: "ana@contoso.com",
        surface: "teams",
        fromStatus: before.status,
        toStatus: expected.to,
      });
      expect(outcome.message).toMatch(/Ana/);
    }
    if (outcome.kind === "unchanged") {
      expect(outcome.issue).toBe(before);
      expect(outcome.message).toMatch(/already|not/);
    }
    if (outcome.kind === "refused" && expected.kind === "refused") expect(outcome.reason).toMatch(expected.reason);
  });
});

describe("status line details", () => {
  it("records who resolved and when", () => {
    const outcome = applyAction(states.unresolved!, { type: "resolve" }, ana, NOW);
    expect(outcome.kind === "changed" && outcome.issue).toMatchObject({ statusChangedBy: "Ana", statusChangedAt: NOW.toISOString() });
  });

  it("assigns to the clicker with 'me' and lower-cases explicit emails", () => {
    const me = applyAction(states.unresolved!, { type: "assign", assignee: "me" }, ana, NOW);
    expect(me.kind === "changed" && me.issue.assignee?.email).toBe("ana@contoso.com");
    const ben = applyAction(states.unresolved!, { type: "assign", assignee: { email: " Ben@Contoso.com " } }, ana, NOW);
    expect(ben.kind === "changed" && ben.issue.assignee?.email).toBe("ben@contoso.com");
  });

  it("assigning to the current assignee changes nothing", () => {
    const assigned = anIssue({ assignee: { email: "ana@contoso.com" } });
    expect(applyAction(assigned, { type: "assign", assignee: "me" }, ana, NOW).kind).toBe("unchanged");
  });

  it("refuses 'assign to me' from someone we cannot identify, with a reason they can act on", () => {
    const outcome = applyAction(states.unresolved!, { type: "assign", assignee: "me" }, anonymous, NOW);
    expect(outcome).toMatchObject({ kind: "refused", reason: expect.stringMatching(/Link your account/) });
  });

  it("refuses an assignee that is not an email", () => {
    const outcome = applyAction(states.unresolved!, { type: "assign", assignee: { email: "not-an-email" } }, ana, NOW);
    expect(outcome.kind).toBe("refused");
  });

  it.each([
    [{ mode: "minutes", minutes: 0 }],
    [{ mode: "minutes", minutes: 1.5 }],
    [{ mode: "events", count: -1 }],
    [{ mode: "users", count: 0 }],
  ] as const)("refuses a meaningless ignore %j", (ignore) => {
    expect(applyAction(states.unresolved!, { type: "ignore", ignore }, ana, NOW).kind).toBe("refused");
  });
});

describe("resolving in a release", () => {
  it("takes the release from the issue's latest alert and says which in the message and the history line", () => {
    const outcome = applyAction(states.unresolved!, { type: "resolve", inRelease: "next" }, ana, NOW);
    expect(outcome).toMatchObject({
      kind: "changed",
      message: "Resolved in the next release (after 1.2.3) by Ana.",
      issue: { status: "resolved", resolution: { inRelease: "next", release: "1.2.3" }, statusChangedBy: "Ana", statusChange: "resolve" },
      activities: [{ action: "resolve", detail: "in the next release (after 1.2.3)", fromStatus: "unresolved", toStatus: "resolved" }],
    });
    const current = applyAction(states.unresolved!, { type: "resolve", inRelease: "current" }, ana, NOW);
    expect(current).toMatchObject({ kind: "changed", message: "Resolved in the current release (1.2.3) by Ana." });
  });

  it("resolving again in another way is a change by the new person; the same way is not", () => {
    const outcome = applyAction(states.resolved!, { type: "resolve", inRelease: "next" }, ana, NOW);
    expect(outcome.kind === "changed" && outcome.issue).toMatchObject({ statusChangedBy: "Ana", resolution: { inRelease: "next" } });
    const same = applyAction(states.resolvedInNext!, { type: "resolve", inRelease: "next" }, ana, NOW);
    expect(same).toMatchObject({ kind: "unchanged", message: "CHECKOUT-12 is already resolved in the next release (after 1.2.3)." });
  });

  it("keeps the release it was resolved in, whatever the issue's release becomes", () => {
    const outcome = applyAction(states.resolvedInNext!, { type: "resolve", inRelease: "next" }, ana, NOW);
    expect(outcome.kind === "unchanged" && outcome.issue).toBe(states.resolvedInNext);
    const moved = applyAction({ ...states.resolvedInNext!, tags: { release: "1.2.4" } }, { type: "resolve", inRelease: "next" }, ana, NOW);
    expect(moved.kind === "changed" && moved.issue.resolution).toEqual({ inRelease: "next", release: "1.2.4" });
  });

  it.each([
    ["resolve immediately", { type: "resolve" }],
    ["unresolve", { type: "unresolve" }],
  ] as [string, IssueAction][])("%s drops the release resolution", (_name, action) => {
    const outcome = applyAction(states.resolvedInNext!, action, ana, NOW);
    expect(outcome.kind).toBe("changed");
    expect(outcome.kind === "changed" && outcome.issue.resolution).toBeUndefined();
  });

  it("any status change drops the reason of a regression; an assignment does not", () => {
    const regressed = anIssue({
      substatus: "regressed",
      regression: { firedIn: "1.2.4", resolution: { inRelease: "next", release: "1.2.3" } },
    });
    const resolved = applyAction(regressed, { type: "resolve" }, ana, NOW);
    expect(resolved.kind === "changed" && resolved.issue.regression).toBeUndefined();
    const ignored = applyAction(regressed, { type: "ignore", ignore: { mode: "forever" } }, ana, NOW);
    expect(ignored.kind === "changed" && ignored.issue.regression).toBeUndefined();
    const assigned = applyAction(regressed, { type: "assign", assignee: "me" }, ana, NOW);
    expect(assigned.kind === "changed" && assigned.issue.regression).toEqual(regressed.regression);
  });
});

describe("ignore conditions run out", () => {
  it("for N minutes: unresolved once the time has passed", () => {
    const outcome = applyAction(states.unresolved!, ignore30, ana, NOW);
    const ignored = outcome.kind === "changed" ? outcome.issue : undefined;
    expect(ignored?.ignore).toEqual({ mode: "until", minutes: 30, until: "2026-11-21T14:32:00.000Z" });
    expect(expireIgnore(ignored!, new Date("2026-11-21T14:31:59Z"))).toBeUndefined();
    const expired = expireIgnore(ignored!, new Date("2026-11-21T14:32:00Z"));
    expect(expired?.issue).toMatchObject({ status: "unresolved", substatus: "escalating" });
    expect(expired?.activity).toMatchObject({ action: "ignore-expired", fromStatus: "ignored", toStatus: "unresolved" });
  });

  it("until N more events: counted from the count at the time of ignoring", () => {
    const outcome = applyAction(states.unresolved!, { type: "ignore", ignore: { mode: "events", count: 100 } }, ana, NOW);
    const ignored = outcome.kind === "changed" ? outcome.issue : undefined;
    expect(ignored?.ignore).toEqual({ mode: "events", moreEvents: 100, untilCount: 157 });
    expect(expireIgnore({ ...ignored!, count: 156 }, NOW)).toBeUndefined();
    expect(expireIgnore({ ...ignored!, count: 157 }, NOW)?.issue.status).toBe("unresolved");
  });

  it("until N more users", () => {
    const outcome = applyAction(states.unresolved!, { type: "ignore", ignore: { mode: "users", count: 10 } }, ana, NOW);
    const ignored = outcome.kind === "changed" ? outcome.issue : undefined;
    expect(expireIgnore({ ...ignored!, userCount: 21 }, NOW)).toBeUndefined();
    expect(expireIgnore({ ...ignored!, userCount: 22 }, NOW)?.issue.status).toBe("unresolved");
  });

  it("forever never runs out", () => {
    expect(expireIgnore({ ...states.ignored!, count: 10 ** 9 }, new Date("2099-01-01"))).toBeUndefined();
  });

  it("an action on an issue whose ignore ran out starts from unresolved, and carries the expiry to store", () => {
    const ignored = anIssue({ status: "ignored", ignore: { mode: "events", moreEvents: 1, untilCount: 50 } });
    const outcome = applyAction(ignored, { type: "unignore" }, ana, NOW);
    expect(outcome).toMatchObject({
      kind: "unchanged",
      message: expect.stringMatching(/not ignored/),
      issue: { status: "unresolved", substatus: "escalating", version: ignored.version + 1 },
      expiry: { action: "ignore-expired", fromStatus: "ignored", toStatus: "unresolved" },
    });
    expect(outcome.kind === "unchanged" && outcome.issue.ignore).toBeUndefined();
  });

  it("an action after an ignore ran out stores both lines in one change", () => {
    const ignored = anIssue({ status: "ignored", ignore: { mode: "until", minutes: 1, until: "2026-11-21T14:01:00.000Z" } });
    const outcome = applyAction(ignored, { type: "resolve" }, ana, NOW);
    expect(outcome.kind).toBe("changed");
    if (outcome.kind !== "changed") return;
    expect(outcome.issue).toMatchObject({ status: "resolved", version: ignored.version + 1 });
    expect(outcome.activities.map((a) => [a.action, a.fromStatus, a.toStatus])).toEqual([
      ["ignore-expired", "ignored", "unresolved"],
      ["resolve", "unresolved", "resolved"],
    ]);
  });
});

describe("ignoring an issue that is already ignored", () => {
  const ben: Actor = { person: { email: "ben@contoso.com", name: "Ben" }, label: "Ben", surface: "slack" };
  const at = (iso: string) => new Date(iso);
  const ignoredByAna = () => {
    const outcome = applyAction(states.unresolved!, ignore30, ana, at("2026-11-21T01:00:00.000Z"));
    if (outcome.kind !== "changed") throw new Error(outcome.kind);
    return outcome.issue;
  };

  it("another ignore by someone else is theirs: the status line's who and when move to them", () => {
    const outcome = applyAction(ignoredByAna(), ignoreForever, ben, at("2026-11-21T01:20:00.000Z"));
    expect(outcome).toMatchObject({ kind: "changed", message: "Ignored forever by Ben." });
    expect(outcome.kind === "changed" && outcome.issue).toMatchObject({
      ignore: { mode: "forever" },
      statusChangedBy: "Ben",
      statusChangedAt: "2026-11-21T01:20:00.000Z",
      statusChange: "ignore",
    });
  });

  it("the same person's same choice again moments later (a double click, a redelivery) changes nothing", () => {
    const ignored = ignoredByAna();
    const again = applyAction(ignored, ignore30, ana, at("2026-11-21T01:00:00.400Z"));
    expect(again).toMatchObject({ kind: "unchanged", message: "CHECKOUT-12 is already ignored until 2026-11-21 01:30 UTC." });
    expect(again.kind === "unchanged" && again.issue).toBe(ignored);
  });

  it("'until N more events' repeated by the same person after an event came in keeps the first target", () => {
    const first = applyAction(states.unresolved!, { type: "ignore", ignore: { mode: "events", count: 10 } }, ana, NOW);
    if (first.kind !== "changed") throw new Error(first.kind);
    const oneMore = { ...first.issue, count: first.issue.count + 1 };
    const again = applyAction(oneMore, { type: "ignore", ignore: { mode: "events", count: 10 } }, ana, new Date(NOW.getTime() + 2_000));
    expect(again.kind).toBe("unchanged");
  });

  it.each([
    ["someone else's same choice", ignore30, "ben", "2026-11-21T01:00:00.400Z"],
    ["another duration", { type: "ignore", ignore: { mode: "minutes", minutes: 120 } }, "ana", "2026-11-21T01:00:00.400Z"],
    ["the same choice long after", ignore30, "ana", "2026-11-21T01:20:00.000Z"],
  ] as [string, IssueAction, "ana" | "ben", string][])("%s restarts the ignore", (_name, action, who, when) => {
    const outcome = applyAction(ignoredByAna(), action, who === "ana" ? ana : ben, at(when));
    expect(outcome.kind).toBe("changed");
    expect(outcome.kind === "changed" && outcome.issue.statusChangedAt).toBe(new Date(when).toISOString());
  });
});
