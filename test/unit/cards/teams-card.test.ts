import * as AC from "adaptivecards";
import { noticeCard } from "../../../shared/cards/teams-notices";
import { describe, expect, it } from "vitest";
import { cardActionPayloadSchema } from "../../../shared/cards/card-action";
import {
  renderTeamsCard,
  TEAMS_CARD_BUDGET_BYTES,
  teamsCardAttachment,
  teamsCardSize,
  type AdaptiveCard,
  type CardElement,
  type ExecuteAction,
  type ShowCardAction,
  type TextBlock,
} from "../../../shared/cards/teams-card";
import { buildIssueView, IGNORE_CHOICES, RESOLVE_CHOICES, type IssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";
import { ben, hasLoneSurrogate, hugeVariants, people, stateVariants, type StateName } from "./variants";

/** Parse and validation events from the Adaptive Cards object model, as messages. */
function adaptiveCardProblems(json: object): string[] {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of card.validateProperties().validationEvents) problems.push(`validate: ${event.message}`);
  return problems;
}

function stringifyNumbers(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === "number" ? String(v) : v)));
}

function menus(card: AdaptiveCard): ShowCardAction[] {
  return (card.actions ?? []).filter((action): action is ShowCardAction => action.type === "Action.ShowCard");
}

/** Every Action.Execute on the card, including those inside Ignore ▸ and Assign ▸. */
function executeActions(card: AdaptiveCard): ExecuteAction[] {
  const fromElements = (elements: CardElement[]): ExecuteAction[] =>
    elements.flatMap((element) => {
      if (element.type === "ActionSet") return fromActions(element.actions);
      if (element.type === "Container") return fromElements(element.items);
      return [];
    });
  const fromActions = (actions: AdaptiveCard["actions"] = []): ExecuteAction[] =>
    actions.flatMap((action) =>
      action.type === "Action.Execute" ? [action] : [...fromElements(action.card.body), ...fromActions(action.card.actions)],
    );
  return [...fromElements(card.body), ...fromActions(card.actions)];
}

function menu(card: AdaptiveCard, title: string): ExecuteAction[] {
  const found = menus(card).find((m) => m.title === title);
  return found ? executeActions(found.card) : [];
}

function topLevelTitles(card: AdaptiveCard): string[] {
  return (card.actions ?? []).map((action) => action.title);
}

function textBlocks(card: AdaptiveCard): TextBlock[] {
  const walk = (elements: CardElement[]): TextBlock[] =>
    elements.flatMap((e) => (e.type === "TextBlock" ? [e] : e.type === "Container" ? walk(e.items) : []));
  return walk(card.body);
}

/** The fixture issue names its release, so Resolve is a menu of Sentry's three choices. */
const expectedTopLevel: Record<StateName, string[]> = {
  "unresolved (new)": ["Resolve ▸", "Ignore ▸", "Assign ▸"],
  "unresolved (regressed)": ["Resolve ▸", "Ignore ▸", "Assign ▸"],
  "unresolved (ignore ran out)": ["Resolve ▸", "Ignore ▸", "Assign ▸"],
  resolved: ["Unresolve", "Assign ▸"],
  "ignored forever": ["Resolve ▸", "Unignore", "Assign ▸"],
  "ignored until a time": ["Resolve ▸", "Unignore", "Assign ▸"],
  "ignored until more events": ["Resolve ▸", "Unignore", "Assign ▸"],
  "ignored until more users": ["Resolve ▸", "Unignore", "Assign ▸"],
};

const everyCard = [...stateVariants(), ...hugeVariants()];

