import * as AC from "adaptivecards";
import { describe, expect, it } from "vitest";
import { cardActionPayload, cardActionPayloadSchema, toIssueAction } from "../../../shared/cards/card-action";
import { decodeSlackAction, renderSlackMessage, type ActionsBlock, type StaticSelectElement } from "../../../shared/cards/slack-message";
import {
  renderTeamsCard,
  teamsCardSize,
  TEAMS_CARD_BUDGET_BYTES,
  type AdaptiveCard,
  type ExecuteAction,
  type ShowCardAction,
} from "../../../shared/cards/teams-card";
import { buildIssueView } from "../../../shared/cards/view";
import { applyAction } from "../../../shared/domain/actions";
import type { Issue } from "../../../shared/domain/issue";
import { ana, anIssue, NOW } from "../../fixtures/issues";
import { swallowedMarkup, teamsTexts } from "./teams-markup";

const CHOICES = [
  { label: "Resolve", action: { type: "resolve" } },
  { label: "In the current release", action: { type: "resolve", inRelease: "current" } },
  { label: "In the next release", action: { type: "resolve", inRelease: "next" } },
];

const withRelease = () => anIssue({ tags: { release: "1.2.3" } });
const withoutRelease = () => anIssue({ tags: { browser: "Firefox" } });
const changed = { statusChangedBy: "Ana", statusChangedAt: "2026-11-21T14:02:00.000Z" };
const resolvedNext = (): Issue =>
  anIssue({ status: "resolved", substatus: undefined, resolution: { inRelease: "next", release: "1.2.3" }, ...changed });
const regressed = (): Issue =>
  anIssue({
    status: "unresolved",
    substatus: "regressed",
    statusChangedAt: changed.statusChangedAt,
    tags: { release: "1.2.4" },
    regression: { firedIn: "1.2.4", resolution: { inRelease: "next", release: "1.2.3" } },
  });

function adaptiveCardProblems(json: object): string[] {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of card.validateProperties().validationEvents) problems.push(`validate: ${event.message}`);
  return problems;
}

function resolveMenu(card: AdaptiveCard): ShowCardAction | undefined {
  return card.actions?.find((a): a is ShowCardAction => a.type === "Action.ShowCard" && a.title === "Resolve ▸");
}

function buttonsIn(menu: ShowCardAction): ExecuteAction[] {
  return menu.card.body.flatMap((row) =>
    row.type === "ActionSet" ? row.actions.filter((a): a is ExecuteAction => a.type === "Action.Execute") : [],
  );
}

function slackActions(issue: Issue): ActionsBlock {
  return renderSlackMessage(buildIssueView(issue)).blocks.find((b): b is ActionsBlock => b.type === "actions")!;
}

describe("view: Resolve offers Sentry's three choices when the issue names its release", () => {
  it("offers Resolve (immediately), In the current release, In the next release for an issue with a release; plain Resolve without one", () => {
    const actions = buildIssueView(withRelease()).actions;
    expect(actions.resolve).toBeUndefined();
    expect(actions.resolveOptions).toEqual(CHOICES);
    // Resolving in a release would be refused: no menu.
    const plain = buildIssueView(withoutRelease()).actions;
    expect(plain.resolveOptions).toBeUndefined();
    expect(plain.resolve).toEqual({ label: "Resolve", action: { type: "resolve" } });
  });

  it("offers them on an ignored issue too, and none on a resolved one", () => {
    expect(buildIssueView(anIssue({ status: "ignored", substatus: undefined, ignore: { mode: "forever" } })).actions.resolveOptions).toEqual(CHOICES);
    expect(buildIssueView(resolvedNext()).actions.resolveOptions).toBeUndefined();
  });

  it("says how it was resolved, keeping who and when", () => {
    expect(buildIssueView(resolvedNext()).statusLine).toBe("Resolved in the next release (after 1.2.3) by Ana · 2026-11-21 14:02 UTC");
    const current = anIssue({ status: "resolved", substatus: undefined, resolution: { inRelease: "current", release: "1.2.3" }, ...changed });
    expect(buildIssueView(current).statusLine).toBe("Resolved in the current release (1.2.3) by Ana · 2026-11-21 14:02 UTC");
    expect(buildIssueView(anIssue({ status: "resolved", substatus: undefined, ...changed })).statusLine).toBe(
      "Resolved by Ana · 2026-11-21 14:02 UTC",
    );
  });

  it("says why a regressed issue reopened when it was resolved in a release, else just Regressed", () => {
    expect(buildIssueView(regressed()).notice).toBe("Regressed: fired in 1.2.4, resolved in the next release after 1.2.3");
    expect(buildIssueView(anIssue({ status: "unresolved", substatus: "regressed" })).notice).toBe("Regressed");
  });
});

