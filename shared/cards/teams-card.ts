import type { Level } from "../domain/issue";
import { cardActionPayload, cardActionPayloadSchema, type CardActionPayload } from "./card-action";
import type { ActionChoice, IssueView } from "./view";
import { distinctLabels, escapeTeamsMarkdown, MAX_FACTS, nonBlank, oneLine, safeLink, TEXT_LIMITS, truncate } from "./text";

/*
 * Adaptive Card 1.5 for Teams, built as plain JSON. The `adaptivecards` package is only a test-time
 * validator: its 3.x build does not load in plain Node (see the Teams notes, §6).
 */

export const ADAPTIVE_CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive";
export const ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json";

/** Teams rejects messages over ~28 KB; the card gets 24 KB, the rest is left for the activity around it. */
export const TEAMS_CARD_BUDGET_BYTES = 24 * 1024;

// Enum values as spelled in the Adaptive Card schema.
export type TextColor = "Default" | "Accent" | "Good" | "Warning" | "Attention";
export type ContainerStyle = "default" | "emphasis" | "accent" | "good" | "warning" | "attention";

export interface TextBlock {
  type: "TextBlock";
  text: string;
  wrap?: boolean;
  size?: "Small" | "Default" | "Medium" | "Large";
  weight?: "Lighter" | "Default" | "Bolder";
  color?: TextColor;
  isSubtle?: boolean;
  fontType?: "Default" | "Monospace";
  spacing?: "None" | "Small" | "Default" | "Medium";
}

export interface Container {
  type: "Container";
  style?: ContainerStyle;
  bleed?: boolean;
  items: CardElement[];
}

export interface FactSet {
  type: "FactSet";
  facts: { title: string; value: string }[];
}

export interface ActionSet {
  type: "ActionSet";
  actions: CardActionElement[];
}

export type CardElement = TextBlock | Container | FactSet | ActionSet;

/** Teams mishandles flat `data`, so the payload always sits under one key. */
export interface TriageActionData {
  payload: CardActionPayload;
}

export interface SubmitAction {
  type: "Action.Submit";
  title: string;
  data: TriageActionData;
}

export interface ExecuteAction {
  type: "Action.Execute";
  id: string;
  title: string;
  verb: `triage.${CardActionPayload["action"]["type"]}`;
  data: TriageActionData;
  /** Action.Execute is broken on Teams mobile; those clients fall back to a Submit carrying the same data. */
  fallback: SubmitAction;
}

export interface ShowCardAction {
  type: "Action.ShowCard";
  id: string;
  title: string;
  card: AdaptiveCard;
}

export type CardActionElement = ExecuteAction | ShowCardAction;

export interface AdaptiveCard {
  type: "AdaptiveCard";
  $schema?: typeof ADAPTIVE_CARD_SCHEMA;
  /** Required on the top-level card, absent on cards nested in Action.ShowCard. */
  version?: "1.5";
  body: CardElement[];
  actions?: CardActionElement[];
}

export interface AdaptiveCardAttachment {
  contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE;
  content: AdaptiveCard;
}

const LEVEL_COLOR: Record<Level, TextColor> = {
  fatal: "Attention",
  error: "Attention",
  warning: "Warning",
  info: "Accent",
  debug: "Default",
};

/** Buttons per row inside a menu; Teams drops actions past its maxActions (5–6) in one set. */
const MENU_ROW_SIZE = 3;

interface Limits {
  title: number;
  culprit: number;
  description: number;
  factValue: number;
  assignOptions: number;
}

const FULL: Limits = {
  title: TEXT_LIMITS.title,
  culprit: TEXT_LIMITS.culprit,
  description: TEXT_LIMITS.description,
  factValue: TEXT_LIMITS.factValue,
  assignOptions: Number.POSITIVE_INFINITY,
};

interface ShrinkStep {
  limits: Limits;
  /** The one limit this step lowers, only as far as the card needs, down to `floor`. */
  cut?: { limit: "description" | "assignOptions"; floor: number };
}