describe("Teams card: valid Adaptive Card 1.5 in every state", () => {
  it.each(everyCard.map((v) => [v.name, v.view] as const))("%s", (_name, view) => {
    const card = renderTeamsCard(view);
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card.version).toBe("1.5");
    expect(card.$schema).toBe("http://adaptivecards.io/schemas/adaptive-card.json");
    // Full width is Teams-only and not in every host (Agents Playground flags it): the default width reads fine everywhere.
    expect(card).not.toHaveProperty("msteams.width");

    const ids = [...executeActions(card), ...menus(card)].map((action) => action.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("Teams card: every button carries a payload the handler accepts, with a Submit fallback", () => {
  it.each(everyCard.map((v) => [v.name, v.view] as const))("%s", (_name, view) => {
    const card = renderTeamsCard(view);
    const actions = executeActions(card);
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      const payload = cardActionPayloadSchema.parse(action.data.payload);
      expect(payload).toMatchObject({ issueId: view.issueId, cardVersion: view.version });
      expect(action.verb).toBe(`triage.${payload.action.type}`);
      expect(Object.keys(action.data)).toEqual(["payload"]);

      expect(action.fallback).toEqual({ type: "Action.Submit", title: action.title, data: action.data });
      // The object model skips `fallback` of a known action, so check the Submit on its own.
      expect(adaptiveCardProblems({ type: "AdaptiveCard", version: "1.5", body: [], actions: [action.fallback] })).toEqual([]);

      // Teams hands card data back with numbers turned into strings.
      expect(cardActionPayloadSchema.parse(stringifyNumbers(action.data.payload))).toEqual(payload);
    }
  });
});

it("Teams card: a click whose numbers Teams turned into strings still parses, `v` included", () => {
  const action = executeActions(renderTeamsCard(buildIssueView(anIssue())))[0]!;
  expect(cardActionPayloadSchema.parse(stringifyNumbers(action.data.payload))).toEqual(action.data.payload);
});

describe("Teams card: the buttons match the issue's state", () => {
  it.each(stateVariants().map((v) => [v.name, v] as const))("%s", (_name, { state, assigned, view }) => {
    const card = renderTeamsCard(view);
    const expected = [...expectedTopLevel[state], ...(assigned ? ["Unassign"] : [])];
    expect(topLevelTitles(card)).toEqual(expected);

    const ignore = menu(card, "Ignore ▸");
    if (expected.includes("Ignore ▸")) {
      expect(ignore.map((a) => a.title)).toEqual(IGNORE_CHOICES.map((c) => c.label));
      expect(ignore.map((a) => a.data.payload.action)).toEqual(IGNORE_CHOICES.map((c) => ({ type: "ignore", ignore: c.ignore })));
    }

    const assign = menu(card, "Assign ▸");
    expect(assign[0]).toMatchObject({ title: "Assign to me", data: { payload: { action: { type: "assign", assignee: "me" } } } });
    const assignees = assign.slice(1).map((a) => (a.data.payload.action as { assignee: string }).assignee);
    expect(assignees).not.toContain(ben.email);
    expect(assignees).toEqual(view.actions.assignOptions!.slice(1).map((c) => (c.action as { assignee: string }).assignee));
  });

  it("offers everyone the view offers when 30 people are linked (Assign to me + 24)", () => {
    const card = renderTeamsCard(buildIssueView(anIssue(), { assignChoices: people(30) }));
    const assign = menu(card, "Assign ▸");
    expect(assign).toHaveLength(25);
    expect(assign[1]).toMatchObject({ title: "Person 0", data: { payload: { action: { assignee: "person0@contoso.com" } } } });
  });

  it("tells apart two linked people with the same name", () => {
    const card = renderTeamsCard(
      buildIssueView(anIssue(), {
        assignChoices: [
          { email: "ana@a.com", name: "Ana" },
          { email: "ana@b.com", name: "Ana" },
        ],
      }),
    );
    expect(menu(card, "Assign ▸").map((a) => a.title)).toEqual(["Assign to me", "Ana (ana@a.com)", "Ana (ana@b.com)"]);
  });

  it("leaves out a button whose payload the handler would reject instead of showing one that fails", () => {
    const card = renderTeamsCard(buildIssueView(anIssue(), { assignChoices: [{ email: "not an email" }, { email: "cy@contoso.com" }] }));
    expect(menu(card, "Assign ▸").map((a) => a.title)).toEqual(["Assign to me", "cy@contoso.com"]);
  });
});

describe("Teams card: content", () => {
  const view = buildIssueView(
    anIssue({
      level: "fatal",
      title: "TypeError: a[0] is *undefined*",
      url: "https://sentry.example.com/issues/1?a=(b)",
      status: "resolved",
      statusChangedBy: "Ana",
      statusChangedAt: "2026-11-21T14:02:00.000Z",
      assignee: ben,
    }),
  );
  const card = renderTeamsCard(view);
  const texts = textBlocks(card).map((t) => t.text);

  it("links the title, escaping markdown in it and the parentheses in the URL", () => {
    expect(texts).toContain("[TypeError: a\\[0\\] is \\*undefined\\*](https://sentry.example.com/issues/1?a=%28b%29)");
  });

  it("colours the level", () => {
    const colour = (level: IssueView["level"]) => textBlocks(renderTeamsCard({ ...view, level })).find((t) => t.text === level.toUpperCase())?.color;
    expect([colour("fatal"), colour("error"), colour("warning"), colour("info"), colour("debug")]).toEqual([
      "Attention",
      "Attention",
      "Warning",
      "Accent",
      "Default",
    ]);
  });

  it("shows the status line, the assignee and the facts", () => {
    expect(texts).toContain("Resolved by Ana · 2026-11-21 14:02 UTC");
    expect(texts).toContain("Assigned to Ben");
    const facts = card.body.find((e) => e.type === "FactSet");
    expect(facts).toMatchObject({
      facts: expect.arrayContaining([
        { title: "Project", value: "checkout" },
        { title: "Release", value: "1.2.3" },
      ]),
    });
  });

  it("shows a Regressed banner only for a regressed issue", () => {
    const banner = (c: AdaptiveCard) => c.body.find((e) => e.type === "Container");
    expect(banner(renderTeamsCard(buildIssueView(anIssue({ substatus: "regressed" }))))).toMatchObject({
      style: "warning",
      items: [{ type: "TextBlock", text: "Regressed" }],
    });
    expect(banner(renderTeamsCard(buildIssueView(anIssue({ substatus: "new" }))))).toBeUndefined();
  });

  it("does not link a title to a javascript: URL", () => {
    const unsafe = renderTeamsCard({ ...view, title: "click", titleUrl: "javascript:alert(1)" });
    expect(textBlocks(unsafe).map((t) => t.text)).toContain("click");
    expect(JSON.stringify(unsafe)).not.toContain("javascript:");
  });

  it("keeps a normal alert whole", () => {
    const description = "d".repeat(1500);
    const normal = renderTeamsCard(buildIssueView(anIssue({ description }), { assignChoices: people(30) }));
    expect(textBlocks(normal).map((t) => t.text)).toContain(description);
    expect(menu(normal, "Assign ▸")).toHaveLength(25);
  });
});

describe("Teams card: size", () => {
  it.each(everyCard.map((v) => [v.name, v.view] as const))("%s fits the budget", (_name, view) => {
    const attachment = teamsCardAttachment(view);
    const bytes = Buffer.byteLength(JSON.stringify(attachment), "utf8");
    expect(bytes).toBeLessThanOrEqual(TEAMS_CARD_BUDGET_BYTES);
    expect(teamsCardSize(attachment.content)).toBe(bytes);
    expect(hasLoneSurrogate(JSON.stringify(attachment))).toBe(false);
  });

  it("cuts huge text with an ellipsis and still offers Resolve, every Ignore option and Assign to me", () => {
    const view = hugeVariants()[0]!.view;
    const card = renderTeamsCard(view);
    const title = textBlocks(card).find((t) => t.size === "Medium")!;
    expect(title.text).toMatch(/^\[a😀a😀.*…\]\(https:\/\/sentry\.example\.com\//u);
    expect(topLevelTitles(card)).toEqual(["Resolve ▸", "Ignore ▸", "Assign ▸", "Unassign"]);
    expect(menu(card, "Resolve ▸")).toHaveLength(RESOLVE_CHOICES.length);
    expect(menu(card, "Ignore ▸")).toHaveLength(IGNORE_CHOICES.length);
    expect(menu(card, "Assign ▸")[0]?.title).toBe("Assign to me");
  });

  it("shortens the description first, keeping the title and every assignee", () => {
    // Control characters cost 6 bytes each in JSON: a full card is over budget, a shorter description fits.
    const control = "\u0001".repeat(100_000);
    const view = buildIssueView(anIssue({ title: control, culprit: control, description: control }), { assignChoices: people(30) });
    const card = renderTeamsCard(view);
    const title = textBlocks(card).find((t) => t.size === "Medium")!.text;
    expect(title.slice(1, title.indexOf("]("))).toHaveLength(300);
    const [culprit, description] = textBlocks(card)
      .filter((t) => t.text.startsWith("\u0001"))
      .map((t) => t.text);
    expect(culprit).toHaveLength(300);
    expect(description!.length).toBeLessThan(1500);
    expect(description!.length).toBeGreaterThan(100);
    expect(description!.endsWith("…")).toBe(true);
    expect(menu(card, "Assign ▸")).toHaveLength(25);
  });

  it("drops the description before the title or any button when the buttons alone are huge", () => {
    const huge = { ...hugeVariants()[0]!.view, description: "D".repeat(100_000) };
    const card = renderTeamsCard(huge);
    expect(JSON.stringify(card)).not.toContain("DDD");
    const title = textBlocks(card).find((t) => t.size === "Medium")!.text;
    expect(title.slice(1, title.indexOf("](")).length).toBeGreaterThanOrEqual(290);
    expect(topLevelTitles(card)).toEqual(["Resolve ▸", "Ignore ▸", "Assign ▸", "Unassign"]);
    expect(menu(card, "Resolve ▸")).toHaveLength(RESOLVE_CHOICES.length);
    expect(menu(card, "Ignore ▸")).toHaveLength(IGNORE_CHOICES.length);
  });

  it("trims the Assign menu before it drops the description (100-character issue id, 25 people, a long stack trace)", () => {
    const linked = Array.from({ length: 30 }, (_, i) => ({
      email: `firstname.lastname${i}@contoso-corporation.com`,
      name: `Firstname Lastname ${i}`,
    }));
    const description = "Stack trace line\n".repeat(600);
    const card = renderTeamsCard(buildIssueView(anIssue({ id: "x".repeat(100), description }), { assignChoices: linked }));
    expect(teamsCardSize(card)).toBeLessThanOrEqual(TEAMS_CARD_BUDGET_BYTES);
    const shown = textBlocks(card).find((t) => t.text.startsWith("Stack trace line"));
    expect(shown?.text.length).toBeGreaterThanOrEqual(500);
    const assign = menu(card, "Assign ▸").map((a) => a.title);
    expect(assign.slice(0, 2)).toEqual(["Assign to me", "Firstname Lastname 0"]);
    expect(assign.length).toBeGreaterThanOrEqual(10);
  });

  it("cuts the description only as far as the budget needs", () => {
    // Control characters cost 6 bytes each in JSON; with all 25 people the card has room for part of the description.
    const description = "\u0001".repeat(1500);
    const view = buildIssueView(anIssue({ description }), { assignChoices: people(30) });
    const card = renderTeamsCard(view);
    const shown = textBlocks(card).find((t) => t.text.startsWith("\u0001"))!.text;
    expect(menu(card, "Assign ▸")).toHaveLength(25);
    expect(shown.length).toBeLessThan(1500);
    // Ten more characters would not have fitted.
    const longer = renderTeamsCard({ ...view, description: description.slice(0, shown.length + 10) });
    expect(textBlocks(longer).find((t) => t.text.startsWith("\u0001"))!.text.length).toBeLessThan(shown.length + 10);
  });

  it("never splits an emoji at the cut", () => {
    for (let pad = 0; pad < 4; pad++) {
      const title = "x".repeat(pad) + "😀".repeat(400);
      const card = renderTeamsCard({ ...buildIssueView(anIssue()), title, titleUrl: undefined });
      const text = textBlocks(card).find((t) => t.size === "Medium")!.text;
      expect(hasLoneSurrogate(text)).toBe(false);
      expect(text.endsWith("😀…")).toBe(true);
    }
  });
});

describe("Teams notice (welcome, link prompt, answers)", () => {
  it("is a valid 1.5 card", () => {
    const card = noticeCard(
      "Triage Relay is ready",
      ["Mention me with **subscribe <project>**."],
      [{ title: "Conversation id", value: "19:x@thread.tacv2" }],
    );
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card).toMatchObject({ version: "1.5" });
  });
});
