import type {
  APIActionRowComponent,
  APIComponentInMessageActionRow,
  APIEmbed,
  ButtonStyle as Style,
  ComponentType as Component,
  SelectMenuDefaultValueType,
} from "discord-api-types/v10";
import type { Level } from "../domain/issue";
import { cardActionPayloadSchema, type CardActionPayload } from "./card-action";
import { decodeSlackAction, encodeSlackAction, isSlackUserPick, SLACK_ACTION_ID_PREFIX, SLACK_BLOCK_ID_PREFIX } from "./slack-message";
import { distinctLabels, escapeDiscordMarkdown, escapedWithin, nonBlank, oneLine, safeLink, truncate } from "./text";
import type { ActionChoice, IssueView } from "./view";

/*
 * A Discord message for an issue: one embed (level colour, title linking to the issue, culprit, fields, status,
 * footer) and up to four action rows (buttons; the Ignore menu; Discord's user select to assign anyone in the
 * server; the Assign to me and Unassign buttons), from the one IssueView.
 * Each component's custom_id is `<action>~<issueId>` with the compact action grammar Slack's values use
 * ("resolve", "resolve:next", "assign:me", "unassign"; the Ignore menu's custom_id names its kind and its option
 * values carry the action, "ignore:events:100"; the user select is `assign-user~<issueId>` and its value is the
 * picked user's id). Cards posted before the user select have an Assign menu (`assign~<issueId>`, values
 * "assign:me", "assign:ana@example.com"): still read. When the issue id makes a custom_id longer than Discord's
 * 100 characters, it is left out (`<action>~`) and read from the embed's footer instead.
 */

// discord-api-types' enums as values would bundle all of its v10 API (150 KB compiled on every cold start).
const ComponentType = {
  ActionRow: 1 as Component.ActionRow,
  Button: 2 as Component.Button,
  StringSelect: 3 as Component.StringSelect,
  UserSelect: 5 as Component.UserSelect,
} as const;
const ButtonStyle = { Secondary: 2 as Style.Secondary, Success: 3 as Style.Success } as const;

/** Discord's documented limits (Channel resources → Embed limits; Message components). */
export const DISCORD_LIMITS = {
  embedTotal: 6000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  content: 2000,
  actionRows: 5,
  buttonsPerRow: 5,
  selectOptions: 25,
  customId: 100,
  optionLabel: 100,
  optionValue: 100,
  buttonLabel: 80,
  placeholder: 150,
} as const;

export interface DiscordMessage {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  allowed_mentions: { parse: [] };
}

const LEVEL_COLOUR: Record<Level, number> = {
  fatal: 0x8b0000,
  error: 0xe03e2f,
  warning: 0xf2c744,
  info: 0x3b82f6,
  debug: 0x9ca3af,
};
const RESOLVED_COLOUR = 0x2eb67d;

const FOOTER_ISSUE_PREFIX = "Issue ";
const SEPARATOR = "~";
/** The user select's custom_id head: its value is the picked user's id, not an action. */
const ASSIGN_USER = "assign-user";
const SNOWFLAKE = /^\d{17,20}$/;

export function renderDiscordMessage(view: IssueView): DiscordMessage {
  const notice = nonBlank(view.notice);
  return {
    content: notice ? escapedWithin(notice, DISCORD_LIMITS.content, escapeDiscordMarkdown) : "",
    embeds: [fitEmbed(embedFor(view))],
    components: actionRows(view),
    allowed_mentions: { parse: [] },
  };
}

function embedFor(view: IssueView): APIEmbed {
  const url = safeLink(view.titleUrl);
  const culprit = nonBlank(view.culprit);
  const description = [culprit && inlineCode(culprit), nonBlank(view.description) && escapeDiscordMarkdown(view.description!)]
    .filter(Boolean)
    .join("\n\n");
  const fields = [
    { name: "Status", value: view.statusLine, inline: false },
    ...(view.assigneeLine ? [{ name: "Assignee", value: view.assigneeLine.replace(/^Assigned to /, ""), inline: false }] : []),
    ...view.facts.map((fact) => ({ name: fact.label, value: fact.value, inline: true })),
  ]
    .slice(0, DISCORD_LIMITS.fields)
    .map((field) => ({
      name: truncate(nonBlank(field.name) ?? "-", DISCORD_LIMITS.fieldName),
      value: truncate(nonBlank(field.value) ?? "-", DISCORD_LIMITS.fieldValue, escapeDiscordMarkdown),
      inline: field.inline,
    }));
  return {
    title: escapedWithin(
      `${view.level.toUpperCase()}: ${oneLine(nonBlank(view.title) ?? "Untitled issue")}`,
      DISCORD_LIMITS.title,
      escapeDiscordMarkdown,
    ),
    ...(url ? { url } : {}),
    ...(description ? { description: truncate(description, DISCORD_LIMITS.description) } : {}),
    color: view.status === "resolved" ? RESOLVED_COLOUR : LEVEL_COLOUR[view.level],
    fields,
    footer: { text: truncate(`Triage Relay · v${view.version} · ${FOOTER_ISSUE_PREFIX}${view.issueId}`, DISCORD_LIMITS.footer) },
  };
}

