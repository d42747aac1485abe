import { describe, expect, it } from "vitest";
import type { IssueAction } from "../../../shared/domain/actions";
import type { Actor } from "../../../shared/domain/issue";
import { clickNotice, runCardClick, type CardClick, type ClickSteps } from "../../../shared/workflows/card-click";
import type { ActedOnIssue } from "../../../shared/workflows/issue-actions";
import { anIssue } from "../../fixtures/issues";

const click: CardClick = { provider: "slack", scope: "T1", issueId: "i-1", requested: { type: "resolve" } };
const ana: Actor = { person: { email: "ana@contoso.com" }, label: "ana", surface: "slack" };
const resolved = anIssue({ id: "i-1", status: "resolved" });
const announce = () => Promise.resolve();

/** The steps a platform supplies, recording which ran; each may be replaced. */
function steps(overrides: Partial<ClickSteps<string>> = {}) {
  const ran: string[] = [];
  const all: ClickSteps<string> = {
    identify: async () => (ran.push("identify"), ana),
    promptToLink: async () => (ran.push("promptToLink"), "link prompt"),
    decide: async () => (ran.push("decide"), { kind: "apply", action: { type: "resolve" } }),
    apply: async (action: IssueAction) => (
      ran.push(`apply ${action.type}`), { outcome: { kind: "changed", issue: resolved, activities: [], message: "" }, issue: resolved, announce }
    ),
    log: () => {},
    ...overrides,
  };
  return { ran, steps: all };
}

describe("the one click flow", () => {
  it("a known clicker: identified, the change decided and applied, the new state as the outcome", async () => {
    const { ran, steps: s } = steps();
    const result = await runCardClick(click, s);
    expect(ran).toEqual(["identify", "decide", "apply resolve"]);
    expect(result).toMatchObject({ kind: "acted", outcome: { kind: "changed", issue: resolved } });
  });

  it("an unknown clicker gets the link prompt, and nothing is decided or applied", async () => {
    const { ran, steps: s } = steps({ identify: async () => ({ label: "ben", surface: "teams" }) });
    expect(await runCardClick(click, s)).toEqual({ kind: "link-needed", prompt: "link prompt" });
    expect(ran).toEqual(["promptToLink"]);
  });

  it("a platform that answers or hands off before identifying stops the flow there", async () => {
    const answered = steps({ identify: async () => ({ kind: "answer", text: "not installed" }) });
    expect(await runCardClick(click, answered.steps)).toEqual({ kind: "answer", text: "not installed" });
    const handedOff = steps({ identify: async () => ({ kind: "hand-off", reason: "later" }) });
    expect(await runCardClick(click, handedOff.steps)).toEqual({ kind: "hand-off", reason: "later" });
    expect([...answered.ran, ...handedOff.ran]).toEqual([]);
  });

  it("a change refused while deciding is answered without applying", async () => {
    const { ran, steps: s } = steps({ decide: async () => ({ kind: "answer", text: "That user is a bot." }) });
    expect(await runCardClick(click, s)).toEqual({ kind: "answer", text: "That user is a bot." });
    expect(ran).toEqual(["identify"]);
  });

  it("a click given away while applying is left to whoever took it", async () => {
    const { steps: s } = steps({ apply: async () => undefined });
    expect(await runCardClick(click, s)).toEqual({ kind: "given-away" });
  });

  it("outcomes: no change says why, a refusal says it couldn't, a missing issue says so", async () => {
    const outcomeOf = async (acted: Omit<ActedOnIssue, "announce">) => {
      const result = await runCardClick(click, steps({ apply: async () => ({ ...acted, announce }) }).steps);
      if (result.kind !== "acted") throw new Error(result.kind);
      return result.outcome;
    };
    const unchanged = await outcomeOf({ outcome: { kind: "unchanged", issue: resolved, message: "It's already resolved." }, issue: resolved });
    expect(unchanged).toEqual({ kind: "unchanged", issue: resolved, message: "It's already resolved." });
    expect(clickNotice(unchanged)).toBe("It's already resolved.");
    const refused = await outcomeOf({ outcome: { kind: "refused", reason: "no release named" }, issue: resolved });
    expect(refused).toEqual({ kind: "refused", issue: resolved, message: "no release named" });
    expect(clickNotice(refused)).toBe("Couldn't do that: no release named");
    const missing = await outcomeOf({ outcome: { kind: "not-found", reason: "There is no issue i-1." } });
    expect(clickNotice(missing)).toBe("Couldn't do that: There is no issue i-1.");
    expect(clickNotice({ kind: "changed" })).toBeUndefined();
  });
});
