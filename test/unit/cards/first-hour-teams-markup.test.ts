import { describe, expect, it } from "vitest";
import { teamsCardAttachment } from "../../../shared/cards/teams-card";
import { noticeCard } from "../../../shared/cards/teams-notices";
import { buildIssueView } from "../../../shared/cards/view";
import { parseCommand } from "../../../shared/workflows/commands";
import { anIssue } from "../../fixtures/issues";
import { hugeVariants, stateVariants } from "./variants";
import { swallowedMarkup, teamsTexts } from "./teams-markup";

describe("the markup check itself", () => {
  it("finds what a renderer takes as HTML, and leaves text alone", () => {
    expect(swallowedMarkup("**subscribe <project> [level]**")).toEqual(["<project>"]);
    expect(swallowedMarkup("see <https://example.com/x>")).toEqual(["<https://example.com/x>"]);
    expect(swallowedMarkup("a <b>bold</b> <!-- c -->")).toEqual(["<b>", "</b>", "<!-- c -->"]);
    expect(swallowedMarkup("1 < 2 and 3 > 2, \\<escaped\\>, subscribe PROJECT [LEVEL]")).toEqual([]);
  });
});

describe("no Teams card text is swallowed as markup", () => {
  it("issue cards in every state, and alert text full of angle brackets", () => {
    const nasty = anIssue({
      title: "<script>alert(1)</script> in <Checkout> <https://evil.example>",
      culprit: "Foo<T>.bar()",
      description: "<!-- hidden --> a <b>b</b>",
      tags: { "<k>": "<v>" },
    });
    const views = [
      ...stateVariants().map((v) => v.view),
      ...hugeVariants().map((v) => v.view),
      buildIssueView(nasty, { assignChoices: [{ email: "a@b.c", name: "<Ana>" }] }),
    ];
    for (const view of views) {
      for (const text of teamsTexts(teamsCardAttachment(view).content)) expect(swallowedMarkup(text), text).toEqual([]);
    }
  });

  it("the commands' usage answers", () => {
    for (const typed of ["subscribe", "subscribe ???", "unsubscribe", "subscribe checkout panic"]) {
      const command = parseCommand(typed);
      expect(command.name).toBe("invalid");
      if (command.name === "invalid") expect(swallowedMarkup(command.reason), command.reason).toEqual([]);
    }
  });

  it("notice cards keep what they are given (callers pass plain words)", () => {
    const card = noticeCard(
      "Triage Relay is ready",
      ["Mention me with **subscribe PROJECT [LEVEL]**."],
      [{ title: "Conversation id", value: "19:x@thread.tacv2" }],
    );
    for (const text of teamsTexts(card)) expect(swallowedMarkup(text)).toEqual([]);
  });
});
