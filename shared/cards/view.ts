import { describeIgnore, type IgnoreRequest } from "../domain/actions";
import type { Issue, Level, Person, ReleaseChoice, Status } from "../domain/issue";
import { regressionLabel, releaseOf, resolutionLabel } from "../domain/releases";
import { isolated, nonBlank } from "./text";

/** Everything a card shows, decided once; each platform's renderer only lays it out. */
export interface IssueView {
  issueId: string;
  version: number;
  title: string;
  titleUrl?: string;
  level: Level;
  culprit?: string;
  description?: string;
  facts: { label: string; value: string }[];
  status: Status;
  /** "Resolved by Ana · 14:02 UTC", "Ignored until 100 more events", "Unresolved" */
  statusLine: string;
  /** "Assigned to Ben", when assigned. */
  assigneeLine?: string;
  /** The assignee's user id on the platform being rendered, when they are linked there (Slack's user menu shows them chosen). */
  assigneeChatUserId?: string;
  /** A banner above the card, e.g. "Regressed". */
  notice?: string;
  actions: CardActions;
}

export interface CardActions {
  /** Resolve in one click: offered when the issue's alerts name no release. */
  resolve?: ActionChoice;
  /** Resolve immediately, in the current release or in the next one: offered instead of `resolve` when they do. */
  resolveOptions?: ActionChoice[];
  unresolve?: ActionChoice;
  ignoreOptions?: ActionChoice[];
  unignore?: ActionChoice;
  assignOptions?: ActionChoice[];
  unassign?: ActionChoice;
}

export interface ActionChoice {
  label: string;
  action: CardAction;
}

/** What a button or menu item asks for; both renderers encode it, both handlers decode it. */
export type CardAction =
  | { type: "resolve"; inRelease?: ReleaseChoice }
  | { type: "unresolve" | "unignore" | "unassign" }
  | { type: "ignore"; ignore: IgnoreRequest }
  | { type: "assign"; assignee: "me" | string };

export const IGNORE_CHOICES: { label: string; ignore: IgnoreRequest }[] = [
  { label: "Forever", ignore: { mode: "forever" } },
  { label: "For 30 minutes", ignore: { mode: "minutes", minutes: 30 } },
  { label: "For 2 hours", ignore: { mode: "minutes", minutes: 120 } },
  { label: "For 24 hours", ignore: { mode: "minutes", minutes: 1440 } },
  { label: "Until 10 more events", ignore: { mode: "events", count: 10 } },
  { label: "Until 100 more events", ignore: { mode: "events", count: 100 } },
  { label: "Until 1000 more events", ignore: { mode: "events", count: 1000 } },
  { label: "Until 10 more users", ignore: { mode: "users", count: 10 } },
  { label: "Until 100 more users", ignore: { mode: "users", count: 100 } },
];

/**
 * Sentry's choices, in its order; resolving in a release needs the issue's release (`releaseOf`). Sentry calls
 * the first "Immediately"; here it stays "Resolve", so whoever (or whatever script) looks for Resolve finds it.
 */
export const RESOLVE_CHOICES: { label: string; inRelease?: ReleaseChoice }[] = [
  { label: "Resolve" },
  { label: "In the current release", inRelease: "current" },
  { label: "In the next release", inRelease: "next" },
];

/** Assign menus stay short; Slack's static select caps at 100 options and Teams' show-card gets unwieldy sooner. */
export const MAX_ASSIGN_CHOICES = 25;

export interface ViewOptions {
  /** People linked in this tenant/workspace, offered in the Assign menu after "Assign to me". */
  assignChoices?: Person[];
  /** The current assignee's user id in this tenant/workspace, when linked there (see `assigneeChatUserId`). */
  assigneeChatUserId?: string;
  notice?: string;
}

