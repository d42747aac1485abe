import { describe, expect, it } from "vitest";
import {
  assignmentNoticeText,
  buildThreadLine,
  MAX_LISTED_CHANGES,
  renderSlackThreadLine,
  renderTeamsThreadLine,
  type NamedPerson,
  type ThreadLineOptions,
} from "../../../shared/cards/thread-line";
import type { ActivityRecord } from "../../../shared/domain/actions";
import { aChange, CHANGE_AT } from "../../fixtures/activities";
import { anIssue } from "../../fixtures/issues";
import { swallowedMarkup } from "./teams-markup";

const AT = CHANGE_AT;
const change = aChange;

const directory: Record<string, NamedPerson> = {
  "ana@contoso.com": { name: "Ana Lima" },
  "ben@contoso.com": { name: "Ben <Ops> & Co", chatUser: { id: "U0BEN", aadObjectId: "00000000-0000-4000-8000-0000000000be" } },
};
const options = (overrides: Partial<ThreadLineOptions> = {}): ThreadLineOptions => ({
  personFor: (email) => directory[email] ?? { name: email },
  broadcastRegressions: true,
  ...overrides,
});

describe("a thread line's view", () => {
  it("names who did it and where: Resolved by Ana Lima · via Slack", () => {
    const view = buildThreadLine(anIssue(), [change({})], options())!;
    expect(renderSlackThreadLine(view).text).toBe("Resolved by Ana Lima · via Slack");
    expect(renderTeamsThreadLine(view).text).toBe("Resolved by Ana Lima · via Slack");
  });

  it("says what each kind of change did", () => {
    const line = (c: Partial<ActivityRecord>) => renderSlackThreadLine(buildThreadLine(anIssue({ count: 1204 }), [change(c)], options())!).text;
    expect(line({ action: "resolve", detail: "in the next release (after 1.2.3)", surface: "teams" })).toBe(
      "Resolved in the next release (after 1.2.3) by Ana Lima · via Teams",
    );
    expect(line({ action: "unresolve", surface: "api", actor: "carl@contoso.com" })).toBe("Unresolved by carl@contoso.com · via the API");
    expect(line({ action: "ignore", detail: "ignored until 100 more events" })).toBe("Ignored until 100 more events by Ana Lima · via Slack");
    expect(line({ action: "unignore" })).toBe("Unignored by Ana Lima · via Slack");
    expect(line({ action: "regressed", actor: "alert", surface: "alert" })).toBe("Regressed: fired again (events 1,204)");
    expect(line({ action: "ignore-expired", actor: "Triage Relay", surface: "system", detail: "ignored until 10 more events" })).toBe(
      "The ignore ran out (ignored until 10 more events): unresolved again (events 1,204)",
    );
    expect(buildThreadLine(anIssue(), [change({ action: "created", actor: "alert", surface: "alert" })], options())).toBeUndefined();
  });

  it("broadcasts a regression of a fatal or error issue only, and only when the setting allows", () => {
    const regressed = [change({ action: "regressed", actor: "alert", surface: "alert" })];
    expect(buildThreadLine(anIssue({ level: "error" }), regressed, options())!.broadcast).toBe(true);
    expect(buildThreadLine(anIssue({ level: "fatal" }), regressed, options())!.broadcast).toBe(true);
    expect(buildThreadLine(anIssue({ level: "warning" }), regressed, options())!.broadcast).toBe(false);
    expect(buildThreadLine(anIssue({ level: "error" }), regressed, options({ broadcastRegressions: false }))!.broadcast).toBe(false);
    expect(buildThreadLine(anIssue({ level: "error" }), [change({})], options())!.broadcast).toBe(false);
    expect(renderSlackThreadLine(buildThreadLine(anIssue(), regressed, options())!).replyBroadcast).toBe(true);
  });
});

