import type { Level } from "../domain/issue";
import { ids } from "../domain/ids";
import { cardActionPayloadSchema, type CardActionPayload } from "./card-action";
import type { ActionChoice, CardAction, IssueView } from "./view";
import { distinctLabels, escapeSlack, isolated, MAX_FACTS, MAX_URL_LENGTH, nonBlank, oneLine, safeLink, TEXT_LIMITS, truncate } from "./text";

/*
 * Block Kit message for Slack, built as plain JSON (minimal local types: @slack/types is not a
 * direct dependency). Every button and menu option carries a compact action ("resolve", "resolve:next",
 * "ignore:events:100", "assign:ana@example.com") and the actions block's block_id carries the
 * issue ("triage:<issueId>"); decodeSlackAction turns the pair back into a CardActionPayload.
 * Assigning is Slack's own user menu (`users_select`): its pick is a Slack user id, which
 * shared/inbound/slack/assign-choice.ts resolves to a person. The title block's block_id carries the
 * issue version the message shows ("triage-v:<version>"), so a client can tell a newer render from
 * an older one without anything visible changing.
 */

export interface PlainText {
  type: "plain_text";
  text: string;
  emoji?: boolean;
}

export interface Mrkdwn {
  type: "mrkdwn";
  text: string;
  /** No automatic linking of URLs, channels or @mentions that happen to be in alert text. */
  verbatim?: boolean;
}

export type TextObject = PlainText | Mrkdwn;

export interface SectionBlock {
  type: "section";
  block_id?: string;
  text?: TextObject;
  fields?: TextObject[];
}

export interface ContextBlock {
  type: "context";
  elements: TextObject[];
}

export interface ButtonElement {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
}

export interface SelectOption {
  text: PlainText;
  value: string;
}

export interface StaticSelectElement {
  type: "static_select";
  action_id: string;
  placeholder: PlainText;
  options: SelectOption[];
}

export interface UsersSelectElement {
  type: "users_select";
  action_id: string;
  placeholder: PlainText;
  /** Shown chosen: the current assignee, when they are known in this workspace. */
  initial_user?: string;
}

export interface ActionsBlock {
  type: "actions";
  block_id: string;
  elements: (ButtonElement | StaticSelectElement | UsersSelectElement)[];
}

export type SlackBlock = SectionBlock | ContextBlock | ActionsBlock;

export interface SlackMessage {
  /** Notification and screen-reader text; Slack shows it where blocks can't be shown. */
  text: string;
  blocks: SlackBlock[];
}

/**
 * Block Kit limits the renderer enforces item by item (https://docs.slack.dev/reference/block-kit).
 * The rest hold by construction: at most 8 blocks and 6 action elements, section and context
 * texts under 2,400 characters (TEXT_LIMITS, MAX_URL_LENGTH), block_id ≤ 207 (issue ids ≤ 200).
 */
export const SLACK_LIMITS = {
  sectionFields: 10,
  buttonText: 75,
  buttonValue: 2000,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
} as const;

export const SLACK_BLOCK_ID_PREFIX = "triage:";
export const SLACK_ACTION_ID_PREFIX = "triage.";
/** The Assign menu: Slack's users_select, whose `selected_user` is resolved to a person when picked. */
export const SLACK_ASSIGN_USER_ACTION_ID = "triage.assign-user";
/** The title block's block_id: the issue version this render shows. */
export const SLACK_VERSION_BLOCK_PREFIX = "triage-v:";

/** The issue version a rendered message shows, from its title block's block_id; undefined for other messages. */
export function slackMessageVersion(blocks: readonly object[]): number | undefined {
  for (const block of blocks) {
    const id = "block_id" in block && typeof block.block_id === "string" ? block.block_id : "";
    if (id.startsWith(SLACK_VERSION_BLOCK_PREFIX)) {
      const version = Number(id.slice(SLACK_VERSION_BLOCK_PREFIX.length));
      return Number.isSafeInteger(version) && version >= 0 ? version : undefined;
    }
  }
  return undefined;
}

const LEVEL_EMOJI: Record<Level, string> = {
  fatal: "🔴",
  error: "🔴",
  warning: "🟡",
  info: "🔵",
  debug: "⚪",
};

