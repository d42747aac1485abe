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

describe("a recovery while the issue is ignored", () => {
  it("resolves it by the source: ignored for 30 minutes at 03:01, recovered at 03:20, and the 03:31 wake-up changes nothing", () => {
    let issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    issue = ignored(issue, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, minutesAfterFirst(1));

    const recovery = foldAlert(issue, alertmanagerAlert("resolved", FIRST_FIRING, minutesAfterFirst(20).toISOString()), minutesAfterFirst(20));
    expect(recovery?.issue).toMatchObject({ status: "resolved", ignore: undefined, statusChangedBy: "alertmanager" });
    expect(recovery?.activities).toEqual([
      expect.objectContaining({ action: "resolve", actor: "alertmanager", surface: "alert", fromStatus: "ignored", toStatus: "resolved" }),
    ]);
    expect(buildIssueView(recovery!.issue).statusLine).toBe("Resolved by alertmanager · 2026-01-01 03:20 UTC");

    expect(expireIgnore(recovery!.issue, minutesAfterFirst(31))).toBeUndefined();
  });

  it("ignored forever, then recovered: resolved, and its next firing regresses it as any resolved issue's", () => {
    let issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    issue = ignored(issue, { type: "ignore", ignore: { mode: "forever" } }, minutesAfterFirst(1));
    issue = fold(issue, alertmanagerAlert("resolved", FIRST_FIRING, minutesAfterFirst(20).toISOString()), minutesAfterFirst(20));
    expect(issue.status).toBe("resolved");
    const again = foldAlert(issue, alertmanagerAlert("firing", minutesAfterFirst(90).toISOString()), minutesAfterFirst(90))!;
    expect(again).toMatchObject({ regressed: true, issue: { status: "unresolved", substatus: "regressed" } });
  });

  it("a late recovery of an earlier firing leaves the issue ignored when it has fired again since", () => {
    let issue = fold(undefined, alertmanagerAlert("firing", FIRST_FIRING), minutesAfterFirst(0));
    issue = fold(issue, alertmanagerAlert("firing", minutesAfterFirst(60).toISOString()), minutesAfterFirst(60));
    issue = ignored(issue, { type: "ignore", ignore: { mode: "forever" } }, minutesAfterFirst(61));
    expect(foldAlert(issue, alertmanagerAlert("resolved", FIRST_FIRING, minutesAfterFirst(20).toISOString()), minutesAfterFirst(62))).toBeUndefined();
  });
});
