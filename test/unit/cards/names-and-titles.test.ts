import { describe, expect, it } from "vitest";
import { renderDiscordMessage } from "../../../shared/cards/discord-message";
import { renderSlackMessage, type SlackMessage } from "../../../shared/cards/slack-message";
import { renderTeamsCard, type AdaptiveCard, type CardElement, type ExecuteAction, type TextBlock } from "../../../shared/cards/teams-card";
import { assignmentNoticeText, buildThreadLine, renderSlackThreadLine, renderTeamsThreadLine } from "../../../shared/cards/thread-line";
import { buildIssueView } from "../../../shared/cards/view";
import { aChange } from "../../fixtures/activities";
import { anIssue } from "../../fixtures/issues";

const FSI = "\u2068";
const PDI = "\u2069";
const RLO = "\u202E";

function teamsBlocks(card: AdaptiveCard): TextBlock[] {
  const walk = (elements: CardElement[]): TextBlock[] =>
    elements.flatMap((e) => (e.type === "TextBlock" ? [e] : e.type === "Container" ? walk(e.items) : []));
  return walk(card.body);
}

function teamsMenu(card: AdaptiveCard, title: string): string[] {
  const menu = card.actions?.find((a) => a.title === title);
  if (menu?.type !== "Action.ShowCard") return [];
  return menu.card.body.flatMap((row) => (row.type === "ActionSet" ? row.actions.map((a) => (a as ExecuteAction).title) : []));
}

function slackTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) =>
    (b.type === "section" ? [b.text, ...(b.fields ?? [])] : b.type === "context" ? b.elements : []).flatMap((t) => (t ? [t.text] : [])),
  );
}

describe("a title with line breaks shows on one line, its link whole", () => {
  const view = buildIssueView(anIssue({ title: "Crash in checkout\n\nStep 2\t  failed" }));

  it("Teams: one link over the whole title (a blank line would split the paragraph and break the link)", () => {
    const title = teamsBlocks(renderTeamsCard(view)).find((t) => t.size === "Medium")!.text;
    expect(title).toBe("[Crash in checkout Step 2 failed](https://sentry.example.com/issues/1)");
  });

  it("Slack: the title's link and the notification text", () => {
    const message = renderSlackMessage(view);
    expect(slackTexts(message)).toContain("🔴 *<https://sentry.example.com/issues/1|Crash in checkout Step 2 failed>*");
    expect(message.text).toBe("🔴 [error] Crash in checkout Step 2 failed — Unresolved");
  });

  it("Discord: the embed's title", () => {
    expect(renderDiscordMessage(view).embeds[0]!.title).toBe("ERROR: Crash in checkout Step 2 failed");
  });
});

describe("a person whose name is only spaces is shown by their email", () => {
  const view = buildIssueView(anIssue({ assignee: { email: "ben@contoso.com", name: "   " } }), {
    assignChoices: [
      { email: "cy@contoso.com", name: " " },
      { email: "dee@contoso.com", name: "Dee" },
    ],
  });

  it("Teams: 'Assigned to ben@contoso.com', and Cy's button says cy@contoso.com", () => {
    const card = renderTeamsCard(view);
    expect(teamsBlocks(card).map((t) => t.text)).toContain("Assigned to ben@contoso.com");
    expect(teamsMenu(card, "Assign ▸")).toEqual(["Assign to me", "cy@contoso.com", "Dee"]);
  });

  it("Slack: 'Assigned to ben@contoso.com'", () => {
    expect(slackTexts(renderSlackMessage(view))).toContain("Assigned to ben@contoso.com");
  });

  it("Discord: the Assignee field", () => {
    const message = renderDiscordMessage(view);
    expect(message.embeds[0]!.fields).toContainEqual({ name: "Assignee", value: "ben@contoso.com", inline: false });
  });
});

describe("right-to-left text in a name or title can't reverse our words around it", () => {
  it("Slack's notification text isolates the title, so ' — Resolved by Ana' reads left to right", () => {
    const message = renderSlackMessage(
      buildIssueView(anIssue({ title: `Error ${RLO}reversed`, status: "resolved", substatus: undefined, statusChangedBy: "Ana" })),
    );
    expect(message.text).toBe(`🔴 [error] ${FSI}Error ${RLO}reversed${PDI} — Resolved by Ana`);
  });

  it("the status and assignee lines isolate the names in them, on every platform", () => {
    const view = buildIssueView(
      anIssue({
        status: "resolved",
        substatus: undefined,
        statusChangedBy: `${RLO}Ana`,
        statusChangedAt: "2026-11-21T14:02:00.000Z",
        assignee: { email: "dana@contoso.com", name: "דנה כהן" },
      }),
    );
    const status = `Resolved by ${FSI}${RLO}Ana${PDI} · 2026-11-21 14:02 UTC`;
    const assignee = `Assigned to ${FSI}דנה כהן${PDI}`;
    expect(teamsBlocks(renderTeamsCard(view)).map((t) => t.text)).toEqual(expect.arrayContaining([status, assignee]));
    expect(slackTexts(renderSlackMessage(view))).toEqual(expect.arrayContaining([`*${status}*`, assignee]));
    expect(
      renderDiscordMessage(view)
        .embeds[0]!.fields!.slice(0, 2)
        .map((f) => f.value),
    ).toEqual([status, `${FSI}דנה כהן${PDI}`]);
  });

  it("thread lines and assignment notices isolate the names and the title they carry", () => {
    const personFor = (email: string) => ({ name: email === "ana@contoso.com" ? `${RLO}Ana` : "Ben" });
    const line = buildThreadLine(anIssue(), [aChange({ action: "assign", detail: "ben@contoso.com" })], { personFor, broadcastRegressions: false })!;
    expect(renderSlackThreadLine(line).text).toBe(`Assigned to Ben by ${FSI}${RLO}Ana${PDI} · via Slack`);
    expect(renderTeamsThreadLine(line).text).toBe(`Assigned to Ben by ${FSI}${RLO}Ana${PDI} · via Slack`);
    expect(assignmentNoticeText("assign", `${RLO}Ana`, anIssue({ shortId: undefined, title: "שגיאה" }))).toBe(
      `${FSI}${RLO}Ana${PDI} assigned you ${FSI}שגיאה${PDI}`,
    );
  });
});
