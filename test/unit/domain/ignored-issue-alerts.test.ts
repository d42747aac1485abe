import { describe, expect, it } from "vitest";
import { applyAction, expireIgnore } from "../../../shared/domain/actions";
import type { Issue } from "../../../shared/domain/issue";
import { foldAlert } from "../../../shared/domain/recovery";
import { buildIssueView } from "../../../shared/cards/view";
import { alertmanagerAlert } from "../../fixtures/alertmanager-alerts";
import { ana, anAlert, anIssue, NOW } from "../../fixtures/issues";

const FIRST_FIRING = "2026-01-01T03:00:00.000Z";
const minutesAfterFirst = (minutes: number) => new Date(Date.parse(FIRST_FIRING) + minutes * 60_000);

function fold(issue: Issue | undefined, alert: ReturnType<typeof alertmanagerAlert>, at: Date): Issue {
  return foldAlert(issue, alert, at)?.issue ?? issue!;
}

function ignored(issue: Issue, ignore: Parameters<typeof applyAction>[1], at: Date): Issue {
  const outcome = applyAction(issue, ignore, ana, at);
  if (outcome.kind !== "changed") throw new Error(outcome.kind);
  return outcome.issue;
}

describe("'until N more events' for a source that sends count 1 with every alert (Alertmanager, Grafana, Azure Monitor)", () => {
  it("each new firing is one more event: ignored until 10 more, the 10th new firing brings it back as the ignore running out", () => {
    let issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    issue = ignored(issue, { type: "ignore", ignore: { mode: "events", count: 10 } }, minutesAfterFirst(1));
    // send_resolved off, a flapping probe: a new firing (new startsAt, new alertId) every hour.
    for (let n = 1; n <= 9; n++) issue = fold(issue, alertmanagerAlert("firing", minutesAfterFirst(60 * n).toISOString()), minutesAfterFirst(60 * n));
    expect(issue).toMatchObject({ status: "ignored", count: 10 });

    const tenth = foldAlert(issue, alertmanagerAlert("firing", minutesAfterFirst(600).toISOString()), minutesAfterFirst(600))!;
    expect(tenth.issue).toMatchObject({ status: "unresolved", substatus: "escalating", count: 11 });
    expect(tenth.activities.map((a) => a.action)).toEqual(["ignore-expired"]);
    expect(buildIssueView(tenth.issue).statusLine).toBe("Unresolved: the ignore ran out · 2026-01-01 13:00 UTC");
    expect(buildIssueView(tenth.issue).facts).toContainEqual({ label: "Events", value: "11" });
  });

  it("a recovery is not an event", () => {
    const issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    const recovered = fold(issue, alertmanagerAlert("resolved", FIRST_FIRING, minutesAfterFirst(20).toISOString()), minutesAfterFirst(20));
    expect(recovered).toMatchObject({ status: "resolved", count: 1 });
  });
});

describe("a producer that reports the issue's total count (alert schema v1)", () => {
  it("its total is taken when it is ahead; a late or repeated report leaves it", () => {
    const ahead = foldAlert(
      anIssue({ count: 57 }),
      anAlert({ alertId: "a2", issue: { count: 60, lastSeen: "2026-11-21T14:00:00.000Z" } }),
      NOW,
    )!.issue;
    expect(ahead.count).toBe(60);
    expect(foldAlert(ahead, anAlert({ alertId: "a3", issue: { count: 58 } }), NOW)!.issue.count).toBe(60);
    expect(foldAlert(ahead, anAlert({ alertId: "a4", issue: { count: 60, lastSeen: "2026-11-21T14:01:00.000Z" } }), NOW)!.issue.count).toBe(60);
  });
});

