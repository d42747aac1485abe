import type { ActivityRecord } from "../domain/actions";
import type { Issue, Level, Surface } from "../domain/issue";
import { escapeDiscordMarkdown, isolated, oneLine, truncate } from "./text";

/**
 * A person named in a thread line. `chatUser`: their user on the platform (and workspace or tenant) the line
 * goes to, when they are linked there: the renderer then mentions them, so they are notified.
 */
export interface NamedPerson {
  name: string;
  chatUser?: { id: string; aadObjectId?: string };
}

/** A piece of a line: plain words, or a person. */
export type LinePart = string | { person: NamedPerson };

/** One thread line: what changed, oldest first, decided once; each platform's renderer only lays it out. */
export interface ThreadLineView {
  changes: LinePart[][];
  /** The oldest changes of a long burst, counted rather than listed. */
  omitted: number;
  /** Slack: also show the reply in the channel (regressions of fatal and error issues, when the setting allows). */
  broadcast: boolean;
}

/** A burst of changes lists this many, the latest; the line stays short whatever the burst. */
export const MAX_LISTED_CHANGES = 8;
const MAX_NAME_LENGTH = 80;
const BROADCAST_LEVELS: readonly Level[] = ["fatal", "error"];

export interface ThreadLineOptions {
  /** Who an email is on the platform the line goes to (its name, and its user there when linked). */
  personFor: (email: string) => NamedPerson;
  broadcastRegressions: boolean;
}

/** The line for these changes of the issue (oldest first), or undefined when none of them is worth a line. */
export function buildThreadLine(issue: Issue, changes: ActivityRecord[], options: ThreadLineOptions): ThreadLineView | undefined {
  const described = changes
    .map((change) => describeChange(issue, change, options.personFor))
    .filter((parts): parts is LinePart[] => parts !== undefined);
  if (described.length === 0) return undefined;
  const listed = described.slice(-MAX_LISTED_CHANGES);
  const regressed = changes.some((change) => change.action === "regressed");
  return {
    changes: listed,
    omitted: described.length - listed.length,
    broadcast: options.broadcastRegressions && regressed && BROADCAST_LEVELS.includes(issue.level),
  };
}

function describeChange(issue: Issue, change: ActivityRecord, personFor: (email: string) => NamedPerson): LinePart[] | undefined {
  const by: LinePart[] = [" by ", actorPart(change.actor, personFor), ...via(change.surface)];
  switch (change.action) {
    case "resolve":
      return [change.detail ? `Resolved ${change.detail}` : "Resolved", ...by];
    case "unresolve":
      return ["Unresolved", ...by];
    case "ignore":
      return [capitalise(change.detail ?? "ignored"), ...by];
    case "unignore":
      return ["Unignored", ...by];
    case "assign":
      return change.detail ? ["Assigned to ", { person: personFor(change.detail) }, ...by] : ["Assigned", ...by];
    case "unassign":
      return change.detail ? ["Unassigned ", { person: personFor(change.detail) }, ...by] : ["Unassigned", ...by];
    case "regressed":
      return [`Regressed: fired again (events ${formatCount(issue.count)})${change.detail ? `, ${change.detail}` : ""}`];
    case "ignore-expired":
      return [`The ignore ran out${change.detail ? ` (${change.detail})` : ""}: unresolved again (events ${formatCount(issue.count)})`];
    case "created":
      return undefined;
  }
}

/** The one who acted: a person (by their email, stored on the change) is named, never mentioned; anything else by its label. */
function actorPart(actor: string, personFor: (email: string) => NamedPerson): string {
  return isolated(actor.includes("@") ? personFor(actor).name : actor);
}

function via(surface: Surface): string[] {
  switch (surface) {
    case "teams":
      return [" · via Teams"];
    case "slack":
      return [" · via Slack"];
    case "discord":
      return [" · via Discord"];
    case "api":
      return [" · via the API"];
    case "alert":
    case "system":
      return [];
  }
}

/** What an assignee is sent in their personal chats: "Ana assigned you CHECKOUT-12". */
export function assignmentNoticeText(kind: "assign" | "unassign", actorName: string, issue: Issue): string {
  const label = isolated(issue.shortId ?? oneLine(issue.title));
  const actor = isolated(actorName);
  return kind === "assign" ? `${actor} assigned you ${label}` : `${actor} unassigned you from ${label}`;
}

// ---- Slack

export interface SlackThreadLine {
  text: string;
  replyBroadcast: boolean;
}