export function buildIssueView(issue: Issue, options: ViewOptions = {}): IssueView {
  const facts: IssueView["facts"] = [];
  const fact = (label: string, value: string | undefined) => {
    if (value) facts.push({ label, value });
  };
  fact("Project", issue.project);
  fact("Environment", issue.environment);
  fact("Events", formatCount(issue.count));
  fact("Users", formatCount(issue.userCount));
  fact("First seen", formatTime(issue.firstSeen));
  fact("Last seen", formatTime(issue.lastSeen));
  fact("Short ID", issue.shortId);
  fact("Rule", issue.ruleName);
  const release = issue.tags["release"];
  fact("Release", release);

  return {
    issueId: issue.id,
    version: issue.version,
    title: issue.title,
    titleUrl: issue.url,
    level: issue.level,
    culprit: issue.culprit,
    description: issue.description,
    facts,
    status: issue.status,
    statusLine: statusLine(issue),
    assigneeLine: issue.assignee ? `Assigned to ${isolated(shownName(issue.assignee))}` : undefined,
    assigneeChatUserId: issue.assignee ? options.assigneeChatUserId : undefined,
    notice: options.notice ?? regressedNotice(issue),
    actions: cardActions(issue, options.assignChoices ?? []),
  };
}

function cardActions(issue: Issue, people: Person[]): CardActions {
  const actions: CardActions = {};
  if (issue.status === "resolved") {
    actions.unresolve = { label: "Unresolve", action: { type: "unresolve" } };
  } else if (releaseOf(issue.tags)) {
    actions.resolveOptions = RESOLVE_CHOICES.map(({ label, inRelease }) => ({
      label,
      action: inRelease ? { type: "resolve", inRelease } : { type: "resolve" },
    }));
  } else {
    actions.resolve = { label: "Resolve", action: { type: "resolve" } };
  }
  if (issue.status === "ignored") {
    actions.unignore = { label: "Unignore", action: { type: "unignore" } };
  } else if (issue.status === "unresolved") {
    // Alertmanager, Grafana, Azure Monitor and Sentry's event alerts count no users: "until N more users" would never run out.
    actions.ignoreOptions = IGNORE_CHOICES.filter(({ ignore }) => ignore.mode !== "users" || issue.userCount > 0).map(({ label, ignore }) => ({
      label,
      action: { type: "ignore", ignore },
    }));
  }
  const others = people
    .filter((person) => person.email !== issue.assignee?.email)
    .slice(0, MAX_ASSIGN_CHOICES - 1)
    .map((person) => ({ label: shownName(person), action: { type: "assign", assignee: person.email } }) as ActionChoice);
  actions.assignOptions = [{ label: "Assign to me", action: { type: "assign", assignee: "me" } }, ...others];
  if (issue.assignee) actions.unassign = { label: "Unassign", action: { type: "unassign" } };
  return actions;
}

function statusLine(issue: Issue): string {
  const by = issue.statusChangedBy ? ` by ${isolated(issue.statusChangedBy)}` : "";
  const at = issue.statusChangedAt ? ` · ${formatTime(issue.statusChangedAt)}` : "";
  switch (issue.status) {
    case "resolved":
      return `${resolutionLabel(issue) ?? "Resolved"}${by}${at}`;
    case "ignored":
      return `${capitalise(issue.ignore ? describeIgnore(issue.ignore) : "ignored")}${by}${at}`;
    case "unresolved":
      if (issue.substatus === "regressed") return `Unresolved: it came back after being resolved${at}`;
      if (issue.substatus === "escalating") return `Unresolved: the ignore ran out${at}`;
      if (issue.statusChangedBy && issue.statusChange === "unignore") return `Unignored${by}${at}`;
      return issue.statusChangedBy ? `Unresolved${by}${at}` : "Unresolved";
  }
}

/** "Regressed", or why when the issue was resolved in a release: "Regressed: fired in 1.2.4, resolved in the next release after 1.2.3". */
function regressedNotice(issue: Issue): string | undefined {
  if (issue.status !== "unresolved" || issue.substatus !== "regressed") return undefined;
  return issue.regression ? regressionLabel(issue) : "Regressed";
}

/** A person by their name, or by their email when the name is missing or only spaces. */
function shownName(person: Person): string {
  return nonBlank(person.name) ?? person.email;
}

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** "2026-11-21 14:02 UTC": unambiguous across time zones, which both Teams and Slack mix in one channel. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
