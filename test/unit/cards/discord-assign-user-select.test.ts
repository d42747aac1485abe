import { describe, expect, it } from "vitest";
import { componentErrors } from "../../../dev/emulators/discord/components";
import { decodeDiscordComponent, renderDiscordMessage } from "../../../shared/cards/discord-message";
import { buildIssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";

type Component = { type: number; custom_id: string; label?: string; default_values?: unknown[]; options?: unknown[] };
const componentsOf = (message: ReturnType<typeof renderDiscordMessage>) =>
  message.components.flatMap((row) => row.components as unknown as Component[]);
const people = Array.from({ length: 60 }, (_, i) => ({ email: `person${i}@contoso.com`, name: `Person ${i}` }));
const BEN = "110000000000000042";

describe("the Discord card's Assign", () => {
  it("is Discord's user select (anyone in the server), with Assign to me and Unassign as buttons, however many are linked", () => {
    const message = renderDiscordMessage(buildIssueView(anIssue({ assignee: { email: "ben@contoso.com" } }), { assignChoices: people }));
    const components = componentsOf(message);
    expect(components.find((c) => c.type === 5)).toEqual({
      type: 5,
      custom_id: "assign-user~issue-1",
      placeholder: "Assign…",
      min_values: 1,
      max_values: 1,
    });
    expect(components.filter((c) => c.type === 2).map((c) => c.label)).toEqual(expect.arrayContaining(["Assign to me", "Unassign"]));
    expect(JSON.stringify(components)).not.toContain("person59@contoso.com");
    expect(componentErrors(message.components)).toBeUndefined();
  });

  it("shows the current assignee chosen when they are linked in the server", () => {
    const view = buildIssueView(anIssue({ assignee: { email: "ben@contoso.com" } }), { assigneeChatUserId: BEN });
    const select = componentsOf(renderDiscordMessage(view)).find((c) => c.type === 5);
    expect(select?.default_values).toEqual([{ id: BEN, type: "user" }]);
  });

  it("fits Discord's limits in every state: at most 5 rows, 5 buttons a row, a select alone in its row", () => {
    const issues = [
      anIssue({ assignee: { email: "ben@contoso.com" } }),
      anIssue({ tags: { release: "1.2.3" }, assignee: { email: "ben@contoso.com" } }),
      anIssue({ status: "resolved", assignee: { email: "ben@contoso.com" } }),
      anIssue({ status: "ignored", ignore: { mode: "forever" } }),
      anIssue({ id: "x".repeat(150) }),
    ];
    for (const issue of issues) {
      const message = renderDiscordMessage(buildIssueView(issue, { assignChoices: people }));
      expect(componentErrors(message.components)).toBeUndefined();
      expect(componentsOf(message).some((c) => c.type === 5)).toBe(true);
    }
  });

  it("reads a pick back as the picked user, and still reads the older cards' Assign menu and buttons", () => {
    expect(decodeDiscordComponent("assign-user~issue-1", [BEN])).toEqual({
      v: 1,
      issueId: "issue-1",
      action: { type: "assign", discordUserId: BEN },
    });
    expect(decodeDiscordComponent("assign-user~issue-1", ["assign:me"])).toBeUndefined();
    expect(decodeDiscordComponent("assign-user~issue-1", undefined)).toBeUndefined();
    expect(decodeDiscordComponent("assign~issue-1", ["assign:cy@contoso.com"])?.action).toEqual({ type: "assign", assignee: "cy@contoso.com" });
    expect(decodeDiscordComponent("assign~issue-1", ["assign:me"])?.action).toEqual({ type: "assign", assignee: "me" });
    expect(decodeDiscordComponent("assign:me~issue-1", undefined)?.action).toEqual({ type: "assign", assignee: "me" });
  });

  it("reads the issue of a pick from the footer when the custom_id had no room for it", () => {
    const issueId = "x".repeat(150);
    const message = renderDiscordMessage(buildIssueView(anIssue({ id: issueId })));
    const select = componentsOf(message).find((c) => c.type === 5)!;
    expect(decodeDiscordComponent(select.custom_id, [BEN], message.embeds)?.issueId).toBe(issueId);
  });
});