/**
 * Tried in order until the card fits the budget: the description gives way to 500 characters, then the Assign menu
 * (every button carries its payload twice) to 10 people, then the rest of the description, then everything else.
 * The last step fits even with a 200-character issue id and text that JSON-escapes to 6 bytes a character (tested).
 */
const SHRINK_STEPS: ShrinkStep[] = [
  { limits: FULL, cut: { limit: "description", floor: 500 } },
  { limits: { ...FULL, description: 500 }, cut: { limit: "assignOptions", floor: 10 } },
  { limits: { ...FULL, assignOptions: 10 }, cut: { limit: "description", floor: 0 } },
  { limits: { ...FULL, description: 0, assignOptions: 5, factValue: 100 } },
  { limits: { ...FULL, description: 0, assignOptions: 1, factValue: 100 } },
  { limits: { title: 100, culprit: 100, description: 0, factValue: 50, assignOptions: 1 } },
];

export function renderTeamsCard(view: IssueView): AdaptiveCard {
  for (const step of SHRINK_STEPS.slice(0, -1)) {
    const card = largestFitting(view, step);
    if (card) return card;
  }
  return buildCard(view, SHRINK_STEPS.at(-1)!.limits);
}

/** The card with the step's limits, its `cut` limit as high as fits the budget; undefined when even its floor doesn't. */
function largestFitting(view: IssueView, { limits, cut }: ShrinkStep): AdaptiveCard | undefined {
  const whole = buildCard(view, limits);
  if (fitsBudget(whole)) return whole;
  if (!cut) return undefined;
  // A card only grows with a higher limit, so the highest that fits is found by halving.
  let best: AdaptiveCard | undefined;
  let low = cut.floor;
  let high =
    Math.min(limits[cut.limit], cut.limit === "description" ? (view.description?.length ?? 0) : (view.actions.assignOptions?.length ?? 0)) - 1;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const card = buildCard(view, { ...limits, [cut.limit]: middle });
    if (fitsBudget(card)) {
      best = card;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

export function teamsCardAttachment(view: IssueView): AdaptiveCardAttachment {
  return attachment(renderTeamsCard(view));
}

export function teamsCardSize(card: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(attachment(card)), "utf8");
}

function fitsBudget(card: AdaptiveCard): boolean {
  return teamsCardSize(card) <= TEAMS_CARD_BUDGET_BYTES;
}

function attachment(card: AdaptiveCard): AdaptiveCardAttachment {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card };
}

function buildCard(view: IssueView, limits: Limits): AdaptiveCard {
  const body: CardElement[] = [];

  const notice = nonBlank(view.notice);
  if (notice) {
    body.push({
      type: "Container",
      style: "warning",
      bleed: true,
      items: [{ type: "TextBlock", text: markdown(notice, TEXT_LIMITS.notice), weight: "Bolder", wrap: true }],
    });
  }

  body.push({
    type: "TextBlock",
    text: view.level.toUpperCase(),
    color: LEVEL_COLOR[view.level],
    weight: "Bolder",
    size: "Small",
  });

  const title = markdown(oneLine(nonBlank(view.title) ?? "Untitled issue"), limits.title);
  const link = safeLink(view.titleUrl);
  body.push({
    type: "TextBlock",
    text: link ? `[${title}](${link})` : title,
    size: "Medium",
    weight: "Bolder",
    wrap: true,
    spacing: "None",
  });

  const culprit = nonBlank(view.culprit);
  if (culprit) {
    const text = markdown(culprit, limits.culprit);
    body.push({ type: "TextBlock", text, fontType: "Monospace", isSubtle: true, wrap: true, spacing: "None" });
  }

  const description = nonBlank(view.description);
  if (description && limits.description > 0) {
    body.push({ type: "TextBlock", text: markdown(description, limits.description), wrap: true });
  }

  const facts = view.facts
    .filter((fact) => nonBlank(fact.label) && nonBlank(fact.value))
    .slice(0, MAX_FACTS)
    .map((fact) => ({ title: markdown(fact.label, TEXT_LIMITS.factLabel), value: markdown(fact.value, limits.factValue) }));
  if (facts.length > 0) body.push({ type: "FactSet", facts });

  const status = nonBlank(view.statusLine);
  if (status) {
    body.push({
      type: "TextBlock",
      text: markdown(status, TEXT_LIMITS.statusLine),
      weight: "Bolder",
      color: view.status === "resolved" ? "Good" : "Default",
      wrap: true,
    });
  }
  const assignee = nonBlank(view.assigneeLine);
  if (assignee) {
    body.push({ type: "TextBlock", text: markdown(assignee, TEXT_LIMITS.statusLine), isSubtle: true, wrap: true, spacing: "None" });
  }

  const card: AdaptiveCard = { type: "AdaptiveCard", $schema: ADAPTIVE_CARD_SCHEMA, version: "1.5", body };
  const actions = cardActions(view, limits);
  if (actions.length > 0) card.actions = actions;
  return card;
}