/** Slack mrkdwn: `&`, `<` and `>` escaped; a linked person is `<@U…>`, which notifies them. */
export function renderSlackThreadLine(view: ThreadLineView): SlackThreadLine {
  const part = (piece: LinePart) =>
    typeof piece === "string"
      ? escapeSlack(piece)
      : piece.person.chatUser
        ? `<@${piece.person.chatUser.id}>`
        : escapeSlack(namedInLine(piece.person));
  const lines = view.changes.map((change) => change.map(part).join(""));
  return { text: layout(lines, view.omitted, "• "), replyBroadcast: view.broadcast };
}

function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ---- Teams

export interface TeamsMentionEntity {
  type: "mention";
  text: string;
  mentioned: { id: string; name: string; aadObjectId?: string };
}

export interface TeamsThreadLine {
  text: string;
  entities: TeamsMentionEntity[];
}

/**
 * Teams message text: Teams takes `<…>` for markup and drops it, except a real mention (`<at>Name</at>` with its
 * entity), so every other `<`, `>` and `&` is escaped. A linked person gets a mention entity with their user id.
 */
export function renderTeamsThreadLine(view: ThreadLineView): TeamsThreadLine {
  const entities = new Map<string, TeamsMentionEntity>();
  const part = (piece: LinePart) => {
    if (typeof piece === "string") return escapeTeams(piece);
    const user = piece.person.chatUser;
    if (!user) return escapeTeams(namedInLine(piece.person));
    const text = `<at>${escapeTeams(shortName(piece.person))}</at>`;
    entities.set(`${user.id}\n${text}`, {
      type: "mention",
      text,
      mentioned: { id: user.id, name: shortName(piece.person), ...(user.aadObjectId ? { aadObjectId: user.aadObjectId } : {}) },
    });
    return text;
  };
  const lines = view.changes.map((change) => change.map(part).join(""));
  return { text: layout(lines, view.omitted, "- "), entities: [...entities.values()] };
}

function escapeTeams(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// ---- Discord

export interface DiscordThreadLine {
  content: string;
  /** Nothing in the line notifies anyone: not a mention, not an `@everyone` someone put in their name. */
  allowed_mentions: { parse: [] };
}

/** Discord's limit on a message's content (DISCORD_LIMITS.content: discord-message.ts loads on first use, dev/build.mjs). */
const DISCORD_CONTENT_MAX = 2000;

/**
 * Discord markdown, escaped (a name can't bold, link or mention); a person linked in the card's server is shown as
 * `<@id>`, their Discord user, which `allowed_mentions` keeps from pinging them. Cut to a message's 2,000 characters.
 */
export function renderDiscordThreadLine(view: ThreadLineView): DiscordThreadLine {
  const part = (piece: LinePart) =>
    typeof piece === "string"
      ? escapeDiscordMarkdown(piece)
      : piece.person.chatUser
        ? `<@${piece.person.chatUser.id}>`
        : escapeDiscordMarkdown(namedInLine(piece.person));
  const lines = view.changes.map((change) => change.map(part).join(""));
  return { content: truncate(layout(lines, view.omitted, "- "), DISCORD_CONTENT_MAX), allowed_mentions: { parse: [] } };
}

/** Discord's limit on a thread's name. */
export const DISCORD_THREAD_NAME_MAX = 100;

/** The name of the thread under a Discord card: "CHECKOUT-12: TypeError: cart is undefined", on one line, ≤ 100 characters. */
export function discordThreadName(issue: Pick<Issue, "id" | "shortId" | "title">): string {
  const name = [oneLine(issue.shortId ?? ""), oneLine(issue.title)].filter(Boolean).join(": ") || oneLine(issue.id);
  return truncate(name, DISCORD_THREAD_NAME_MAX);
}

// ---- shared layout

/** One change: the line itself. Several: "3 changes:" and one bullet each, the oldest omitted ones counted. */
function layout(lines: string[], omitted: number, bullet: string): string {
  if (lines.length === 1 && omitted === 0) return lines[0]!;
  const total = lines.length + omitted;
  const head = omitted > 0 ? `${total} changes, the latest ${lines.length}:` : `${total} changes:`;
  return [head, ...lines.map((line) => `${bullet}${line}`)].join("\n");
}

function shortName(person: NamedPerson): string {
  return truncate(person.name, MAX_NAME_LENGTH);
}

/** A name shown as text inside the line's sentence (a mention is its own element). */
function namedInLine(person: NamedPerson): string {
  return isolated(shortName(person));
}

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