/** Sentry's "archived": an ignored issue stays ignored whatever its source says until the ignore runs out. */
describe("a recovery while the issue is ignored: the ignore holds, and how it ends depends on the source's last word", () => {
  const recoveryAt = (minutes: number) => alertmanagerAlert("resolved", FIRST_FIRING, minutesAfterFirst(minutes).toISOString());
  const firingAt = (minutes: number) => alertmanagerAlert("firing", minutesAfterFirst(minutes).toISOString());

  function ignoredAt(minutes: number, ignore: Parameters<typeof applyAction>[1]): Issue {
    return ignored(fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0)), ignore, minutesAfterFirst(minutes));
  }

  it("ignored forever at 03:01, recovered at 03:20, firing again at 04:30: still ignored forever, no regression, no new card", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "forever" } });
    const recovery = foldAlert(issue, recoveryAt(20), minutesAfterFirst(20))!;
    expect(recovery.issue).toMatchObject({ status: "ignored", ignore: { mode: "forever" }, statusChangedBy: "Ana" });
    expect(recovery.activities).toEqual([]);

    const again = foldAlert(recovery.issue, firingAt(90), minutesAfterFirst(90))!;
    expect(again).toMatchObject({ regressed: false, levelRose: false, activities: [], issue: { status: "ignored", ignore: { mode: "forever" } } });
    expect(buildIssueView(again.issue).statusLine).toBe("Ignored forever by Ana · 2026-01-01 03:01 UTC");
  });

  it("ignored forever, recovered, and Alertmanager firing the same alert again (same startsAt): still ignored", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "forever" } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const again = foldAlert(recovered, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(40), undefined, { firesAgain: true })!;
    expect(again).toMatchObject({ regressed: false, issue: { status: "ignored", ignore: { mode: "forever" } } });
  });

  it("ignored for 30 minutes at 03:01, recovered at 03:20: ignored until the 03:31 wake-up, which resolves it by alertmanager", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    expect(buildIssueView(recovered).statusLine).toBe("Ignored until 2026-01-01 03:31 UTC by Ana · 2026-01-01 03:01 UTC");

    const wakeUp = expireIgnore(recovered, minutesAfterFirst(31))!;
    expect(wakeUp.issue).toMatchObject({ status: "resolved", ignore: undefined, statusChangedBy: "alertmanager" });
    expect(wakeUp.activity).toMatchObject({
      action: "resolve",
      actor: "alertmanager",
      surface: "alert",
      fromStatus: "ignored",
      toStatus: "resolved",
    });
    expect(buildIssueView(wakeUp.issue).statusLine).toBe("Resolved by alertmanager · 2026-01-01 03:31 UTC");

    // Resolved like any recovered issue: its next firing regresses it.
    const next = foldAlert(wakeUp.issue, firingAt(90), minutesAfterFirst(90))!;
    expect(next).toMatchObject({ regressed: true, issue: { status: "unresolved", substatus: "regressed" } });
  });

  it("ignored for 30 minutes, recovered at 03:20, firing again at 03:25: the 03:31 wake-up unresolves it as usual", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } });
    const firing = fold(fold(issue, recoveryAt(20), minutesAfterFirst(20)), firingAt(25), minutesAfterFirst(25));
    expect(firing.status).toBe("ignored");

    const wakeUp = expireIgnore(firing, minutesAfterFirst(31))!;
    expect(wakeUp.issue).toMatchObject({ status: "unresolved", substatus: "escalating" });
    expect(wakeUp.activity).toMatchObject({ action: "ignore-expired", fromStatus: "ignored", toStatus: "unresolved" });
    expect(buildIssueView(wakeUp.issue).statusLine).toBe("Unresolved: the ignore ran out · 2026-01-01 03:31 UTC");
  });

  it("Alertmanager firing the same alert again after the recovery (same startsAt) is firing again: unresolved at the wake-up", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const again = foldAlert(recovered, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(25), undefined, { firesAgain: true })!.issue;
    expect(expireIgnore(again, minutesAfterFirst(31))!.issue).toMatchObject({ status: "unresolved", substatus: "escalating" });
  });

  it("a firing from before the recovery that arrives after it leaves the recovery the last word: resolved at the wake-up", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const late = fold(recovered, firingAt(10), minutesAfterFirst(22));
    expect(expireIgnore(late, minutesAfterFirst(31))!.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
  });

  it("ignored until 10 more events, recovered in between: the 10th new firing brings it back unresolved, as the ignore running out", () => {
    let issue = ignoredAt(1, { type: "ignore", ignore: { mode: "events", count: 10 } });
    issue = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    for (let n = 1; n <= 9; n++) issue = fold(issue, firingAt(60 * n), minutesAfterFirst(60 * n));
    expect(issue).toMatchObject({ status: "ignored", count: 10 });

    const tenth = foldAlert(issue, firingAt(600), minutesAfterFirst(600))!;
    expect(tenth).toMatchObject({ regressed: false, issue: { status: "unresolved", substatus: "escalating", count: 11 } });
    expect(tenth.activities.map((a) => a.action)).toEqual(["ignore-expired"]);
  });

  it("ignored forever, recovered, then ignored for 30 minutes instead: the recovery still counts when those run out", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "forever" } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const shorter = ignored(recovered, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, minutesAfterFirst(40));
    expect(shorter.status).toBe("ignored");
    expect(expireIgnore(shorter, minutesAfterFirst(70))!.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
  });

  it("a click after the ignore ran out finds the issue resolved by alertmanager first", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const outcome = applyAction(recovered, { type: "assign", assignee: "me" }, ana, minutesAfterFirst(40));
    expect(outcome).toMatchObject({
      kind: "changed",
      issue: { status: "resolved", statusChangedBy: "alertmanager", assignee: { email: "ana@contoso.com" } },
    });
    expect(outcome.kind === "changed" && outcome.activities.map((a) => [a.action, a.actor])).toEqual([
      ["resolve", "alertmanager"],
      ["assign", "ana@contoso.com"],
    ]);
  });

  it("unignored after the recovery: unresolved, as the person chose", () => {
    const issue = ignoredAt(1, { type: "ignore", ignore: { mode: "forever" } });
    const recovered = fold(issue, recoveryAt(20), minutesAfterFirst(20));
    const outcome = applyAction(recovered, { type: "unignore" }, ana, minutesAfterFirst(40));
    expect(outcome).toMatchObject({ kind: "changed", issue: { status: "unresolved", ignore: undefined } });
  });

  it("a late recovery of an earlier firing changes nothing when the issue has fired again since", () => {
    let issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    issue = fold(issue, firingAt(60), minutesAfterFirst(60));
    issue = ignored(issue, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, minutesAfterFirst(61));
    expect(foldAlert(issue, recoveryAt(20), minutesAfterFirst(62))).toBeUndefined();
    expect(expireIgnore(issue, minutesAfterFirst(91))!.issue.status).toBe("unresolved");
  });
});
