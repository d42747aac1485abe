import { describe, expect, it } from "vitest";
import { applyAction } from "../../../shared/domain/actions";
import type { Actor } from "../../../shared/domain/issue";
import { foldAlert } from "../../../shared/domain/recovery";
import { buildIssueView } from "../../../shared/cards/view";
import { anAlert, anIssue } from "../../fixtures/issues";
import { alertmanagerAlert } from "../../fixtures/alertmanager-alerts";

const ana: Actor = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "teams" };
const ben: Actor = { person: { email: "ben@contoso.com", name: "Ben" }, label: "Ben", surface: "slack" };

const ignoreLabels = (issue: Parameters<typeof buildIssueView>[0]) =>
  (buildIssueView(issue).actions.ignoreOptions ?? []).map((choice) => choice.label);

describe("the card's ignore choices", () => {
  it("an issue whose alerts count no users (Alertmanager: userCount 0) is not offered 'until N more users'", () => {
    const issue = foldAlert(undefined, alertmanagerAlert("firing", "2026-01-01T03:00:00.000Z"), new Date("2026-01-01T03:00:00.000Z"))!.issue;
    const labels = ignoreLabels(issue);
    expect(labels).toContain("Until 10 more events");
    expect(labels.filter((label) => /users/.test(label))).toEqual([]);
  });

  it("an issue with users (Sentry's issue alerts) is offered them", () => {
    const issue = foldAlert(undefined, anAlert({ issue: { userCount: 12 } }), new Date())!.issue;
    expect(ignoreLabels(issue)).toEqual(expect.arrayContaining(["Until 10 more users", "Until 100 more users"]));
  });
});

describe("the card's status line after a second ignore", () => {
  it("credits whoever ignored it last: Ana for 30 minutes, then Ben forever", () => {
    const byAna = applyAction(anIssue(), { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, ana, new Date("2026-01-01T01:00:00.000Z"));
    if (byAna.kind !== "changed") throw new Error(byAna.kind);
    const byBen = applyAction(byAna.issue, { type: "ignore", ignore: { mode: "forever" } }, ben, new Date("2026-01-01T01:20:00.000Z"));
    if (byBen.kind !== "changed") throw new Error(byBen.kind);
    expect(buildIssueView(byBen.issue).statusLine).toBe("Ignored forever by Ben · 2026-01-01 01:20 UTC");
  });
});