describe("Teams card: Resolve ▸ is a show-card of three Execute buttons", () => {
  it("carries each choice in its own payload, with a Submit fallback, as valid Adaptive Card 1.5", () => {
    const card = renderTeamsCard(buildIssueView(withRelease()));
    expect(adaptiveCardProblems(card)).toEqual([]);
    expect(card.actions?.map((a) => a.title)).toEqual(["Resolve ▸", "Ignore ▸", "Assign ▸"]);
    const menu = resolveMenu(card)!;
    expect(menu.id).toBe("resolve");
    const buttons = buttonsIn(menu);
    expect(buttons.map((b) => [b.id, b.title, b.verb])).toEqual([
      ["resolve-now", "Resolve", "triage.resolve"],
      ["resolve-current", "In the current release", "triage.resolve"],
      ["resolve-next", "In the next release", "triage.resolve"],
    ]);
    for (const [i, button] of buttons.entries()) {
      expect(cardActionPayloadSchema.parse(button.data.payload)).toEqual({ v: 1, issueId: "issue-1", cardVersion: 3, action: CHOICES[i]!.action });
      expect(button.fallback).toEqual({ type: "Action.Submit", title: button.title, data: button.data });
    }
    expect(teamsCardSize(card)).toBeLessThanOrEqual(TEAMS_CARD_BUDGET_BYTES);

    const plain = renderTeamsCard(buildIssueView(withoutRelease()));
    expect(plain.actions?.map((a) => [a.type, a.title])).toEqual([
      ["Action.Execute", "Resolve"],
      ["Action.ShowCard", "Ignore ▸"],
      ["Action.ShowCard", "Assign ▸"],
    ]);
  });

  it("shows how it was resolved and why it regressed, with nothing Teams would swallow as markup", () => {
    const resolved = renderTeamsCard(buildIssueView(resolvedNext()));
    const back = renderTeamsCard(buildIssueView(regressed()));
    expect(adaptiveCardProblems(resolved)).toEqual([]);
    expect(adaptiveCardProblems(back)).toEqual([]);
    expect(teamsTexts(resolved)).toContain("Resolved in the next release (after 1.2.3) by Ana · 2026-11-21 14:02 UTC");
    expect(teamsTexts(back)).toContain("Regressed: fired in 1.2.4, resolved in the next release after 1.2.3");
    const swallowed = [withRelease(), resolvedNext(), regressed()].flatMap((issue) =>
      teamsTexts(renderTeamsCard(buildIssueView(issue))).flatMap(swallowedMarkup),
    );
    expect(swallowed).toEqual([]);
  });
});

describe("Slack message: Resolve is a menu of the three choices", () => {
  it("offers them in a static select that decodes back to each choice", () => {
    const block = slackActions(withRelease());
    const select = block.elements[0] as StaticSelectElement;
    expect(select).toEqual({
      type: "static_select",
      action_id: "triage.resolve",
      placeholder: { type: "plain_text", text: "Resolve…" },
      options: [
        { text: { type: "plain_text", text: "Resolve" }, value: "resolve" },
        { text: { type: "plain_text", text: "In the current release" }, value: "resolve:current" },
        { text: { type: "plain_text", text: "In the next release" }, value: "resolve:next" },
      ],
    });
    expect(select.options.map((o) => decodeSlackAction(select.action_id, o.value, block.block_id))).toEqual(
      CHOICES.map(({ action }) => ({ v: 1, issueId: "issue-1", action })),
    );
    expect(block.elements.filter((e) => e.type === "button" && e.action_id === "triage.resolve")).toEqual([]);
    for (const value of ["resolve:later", "resolve:next:1.2.3", "resolve:"])
      expect(decodeSlackAction("triage.resolve", value, block.block_id)).toBeUndefined();

    // No release: the one-click button stays.
    expect(slackActions(withoutRelease()).elements[0]).toEqual({
      type: "button",
      action_id: "triage.resolve",
      text: { type: "plain_text", text: "Resolve" },
      value: "resolve",
      style: "primary",
    });
  });

  it("shows how it was resolved and why it regressed", () => {
    const resolved = renderSlackMessage(buildIssueView(resolvedNext()));
    expect(resolved.text).toContain("Resolved in the next release (after 1.2.3) by Ana");
    expect(JSON.stringify(resolved.blocks)).toContain("*Resolved in the next release (after 1.2.3) by Ana · 2026-11-21 14:02 UTC*");
    expect(JSON.stringify(renderSlackMessage(buildIssueView(regressed())).blocks)).toContain(
      ":warning: *Regressed: fired in 1.2.4, resolved in the next release after 1.2.3*",
    );
  });
});

describe("decoding a Resolve click", () => {
  it("accepts inRelease current or next, Teams' stringified numbers included, and nothing else", () => {
    for (const inRelease of ["current", "next"] as const) {
      const payload = cardActionPayload("issue-1", 3, { type: "resolve", inRelease });
      expect(cardActionPayloadSchema.parse(JSON.parse(JSON.stringify({ ...payload, v: "1", cardVersion: "3" })))).toEqual(payload);
    }
    expect(cardActionPayloadSchema.safeParse({ v: 1, issueId: "issue-1", action: { type: "resolve", inRelease: "latest" } }).success).toBe(false);
    expect(cardActionPayloadSchema.safeParse({ v: 1, issueId: "issue-1", action: { type: "unresolve", inRelease: "next" } }).data?.action).toEqual({
      type: "unresolve",
    });
  });

  it("passes the choice on to the action, which resolves the issue in that release", () => {
    const payload = cardActionPayloadSchema.parse({ v: 1, issueId: "issue-1", action: { type: "resolve", inRelease: "next" } });
    expect(toIssueAction(payload)).toEqual({ type: "resolve", inRelease: "next" });
    const outcome = applyAction(withRelease(), toIssueAction(payload), ana, NOW);
    expect(outcome).toMatchObject({ kind: "changed", issue: { status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } } });
    expect(toIssueAction(cardActionPayloadSchema.parse({ v: 1, issueId: "issue-1", action: { type: "resolve" } }))).toEqual({ type: "resolve" });
  });
});
