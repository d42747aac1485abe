import type { ReleaseList, ReleaseView } from "./release-view";
import { ADAPTIVE_CARD_CONTENT_TYPE, ADAPTIVE_CARD_SCHEMA, TEAMS_CARD_BUDGET_BYTES, type CardElement, type TextBlock } from "./teams-card";
import { escapeTeamsMarkdown, MAX_FACTS, nonBlank, safeLink, TEXT_LIMITS, truncate } from "./text";

/** The release card: Adaptive Card 1.5, no actions but "View release" (a link). */
export interface ReleaseCard {
  type: "AdaptiveCard";
  $schema: typeof ADAPTIVE_CARD_SCHEMA;
  version: "1.5";
  body: CardElement[];
  actions?: { type: "Action.OpenUrl"; title: string; url: string }[];
}

/**
 * Renders the release view within TEAMS_CARD_BUDGET_BYTES: lists are cut from the end (and counted in
 * "…and N more") until the card fits, never rejected.
 */
export function renderReleaseTeamsCard(view: ReleaseView): ReleaseCard {
  const lists = view.lists.map((l) => ({ ...l, items: [...l.items] }));
  for (;;) {
    const card = buildCard(view, lists);
    if (releaseCardSize(card) <= TEAMS_CARD_BUDGET_BYTES) return card;
    const longest = lists.reduce((a, b) => (b.items.length > a.items.length ? b : a));
    if (longest.items.length === 0) return card; // only fixed text left, which is bounded well under the budget
    longest.items.pop();
    longest.more++;
  }
}

export function releaseCardAttachment(view: ReleaseView) {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: renderReleaseTeamsCard(view) };
}

export function releaseCardSize(card: ReleaseCard): number {
  return Buffer.byteLength(JSON.stringify({ contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card }), "utf8");
}

function buildCard(view: ReleaseView, lists: ReleaseList[]): ReleaseCard {
  const body: CardElement[] = [];
  const link = safeLink(view.titleUrl);
  body.push({ type: "TextBlock", text: markdown(view.title, TEXT_LIMITS.title), size: "Medium", weight: "Bolder", wrap: true });
  const intro = nonBlank(view.intro);
  if (intro) body.push({ type: "TextBlock", text: markdown(intro, TEXT_LIMITS.notice), wrap: true, spacing: "Small" });
  body.push({
    type: "FactSet",
    facts: view.facts.slice(0, MAX_FACTS).map((fact) => ({
      title: markdown(fact.label, TEXT_LIMITS.factLabel),
      value: markdown(fact.value, TEXT_LIMITS.factValue),
    })),
  });
  for (const list of lists) {
    body.push({ type: "TextBlock", text: markdown(list.heading, TEXT_LIMITS.statusLine), weight: "Bolder", wrap: true, spacing: "Medium" });
    if (list.items.length === 0 && list.more === 0) body.push(subtle(markdown(list.empty, TEXT_LIMITS.statusLine)));
    for (const item of list.items) {
      const name = markdown(item.shortId ? `${item.shortId} ${item.title}` : item.title, TEXT_LIMITS.title);
      const href = safeLink(item.url);
      const line: TextBlock = {
        type: "TextBlock",
        text: `${href ? `[${name}](${href})` : name} · ${markdown(item.detail, TEXT_LIMITS.factValue)}`,
        wrap: true,
        spacing: "Small",
      };
      body.push(line);
    }
    if (list.more > 0) body.push(subtle(`…and ${list.more.toLocaleString("en-US")} more`));
  }
  return {
    type: "AdaptiveCard",
    $schema: ADAPTIVE_CARD_SCHEMA,
    version: "1.5",
    body,
    ...(link ? { actions: [{ type: "Action.OpenUrl" as const, title: "View release", url: link }] } : {}),
  };
}

function subtle(text: string): TextBlock {
  return { type: "TextBlock", text, isSubtle: true, wrap: true, spacing: "Small" };
}

/** Escaping is line-aware (a "- " at a line start), so it applies to the cut text as a whole. */
function markdown(text: string, max: number): string {
  return escapeTeamsMarkdown(truncate(text, max));
}