describe("mentions", () => {
  const assigned = [change({ action: "assign", detail: "ben@contoso.com", toStatus: "unresolved" })];

  it("Slack: a person linked there is <@U…>; the one who acted is named, not pinged", () => {
    expect(renderSlackThreadLine(buildThreadLine(anIssue(), assigned, options())!).text).toBe("Assigned to <@U0BEN> by Ana Lima · via Slack");
  });

  it("Teams: an <at> mention with its entity (the user's id and Entra object id); other markup escaped", () => {
    const line = renderTeamsThreadLine(buildThreadLine(anIssue(), assigned, options())!);
    expect(line.text).toBe("Assigned to <at>Ben &lt;Ops&gt; &amp; Co</at> by Ana Lima · via Slack");
    expect(line.entities).toEqual([
      {
        type: "mention",
        text: "<at>Ben &lt;Ops&gt; &amp; Co</at>",
        mentioned: { id: "U0BEN", name: "Ben <Ops> & Co", aadObjectId: "00000000-0000-4000-8000-0000000000be" },
      },
    ]);
    // Teams drops `<…>` it takes for markup: only the mention may remain.
    expect(swallowedMarkup(line.text).filter((tag) => !/^<\/?at>$/.test(tag))).toEqual([]);
  });

  it("a person not linked on the platform is named in plain text, escaped", () => {
    const unlinked = options({ personFor: (email) => ({ name: email === "ben@contoso.com" ? "Ben <Ops>" : "Ana" }) });
    const view = buildThreadLine(anIssue(), assigned, unlinked)!;
    expect(renderSlackThreadLine(view).text).toBe("Assigned to Ben &lt;Ops&gt; by Ana · via Slack");
    const teams = renderTeamsThreadLine(view);
    expect(teams.text).toBe("Assigned to Ben &lt;Ops&gt; by Ana · via Slack");
    expect(teams.entities).toEqual([]);
  });

  it("unassigning mentions the person unassigned", () => {
    const view = buildThreadLine(anIssue(), [change({ action: "unassign", detail: "ben@contoso.com", surface: "teams" })], options())!;
    expect(renderSlackThreadLine(view).text).toBe("Unassigned <@U0BEN> by Ana Lima · via Teams");
  });
});

describe("coalescing: one line for a burst", () => {
  it("a few changes: one line listing each, oldest first", () => {
    const view = buildThreadLine(
      anIssue(),
      [change({ action: "resolve" }), change({ action: "unresolve", surface: "teams" }), change({ action: "assign", detail: "ben@contoso.com" })],
      options(),
    )!;
    expect(renderSlackThreadLine(view).text).toBe(
      [
        "3 changes:",
        "• Resolved by Ana Lima · via Slack",
        "• Unresolved by Ana Lima · via Teams",
        "• Assigned to <@U0BEN> by Ana Lima · via Slack",
      ].join("\n"),
    );
    expect(renderTeamsThreadLine(view).text.split("\n")).toEqual([
      "3 changes:",
      "- Resolved by Ana Lima · via Slack",
      "- Unresolved by Ana Lima · via Teams",
      "- Assigned to <at>Ben &lt;Ops&gt; &amp; Co</at> by Ana Lima · via Slack",
    ]);
  });

  it("30 changes: one short line, the latest listed and the rest counted", () => {
    const burst = Array.from({ length: 30 }, (_, n) => change(n % 2 === 0 ? { action: "resolve" } : { action: "unresolve" }));
    const view = buildThreadLine(anIssue(), burst, options())!;
    expect(view.changes).toHaveLength(MAX_LISTED_CHANGES);
    expect(view.omitted).toBe(30 - MAX_LISTED_CHANGES);
    const text = renderSlackThreadLine(view).text;
    expect(text.split("\n")[0]).toBe(`30 changes, the latest ${MAX_LISTED_CHANGES}:`);
    expect(text.split("\n")).toHaveLength(MAX_LISTED_CHANGES + 1);
    expect(text.split("\n").at(-1)).toBe("• Unresolved by Ana Lima · via Slack");
  });

  it("a mentioned person's entity is listed once however often they are named", () => {
    const twice = [change({ action: "assign", detail: "ben@contoso.com" }), change({ action: "unassign", detail: "ben@contoso.com" })];
    expect(renderTeamsThreadLine(buildThreadLine(anIssue(), twice, options())!).entities).toHaveLength(1);
  });
});

describe("assignment notices", () => {
  it("say who assigned which issue", () => {
    expect(assignmentNoticeText("assign", "Ana Lima", anIssue())).toBe("Ana Lima assigned you CHECKOUT-12");
    expect(assignmentNoticeText("unassign", "Ana Lima", anIssue())).toBe("Ana Lima unassigned you from CHECKOUT-12");
    expect(assignmentNoticeText("assign", "Ana", anIssue({ shortId: undefined }))).toBe("Ana assigned you TypeError: cart is undefined");
  });
});