/**
 * `text` on one line as inline code, shown as typed: fenced by more backticks than its longest run, and a backtick at
 * either end spaced off the fence (Discord drops that one space again). A fence of three or more would open a code
 * block (its first word taken for a language): such text is shown escaped instead, as plain text.
 */
function inlineCode(text: string): string {
  const line = oneLine(text);
  const longestRun = Math.max(0, ...Array.from(line.matchAll(/`+/g), ([run]) => run.length));
  if (longestRun >= 2) return escapeDiscordMarkdown(line);
  const fence = "`".repeat(longestRun + 1);
  return `${fence}${line.startsWith("`") ? " " : ""}${line}${line.endsWith("`") ? " " : ""}${fence}`;
}

/** Characters Discord counts towards an embed's 6,000: title, description, field names and values, footer, author. */
export function embedLength(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

/** Within 6,000 characters by cutting, never by refusing: the description shrinks first, then the last facts go. */
function fitEmbed(embed: APIEmbed): APIEmbed {
  let over = embedLength(embed) - DISCORD_LIMITS.embedTotal;
  if (over <= 0) return embed;
  const fitted = { ...embed, fields: [...(embed.fields ?? [])] };
  if (fitted.description) {
    const keep = Math.max(0, fitted.description.length - over);
    fitted.description = keep > 1 ? truncate(fitted.description, keep) : undefined;
    over = embedLength(fitted) - DISCORD_LIMITS.embedTotal;
  }
  while (over > 0 && fitted.fields.length > 1) {
    fitted.fields.pop();
    over = embedLength(fitted) - DISCORD_LIMITS.embedTotal;
  }
  if (over > 0) {
    const status = fitted.fields[0];
    if (status) fitted.fields[0] = { ...status, value: truncate(status.value, Math.max(1, status.value.length - over)) };
  }
  return fitted;
}

function customId(action: string, issueId: string): string {
  const full = `${action}${SEPARATOR}${issueId}`;
  return full.length <= DISCORD_LIMITS.customId ? full : `${action}${SEPARATOR}`;
}

function actionRows(view: IssueView): DiscordMessage["components"] {
  const { actions } = view;
  const stateButtons = buttons(view, [
    ...(actions.resolve ? [actions.resolve] : []),
    ...(actions.resolveOptions ?? []),
    ...(actions.unresolve ? [actions.unresolve] : []),
    ...(actions.unignore ? [actions.unignore] : []),
  ]);
  // Discord's user select lists everyone in the server, so no menu of linked people; "Assign to me" stays a one-click button.
  const assignMe = actions.assignOptions?.find((choice) => choice.action.type === "assign" && choice.action.assignee === "me");
  const assignButtons = buttons(view, [...(assignMe ? [assignMe] : []), ...(actions.unassign ? [actions.unassign] : [])]);
  const rows: DiscordMessage["components"] = [];
  if (stateButtons.length > 0) rows.push({ type: ComponentType.ActionRow, components: stateButtons });
  const ignore = select("ignore", "Ignore…", view, actions.ignoreOptions);
  if (ignore) rows.push({ type: ComponentType.ActionRow, components: [ignore] });
  if (actions.assignOptions) rows.push({ type: ComponentType.ActionRow, components: [userSelect(view)] });
  if (assignButtons.length > 0) rows.push({ type: ComponentType.ActionRow, components: assignButtons });
  return rows.slice(0, DISCORD_LIMITS.actionRows);
}

function buttons(view: IssueView, choices: ActionChoice[]) {
  return choices.slice(0, DISCORD_LIMITS.buttonsPerRow).map((choice) => ({
    type: ComponentType.Button,
    style: choice.action.type === "resolve" ? ButtonStyle.Success : ButtonStyle.Secondary,
    label: truncate(nonBlank(choice.label) ?? choice.action.type, DISCORD_LIMITS.buttonLabel),
    custom_id: customId(encodeSlackAction(choice.action), view.issueId),
  }));
}

/** Pick one person in the server; the current assignee shown chosen when they are linked here. */
function userSelect(view: IssueView) {
  const assignee = view.assigneeChatUserId && SNOWFLAKE.test(view.assigneeChatUserId) ? view.assigneeChatUserId : undefined;
  return {
    type: ComponentType.UserSelect,
    custom_id: customId(ASSIGN_USER, view.issueId),
    placeholder: "Assign…",
    min_values: 1,
    max_values: 1,
    ...(assignee ? { default_values: [{ id: assignee, type: "user" as SelectMenuDefaultValueType.User }] } : {}),
  };
}

function select(kind: "ignore", placeholder: string, view: IssueView, choices: ActionChoice[] = []) {
  const labels = distinctLabels(
    choices,
    (c) => c.label,
    (c) => (c.action.type === "assign" ? c.action.assignee : undefined),
  );
  const options: { label: string; value: string }[] = [];
  choices.forEach((choice, i) => {
    const value = encodeSlackAction(choice.action);
    // Only what fits and decodes back is offered: an option that can't work is left out, the card still goes.
    if (choice.action.type !== kind || value.length > DISCORD_LIMITS.optionValue || !decodeDiscordAction(kind, value, view.issueId)) return;
    if (options.length >= DISCORD_LIMITS.selectOptions || options.some((o) => o.value === value)) return;
    options.push({ label: truncate(nonBlank(labels[i]) ?? value, DISCORD_LIMITS.optionLabel), value });
  });
  if (options.length === 0) return undefined;
  return { type: ComponentType.StringSelect, custom_id: customId(kind, view.issueId), placeholder, options };
}

/** The issue a message shows, from its embed's footer (for custom_ids that had no room for it). */
export function issueIdFromEmbeds(embeds: readonly { footer?: { text?: string } }[] | undefined): string | undefined {
  const footer = embeds?.[0]?.footer?.text;
  const at = footer?.lastIndexOf(` · ${FOOTER_ISSUE_PREFIX}`) ?? -1;
  return footer && at >= 0 && !footer.endsWith("…") ? footer.slice(at + ` · ${FOOTER_ISSUE_PREFIX}`.length) : undefined;
}

/** The issue version a message's card shows, from its embed's footer (`Triage Relay · v<version> · …`). */
export function discordMessageVersion(embeds: readonly { footer?: { text?: string } }[] | undefined): number | undefined {
  const match = /^Triage Relay · v(\d+) · /.exec(embeds?.[0]?.footer?.text ?? "");
  const version = Number(match?.[1]);
  return match && Number.isSafeInteger(version) ? version : undefined;
}

/** A person picked in the user select: a Discord user id, not yet a person (shared/inbound/discord/assign-choice.ts). */
export interface DiscordUserPick {
  v: 1;
  issueId: string;
  action: { type: "assign"; discordUserId: string };
}

export type DiscordCardAction = CardActionPayload | DiscordUserPick;

export function isDiscordUserPick(action: DiscordCardAction): action is DiscordUserPick {
  return "discordUserId" in action.action;
}

/**
 * A click back into the card's action: the button's custom_id, or a menu's custom_id and its chosen value (the
 * user select's: a user id). undefined when it isn't one of ours. The issue id comes from the custom_id, or the
 * message when it had no room.
 */
export function decodeDiscordComponent(
  customIdValue: string,
  values: readonly string[] | undefined,
  embeds?: readonly { footer?: { text?: string } }[],
): DiscordCardAction | undefined {
  const at = customIdValue.indexOf(SEPARATOR);
  if (at <= 0) return undefined;
  const head = customIdValue.slice(0, at);
  const issueId = customIdValue.slice(at + 1) || issueIdFromEmbeds(embeds);
  if (!issueId) return undefined;
  if (head === ASSIGN_USER) {
    const [userId, ...more] = values ?? [];
    const ok =
      userId !== undefined && more.length === 0 && SNOWFLAKE.test(userId) && cardActionPayloadSchema.shape.issueId.safeParse(issueId).success;
    return ok ? { v: 1, issueId, action: { type: "assign", discordUserId: userId } } : undefined;
  }
  const value = head === "ignore" || head === "assign" ? values?.[0] : head;
  if (!value || (values !== undefined && head !== "ignore" && head !== "assign")) return undefined;
  return decodeDiscordAction(value.split(":")[0]!, value, issueId);
}

function decodeDiscordAction(kind: string, value: string, issueId: string): CardActionPayload | undefined {
  if (!value.startsWith(kind)) return undefined;
  const decoded = decodeSlackAction(`${SLACK_ACTION_ID_PREFIX}${value.split(":")[0]}`, value, `${SLACK_BLOCK_ID_PREFIX}${issueId}`);
  return decoded && !isSlackUserPick(decoded) ? decoded : undefined;
}