function cardActions(view: IssueView, limits: Limits): CardActionElement[] {
  const { resolve, resolveOptions = [], unresolve, ignoreOptions = [], unignore, assignOptions = [], unassign } = view.actions;
  const assignChoices = assignOptions.slice(0, limits.assignOptions);
  const assignTitles = distinctLabels(
    assignChoices,
    (c) => c.label,
    (c) => (c.action.type === "assign" ? c.action.assignee : undefined),
  );
  return present([
    resolve && execute(view, resolve, "resolve"),
    menu(
      "resolve",
      "Resolve ▸",
      resolveOptions.map((choice) => execute(view, choice, `resolve-${resolveId(choice)}`)),
    ),
    unresolve && execute(view, unresolve, "unresolve"),
    menu(
      "ignore",
      "Ignore ▸",
      ignoreOptions.map((choice, i) => execute(view, choice, `ignore-${i + 1}`)),
    ),
    unignore && execute(view, unignore, "unignore"),
    menu(
      "assign",
      "Assign ▸",
      assignChoices.map((choice, i) => execute(view, choice, `assign-${i + 1}`, assignTitles[i])),
    ),
    unassign && execute(view, unassign, "unassign"),
  ]);
}

/** Undefined when the choice can't make a payload the handler would accept (e.g. a malformed email). */
function execute(view: IssueView, choice: ActionChoice, id: string, title = choice.label): ExecuteAction | undefined {
  const payload = cardActionPayload(view.issueId, view.version, choice.action);
  if (!cardActionPayloadSchema.safeParse(payload).success) return undefined;
  const data = { payload };
  const label = truncate(nonBlank(title) ?? choice.action.type, TEXT_LIMITS.actionLabel);
  return {
    type: "Action.Execute",
    id,
    title: label,
    verb: `triage.${payload.action.type}`,
    data,
    fallback: { type: "Action.Submit", title: label, data },
  };
}

function resolveId(choice: ActionChoice): string {
  return choice.action.type === "resolve" && choice.action.inRelease ? choice.action.inRelease : "now";
}

function menu(id: string, title: string, buttons: (ExecuteAction | undefined)[]): ShowCardAction | undefined {
  const actions = present(buttons);
  if (actions.length === 0) return undefined;
  const rows: ActionSet[] = [];
  for (let i = 0; i < actions.length; i += MENU_ROW_SIZE) {
    rows.push({ type: "ActionSet", actions: actions.slice(i, i + MENU_ROW_SIZE) });
  }
  return { type: "Action.ShowCard", id, title, card: { type: "AdaptiveCard", body: rows } };
}

function markdown(text: string, max: number): string {
  return escapeTeamsMarkdown(truncate(text, max));
}

function present<T>(items: (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}