export function renderSlackMessage(view: IssueView): SlackMessage {
  const emoji = LEVEL_EMOJI[view.level];
  const title = oneLine(nonBlank(view.title) ?? "Untitled issue");
  const blocks: SlackBlock[] = [];

  const notice = nonBlank(view.notice);
  if (notice) blocks.push({ type: "section", text: mrkdwn(`:warning: *${escaped(notice, TEXT_LIMITS.notice)}*`) });

  blocks.push({
    type: "section",
    block_id: `${SLACK_VERSION_BLOCK_PREFIX}${view.version}`,
    text: mrkdwn(`${emoji} *${linked(title, view.titleUrl)}*`),
  });

  const culprit = nonBlank(view.culprit);
  blocks.push({
    type: "context",
    elements: [mrkdwn(`*${capitalise(view.level)}*`), ...(culprit ? [plain(truncate(culprit, TEXT_LIMITS.culprit))] : [])],
  });

  const description = nonBlank(view.description);
  if (description) blocks.push({ type: "section", text: plain(truncate(description, TEXT_LIMITS.description)) });

  // Label and value side by side in the section's two columns: the label in bold, the value as plain text, which
  // Slack shows as typed (mrkdwn has no escape for `*`, `_`, `~` or a backtick in an alert's text).
  const fields = view.facts
    .filter((fact) => nonBlank(fact.label) && nonBlank(fact.value))
    .slice(0, MAX_FACTS)
    .flatMap((fact) => [mrkdwn(`*${escaped(fact.label, TEXT_LIMITS.factLabel)}*`), plain(truncate(fact.value, TEXT_LIMITS.factValue))]);
  for (let i = 0; i < fields.length; i += SLACK_LIMITS.sectionFields) {
    blocks.push({ type: "section", fields: fields.slice(i, i + SLACK_LIMITS.sectionFields) });
  }

  const status = nonBlank(view.statusLine);
  const assignee = nonBlank(view.assigneeLine);
  const statusElements = [
    ...(status ? [mrkdwn(`*${escaped(status, TEXT_LIMITS.statusLine)}*`)] : []),
    ...(assignee ? [plain(truncate(assignee, TEXT_LIMITS.statusLine))] : []),
  ];
  if (statusElements.length > 0) blocks.push({ type: "context", elements: statusElements });

  const actions = actionsBlock(view);
  if (actions) blocks.push(actions);

  const statusSuffix = status ? ` — ${escaped(status, TEXT_LIMITS.statusLine)}` : "";
  return { text: `${emoji} [${view.level}] ${isolated(escaped(title, TEXT_LIMITS.title))}${statusSuffix}`, blocks };
}

/** The compact form of an action carried in a button or option `value`. */
export function encodeSlackAction(action: CardAction): string {
  if (action.type === "assign") return `assign:${action.assignee}`;
  if (action.type === "resolve") return action.inRelease ? `resolve:${action.inRelease}` : "resolve";
  if (action.type !== "ignore") return action.type;
  const ignore = action.ignore;
  switch (ignore.mode) {
    case "forever":
      return "ignore:forever";
    case "minutes":
      return `ignore:minutes:${ignore.minutes}`;
    case "events":
    case "users":
      return `ignore:${ignore.mode}:${ignore.count}`;
  }
}

/** A person picked in the Assign menu: a Slack user id, not yet a person (shared/inbound/slack/assign-choice.ts). */
export interface SlackUserPick {
  v: 1;
  issueId: string;
  action: { type: "assign"; slackUserId: string };
}

export type SlackCardAction = CardActionPayload | SlackUserPick;

export function isSlackUserPick(action: SlackCardAction): action is SlackUserPick {
  return "slackUserId" in action.action;
}

/**
 * The payload behind a Slack click: `actionId` and `blockId` from the `block_actions` action,
 * `value` from `action.value` (buttons) or `action.selected_option.value` (menus), `selectedUser`
 * from `action.selected_user` (the Assign menu). Undefined for anything this renderer did not emit.
 */
export function decodeSlackAction(
  actionId: string,
  value: string | undefined,
  blockId: string | undefined,
  selectedUser?: string | null,
): SlackCardAction | undefined {
  if (!blockId?.startsWith(SLACK_BLOCK_ID_PREFIX)) return undefined;
  if (actionId === SLACK_ASSIGN_USER_ACTION_ID) {
    const issueId = blockId.slice(SLACK_BLOCK_ID_PREFIX.length);
    const ok =
      typeof selectedUser === "string" &&
      ids.slackUserId.safeParse(selectedUser).success &&
      cardActionPayloadSchema.shape.issueId.safeParse(issueId).success;
    return ok ? { v: 1, issueId, action: { type: "assign", slackUserId: selectedUser } } : undefined;
  }
  if (value === undefined) return undefined;
  const action = parseActionValue(value);
  if (!action) return undefined;
  const parsed = cardActionPayloadSchema.safeParse({ v: 1, issueId: blockId.slice(SLACK_BLOCK_ID_PREFIX.length), action });
  if (!parsed.success || actionId !== actionIdFor(parsed.data.action.type)) return undefined;
  return parsed.data;
}

