import { describe, expect, it } from "vitest";
import { cardActionPayload, toIssueAction } from "../../../shared/cards/card-action";
import { buildIssueView } from "../../../shared/cards/view";
import { applyAction } from "../../../shared/domain/actions";
import { anIssue, NOW } from "../../fixtures/issues";

const ana = { email: "ana@contoso.com", name: "Ana Lima" };
const ben = { email: "ben@contoso.com", name: "Ben Okafor" };

describe("an assignee picked from the card's menu", () => {
  it("shows by name, like every other line, when the person is known", () => {
    const payload = cardActionPayload("issue-1", 1, { type: "assign", assignee: ben.email });
    const outcome = applyAction(anIssue(), toIssueAction(payload, [ana, ben]), { person: ana, label: "Ana Lima", surface: "teams" }, NOW);
    expect(outcome.kind).toBe("changed");
    if (outcome.kind !== "changed") return;
    expect(outcome.message).toBe("Assigned to Ben Okafor by Ana Lima.");
    expect(buildIssueView(outcome.issue).assigneeLine).toBe("Assigned to Ben Okafor");
  });

  it("shows the email when nobody by that email is known", () => {
    const payload = cardActionPayload("issue-1", 1, { type: "assign", assignee: "cleo@contoso.com" });
    const outcome = applyAction(anIssue(), toIssueAction(payload, [ana]), { person: ana, label: "Ana Lima", surface: "teams" }, NOW);
    expect(outcome.kind === "changed" && buildIssueView(outcome.issue).assigneeLine).toBe("Assigned to cleo@contoso.com");
  });
});

describe("the status line after a click", () => {
  const ana = { email: "ana@contoso.com", name: "Ana Lima" };
  const actor = { person: ana, label: "Ana Lima", surface: "teams" as const };

  it("Unignore says Unignored by, Unresolve says Unresolved by", () => {
    const ignored = applyAction(anIssue(), { type: "ignore", ignore: { mode: "forever" } }, actor, NOW);
    if (ignored.kind !== "changed") throw new Error("not ignored");
    const unignored = applyAction(ignored.issue, { type: "unignore" }, actor, NOW);
    expect(unignored.kind === "changed" && buildIssueView(unignored.issue).statusLine).toMatch(/^Unignored by Ana Lima/);

    const resolved = applyAction(anIssue(), { type: "resolve" }, actor, NOW);
    if (resolved.kind !== "changed") throw new Error("not resolved");
    const unresolved = applyAction(resolved.issue, { type: "unresolve" }, actor, NOW);
    expect(unresolved.kind === "changed" && buildIssueView(unresolved.issue).statusLine).toMatch(/^Unresolved by Ana Lima/);
  });
});
