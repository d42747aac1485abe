// Card rendering: the view-model plus each platform's renderer, for a typical issue and for the
// largest issue alert schema v1 lets through.
import { buildIssueView, type ViewOptions } from "../shared/cards/view";
import { renderSlackMessage } from "../shared/cards/slack-message";
import { renderTeamsCard, teamsCardSize } from "../shared/cards/teams-card";
import type { Issue, Person } from "../shared/domain/issue";
import { anIssue } from "../test/fixtures/issues";
import { measureCalls, type MicroResult } from "./micro";

export interface CardCase {
  name: string;
  describe: string;
  issue: Issue;
  options: ViewOptions;
}

export interface CardRow {
  issue: string;
  renderer: "Teams" | "Slack";
  result: MicroResult;
  /** Teams: the attachment as sent (what the 24 KB budget is checked on); Slack: `{ text, blocks }`. */
  serializedBytes: number;
}

export interface CardsResult {
  cases: CardCase[];
  rows: CardRow[];
}

export function people(n: number): Person[] {
  return Array.from({ length: n }, (_, i) => ({ email: `person${i}@contoso.com`, name: `Person Number ${i}` }));
}

/** Markdown and mrkdwn specials, an emoji (grapheme segmentation) and plain words: escaping does real work. */
function noisyText(length: number): string {
  const piece = "TypeError: <div> *cart* _is_ [undefined] & 1. retry — 🧯 ";
  return piece.repeat(Math.ceil(length / piece.length)).slice(0, length);
}

export const CARD_CASES: CardCase[] = [
  {
    name: "typical",
    describe: "the test fixture issue (title, culprit, 9 facts, no description), 3 linked people",
    issue: anIssue(),
    options: { assignChoices: people(3) },
  },
  {
    name: "worst case",
    describe:
      "schema maxima: title 4,000 and culprit 4,000 chars, description 32,000 chars, 100 tags, 2,000-char URL, " +
      "25 linked people, text full of characters that need escaping; assigned and regressed (notice + status lines)",
    issue: anIssue({
      title: noisyText(4000),
      culprit: noisyText(4000),
      description: noisyText(32_000),
      url: `https://sentry.example.com/issues/1?${"q=x&".repeat(495)}`,
      tags: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`tag-${i}`, noisyText(40)])),
      status: "unresolved",
      substatus: "regressed",
      statusChangedAt: "2026-11-21T14:02:00.000Z",
      assignee: { email: "person0@contoso.com", name: "Person Number 0" },
    }),
    options: { assignChoices: people(26) },
  },
];

export function measureCards(progress: (line: string) => void): CardsResult {
  const rows: CardRow[] = [];
  for (const card of CARD_CASES) {
    const teams = () => renderTeamsCard(buildIssueView(card.issue, card.options));
    const slack = () => renderSlackMessage(buildIssueView(card.issue, card.options));
    rows.push({ issue: card.name, renderer: "Teams", result: measureCalls(teams), serializedBytes: teamsCardSize(teams()) });
    progress(`cards: ${card.name}, Teams done`);
    rows.push({ issue: card.name, renderer: "Slack", result: measureCalls(slack), serializedBytes: Buffer.byteLength(JSON.stringify(slack())) });
    progress(`cards: ${card.name}, Slack done`);
  }
  return { cases: CARD_CASES, rows };
}