function parseActionValue(value: string): unknown {
  const [type, ...rest] = value.split(":");
  const count = (text: string | undefined) => (text !== undefined && /^[1-9]\d{0,9}$/.test(text) ? Number(text) : undefined);
  switch (type) {
    case "ignore": {
      const [mode, n, ...extra] = rest;
      if (extra.length > 0) return undefined;
      if (mode === "forever") return n === undefined ? { type, ignore: { mode } } : undefined;
      if (mode === "minutes") return { type, ignore: { mode, minutes: count(n) } };
      return { type, ignore: { mode, count: count(n) } };
    }
    case "resolve":
      if (rest.length === 0) return { type };
      return rest.length === 1 ? { type, inRelease: rest[0] } : undefined;
    case "assign":
      // Everything after the first colon: the schema decides whether it is "me" or an email.
      return { type, assignee: rest.join(":") };
    default:
      return rest.length === 0 ? { type } : undefined;
  }
}

function actionIdFor(type: CardAction["type"]): string {
  return `${SLACK_ACTION_ID_PREFIX}${type}`;
}

function actionsBlock(view: IssueView): ActionsBlock | undefined {
  const blockId = `${SLACK_BLOCK_ID_PREFIX}${view.issueId}`;
  // Only what decodes back is offered: an over-long issue id, a malformed email or a value
  // over Slack's 150-character option limit would give the user a button that can't work.
  const encode = (choice: ActionChoice, maxValue: number) => {
    const value = encodeSlackAction(choice.action);
    const ok = value.length <= maxValue && decodeSlackAction(actionIdFor(choice.action.type), value, blockId) !== undefined;
    return ok ? value : undefined;
  };

  const button = (choice: ActionChoice | undefined, style?: ButtonElement["style"]): ButtonElement | undefined => {
    const value = choice && encode(choice, SLACK_LIMITS.buttonValue);
    if (!choice || value === undefined) return undefined;
    return {
      type: "button",
      action_id: actionIdFor(choice.action.type),
      text: plain(truncate(nonBlank(choice.label) ?? choice.action.type, SLACK_LIMITS.buttonText)),
      value,
      ...(style ? { style } : {}),
    };
  };

  const select = (type: "resolve" | "ignore", placeholder: string, choices: ActionChoice[] = []): StaticSelectElement | undefined => {
    const labels = distinctLabels(
      choices,
      (c) => c.label,
      (c) => (c.action.type === "assign" ? c.action.assignee : undefined),
    );
    const options: SelectOption[] = [];
    const seen = new Set<string>();
    choices.forEach((choice, i) => {
      const value = choice.action.type === type ? encode(choice, SLACK_LIMITS.optionValue) : undefined;
      if (value === undefined || seen.has(value) || options.length >= SLACK_LIMITS.selectOptions) return;
      seen.add(value);
      options.push({ text: plain(truncate(nonBlank(labels[i]) ?? value, SLACK_LIMITS.optionText)), value });
    });
    if (options.length === 0) return undefined;
    return { type: "static_select", action_id: actionIdFor(type), placeholder: plain(placeholder), options };
  };

  // Slack's own user menu lists everyone in the workspace, so no menu of linked people; "Assign to me" stays a
  // one-click button.
  const assign: UsersSelectElement = {
    type: "users_select",
    action_id: SLACK_ASSIGN_USER_ACTION_ID,
    placeholder: plain("Assign…"),
    ...(view.assigneeChatUserId && ids.slackUserId.safeParse(view.assigneeChatUserId).success ? { initial_user: view.assigneeChatUserId } : {}),
  };
  const { resolve, resolveOptions, unresolve, ignoreOptions, unignore, assignOptions, unassign } = view.actions;
  const assignMe = assignOptions?.find((choice) => choice.action.type === "assign" && choice.action.assignee === "me");
  const elements = [
    button(resolve, "primary"),
    select("resolve", "Resolve…", resolveOptions),
    button(unresolve),
    select("ignore", "Ignore…", ignoreOptions),
    button(unignore),
    button(assignMe),
    cardActionPayloadSchema.shape.issueId.safeParse(view.issueId).success ? assign : undefined,
    button(unassign),
  ].filter((element) => element !== undefined);
  return elements.length > 0 ? { type: "actions", block_id: blockId, elements } : undefined;
}

/** Escaped for mrkdwn and cut so that the escaped text, not the raw one, fits `max`. */
function escaped(text: string, max: number): string {
  return truncate(text, max, escapeSlack);
}

/** `<url|title>`, or just the title when the URL isn't a safe http(s) link that fits. */
function linked(title: string, url: string | undefined): string {
  const text = escaped(title, TEXT_LIMITS.title);
  const link = safeLink(url);
  const href = link && escapeSlack(link);
  return href && href.length <= MAX_URL_LENGTH ? `<${href}|${text}>` : text;
}

function mrkdwn(text: string): Mrkdwn {
  return { type: "mrkdwn", text, verbatim: true };
}

function plain(text: string): PlainText {
  return { type: "plain_text", text };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
