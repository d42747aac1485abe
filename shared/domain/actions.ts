import type { Actor, IgnoreCondition, Issue, Person, ReleaseChoice, ReleaseResolution, Status } from "./issue";
import { describeResolution, releaseOf } from "./releases";

export type IgnoreRequest =
  | { mode: "forever" }
  | { mode: "minutes"; minutes: number }
  | { mode: "events"; count: number }
  | { mode: "users"; count: number };

export type IssueAction =
  /** Without `inRelease`: resolved immediately, so any new alert reopens it. */
  | { type: "resolve"; inRelease?: ReleaseChoice }
  | { type: "unresolve" }
  | { type: "ignore"; ignore: IgnoreRequest }
  | { type: "unignore" }
  | { type: "assign"; assignee: Person | "me" }
  | { type: "unassign" };

export type ActionType = IssueAction["type"];
export const ACTION_TYPES: readonly ActionType[] = ["resolve", "unresolve", "ignore", "unignore", "assign", "unassign"];

/** One line of an issue's history: who changed what, from where. */
export interface ActivityRecord {
  issueId: string;
  action: ActionType | "regressed" | "ignore-expired" | "created";
  actor: string;
  surface: Actor["surface"];
  fromStatus: Status;
  toStatus: Status;
  detail?: string;
  at: string;
  /** Stable id of this line within its change (`<issue version>.<n>`), set when it is announced. */
  key?: string;
}

/**
 * What an action does. When an ignore had run out by the time of the action, the issue is first
 * returned to unresolved (the line `ignore-expired`) and the action applies to that: what the person is
 * told and what is stored agree. `changed` then carries both lines, and `unchanged` carries the expiry
 * in `expiry` (with `issue` already past it), to be stored although the action itself changed nothing.
 */
export type ActionOutcome =
  | { kind: "changed"; issue: Issue; activities: ActivityRecord[]; message: string }
  | { kind: "unchanged"; issue: Issue; message: string; expiry?: ActivityRecord }
  | { kind: "refused"; reason: string };

/** The monitoring tools whose issue ids carry their name (`alertmanager:<fingerprint>`, …): the actor of a recovery. */
export const ALERT_SOURCES = ["alertmanager", "grafana", "azure-monitor", "sentry"] as const;
export type AlertSource = (typeof ALERT_SOURCES)[number];

/** Who resolved the issue when an alert reports recovery: the tool named by the issue id's prefix, else "alert". */
export function recoveryActor(issueId: string): Actor {
  const prefix = issueId.slice(0, issueId.indexOf(":"));
  const source = (ALERT_SOURCES as readonly string[]).includes(prefix) ? prefix : "alert";
  return { label: source, surface: "alert" };
}

const MAX_IGNORE_MINUTES = 60 * 24 * 365;
const MAX_IGNORE_COUNT = 1_000_000_000;

/**
 * Applies a person's action to an issue. Pure: the caller stores the result.
 * Idempotent: an action that would change nothing says so instead of writing.
 */
export function applyAction(issue: Issue, action: IssueAction, actor: Actor, now: Date): ActionOutcome {
  const expired = expireIgnore(issue, now);
  // One change, one version: the expiry and the action are stored together.
  const current = expired ? { ...expired.issue, version: issue.version } : issue;
  const who = actorName(actor);
  /**
   * `restated`: the same status set again another way (resolved immediately / in a release, ignored on another
   * condition) is a status change too: the status line then names who set it this time.
   */
  const change = (next: Partial<Issue>, message: string, detail?: string, restated = false): ActionOutcome => {
    const statusChanged = (next.status !== undefined && next.status !== current.status) || restated;
    const updated: Issue = {
      ...current,
      // A resolution and the reason for a regression hold only until the next status change.
      ...(statusChanged ? { resolution: undefined, regression: undefined } : {}),
      ...next,
      ...(statusChanged ? { statusChangedBy: who, statusChangedAt: now.toISOString(), statusChange: statusActionOf(action.type) } : {}),
      version: issue.version + 1,
    };
    const activity = activityFor(current, updated, action.type, actor, now, detail);
    return { kind: "changed", issue: updated, message, activities: expired ? [expired.activity, activity] : [activity] };
  };
  const same = (message: string): ActionOutcome =>
    expired ? { kind: "unchanged", issue: expired.issue, message, expiry: expired.activity } : { kind: "unchanged", issue, message };

  switch (action.type) {
    case "resolve": {
      const resolution = action.inRelease ? releaseResolution(current, action.inRelease) : undefined;
      if (typeof resolution === "string") return { kind: "refused", reason: resolution };
      const how = resolution ? ` ${describeResolution(resolution)}` : "";
      if (current.status === "resolved" && sameResolution(current.resolution, resolution)) {
        return same(`${label(current)} is already resolved${how}.`);
      }
      return change(
        { status: "resolved", substatus: undefined, ignore: undefined, ...(resolution ? { resolution } : {}) },
        `Resolved${how} by ${who}.`,
        resolution ? describeResolution(resolution) : undefined,
        current.status === "resolved",
      );
    }

    case "unresolve":
      if (current.status === "unresolved") return same(`${label(current)} is already unresolved.`);
      return change({ status: "unresolved", substatus: "ongoing", ignore: undefined }, `Unresolved by ${who}.`);

    case "ignore": {
      if (current.status === "resolved") {
        return { kind: "refused", reason: `${label(current)} is resolved. Unresolve it before ignoring it.` };
      }
      const requested = ignoreCondition(current, action.ignore, now);
      if (typeof requested === "string") return { kind: "refused", reason: requested };
      // Ignored another way, the issue has still recovered: the new condition runs out into resolved too.
      const recoveredAt = current.ignore?.recoveredAt;
      const condition: IgnoreCondition = recoveredAt ? { ...requested, recoveredAt } : requested;
      if (current.status === "ignored" && (sameIgnore(current.ignore, condition) || repeatsIgnore(current, action.ignore, who, now))) {
        return same(`${label(current)} is already ${describeIgnore(current.ignore!)}.`);
      }
      return change(
        { status: "ignored", substatus: undefined, ignore: condition },
        `${capitalise(describeIgnore(condition))} by ${who}.`,
        describeIgnore(condition),
        current.status === "ignored",
      );
    }

    case "unignore":
      if (current.status === "resolved") {
        return { kind: "refused", reason: `${label(current)} is resolved, not ignored. Use Unresolve instead.` };
      }
      if (current.status === "unresolved") return same(`${label(current)} is not ignored.`);
      return change({ status: "unresolved", substatus: "ongoing", ignore: undefined }, `Unignored by ${who}.`);

    case "assign": {
      const assignee = action.assignee === "me" ? actor.person : normalisePerson(action.assignee);
      if (!assignee) {
        return { kind: "refused", reason: "We don't know who you are yet, so we can't assign the issue to you. Link your account first." };
      }
      if (!isEmail(assignee.email)) return { kind: "refused", reason: `"${assignee.email}" is not an email address.` };
      if (current.assignee?.email === assignee.email) {
        return same(`${label(current)} is already assigned to ${assignee.name ?? assignee.email}.`);
      }
      return change({ assignee }, `Assigned to ${assignee.name ?? assignee.email} by ${who}.`, assignee.email);
    }

    case "unassign":
      if (!current.assignee) return same(`${label(current)} is not assigned to anyone.`);
      return change({ assignee: undefined }, `Unassigned by ${who}.`, current.assignee.email);
  }
}

/**
 * Resolving in a release needs the issue's release. Sentry refuses the same way ("No release data present
 * in the system to form a basis for 'Next Release'") rather than resolving immediately: the two differ in
 * which alerts reopen the issue, so doing the other one silently would mislead.
 */
function releaseResolution(issue: Issue, inRelease: ReleaseChoice): ReleaseResolution | string {
  const release = releaseOf(issue.tags);
  if (!release) {
    return (
      `${label(issue)} can't be resolved in the ${inRelease} release: its alerts name no release ` +
      `(no "release" tag). Resolve it immediately instead, or send the release tag with its alerts.`
    );
  }
  return { inRelease, release };
}

function sameResolution(a: ReleaseResolution | undefined, b: ReleaseResolution | undefined): boolean {
  return a?.inRelease === b?.inRelease && a?.release === b?.release;
}

function statusActionOf(type: IssueAction["type"]): Issue["statusChange"] {
  return type === "resolve" || type === "unresolve" || type === "ignore" || type === "unignore" ? type : undefined;
}

/**
 * When an ignore condition has run out, the issue returns to unresolved; unless its source reported recovery while
 * it was ignored and has not fired since (`recoveredAt`): then the source resolves it, as that recovery would have
 * done to an issue not ignored. Firing again, it regresses like any resolved issue.
 */
export function expireIgnore(issue: Issue, now: Date): { issue: Issue; activity: ActivityRecord } | undefined {
  if (issue.status !== "ignored" || !ignoreHasRunOut(issue, now)) return undefined;
  if (issue.ignore?.recoveredAt) {
    const source = recoveryActor(issue.id);
    const resolved: Issue = {
      ...issue,
      status: "resolved",
      substatus: undefined,
      ignore: undefined,
      statusChangedBy: source.label,
      statusChangedAt: now.toISOString(),
      statusChange: "resolve",
      version: issue.version + 1,
    };
    return { issue: resolved, activity: activityFor(issue, resolved, "resolve", source, now) };
  }
  const updated: Issue = {
    ...issue,
    status: "unresolved",
    substatus: "escalating",
    ignore: undefined,
    statusChangedBy: "Triage Relay",
    statusChangedAt: now.toISOString(),
    version: issue.version + 1,
  };
  const system: Actor = { label: "Triage Relay", surface: "system" };
  return {
    issue: updated,
    activity: activityFor(issue, updated, "ignore-expired", system, now, describeIgnore(issue.ignore!)),
  };
}

function ignoreHasRunOut(issue: Issue, now: Date): boolean {
  const ignore = issue.ignore;
  if (!ignore) return false;
  switch (ignore.mode) {
    case "forever":
      return false;
    case "until":
      return now.getTime() >= Date.parse(ignore.until);
    case "events":
      return issue.count >= ignore.untilCount;
    case "users":
      return issue.userCount >= ignore.untilUserCount;
  }
}

function ignoreCondition(issue: Issue, request: IgnoreRequest, now: Date): IgnoreCondition | string {
  switch (request.mode) {
    case "forever":
      return { mode: "forever" };
    case "minutes":
      if (!Number.isInteger(request.minutes) || request.minutes < 1 || request.minutes > MAX_IGNORE_MINUTES) {
        return "Ignore for how long? Choose a whole number of minutes, up to a year.";
      }
      return {
        mode: "until",
        minutes: request.minutes,
        until: new Date(now.getTime() + request.minutes * 60_000).toISOString(),
      };
    case "events":
      if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IGNORE_COUNT) {
        return "Ignore until how many more events? Choose a whole number above zero.";
      }
      return { mode: "events", moreEvents: request.count, untilCount: issue.count + request.count };
    case "users":
      if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IGNORE_COUNT) {
        return "Ignore until how many more users? Choose a whole number above zero.";
      }
      return { mode: "users", moreUsers: request.count, untilUserCount: issue.userCount + request.count };
  }
}

function sameIgnore(a: IgnoreCondition | undefined, b: IgnoreCondition): boolean {
  if (!a || a.mode !== b.mode) return false;
  if (a.mode === "forever") return true;
  return JSON.stringify(withoutRecovery(a)) === JSON.stringify(withoutRecovery(b));
}

/** The condition alone, without the recovery it remembers (`IgnoreCondition.recoveredAt`). */
export function withoutRecovery(ignore: IgnoreCondition): IgnoreCondition {
  const condition = { ...ignore };
  delete condition.recoveredAt;
  return condition;
}

/**
 * How long after an ignore the same person's same choice is taken for that ignore arriving again rather than
 * a new one: a double click, a Slack click handed to the worker, a queue message redelivered after a failure
 * (within seconds) or after a stopped instance's lease ran out (10 minutes).
 */
const REPEATED_IGNORE_WINDOW_MS = 15 * 60_000;

/**
 * Whether `request` repeats the ignore in force: the same person's same choice (mode and N), made within
 * `REPEATED_IGNORE_WINDOW_MS` of it. Storing it again would move the end by the delay between the two and
 * announce the ignore twice. Another person's, another choice, or the same choice later restarts the ignore.
 */
function repeatsIgnore(issue: Issue, request: IgnoreRequest, who: string, now: Date): boolean {
  const ignore = issue.ignore;
  if (!ignore || issue.statusChange !== "ignore" || issue.statusChangedBy !== who || !issue.statusChangedAt) return false;
  // Either way round: the two may be decided on instances whose clocks differ a little.
  if (!(Math.abs(now.getTime() - Date.parse(issue.statusChangedAt)) < REPEATED_IGNORE_WINDOW_MS)) return false;
  switch (request.mode) {
    case "forever":
      return ignore.mode === "forever";
    case "minutes":
      return ignore.mode === "until" && ignore.minutes === request.minutes;
    case "events":
      return ignore.mode === "events" && ignore.moreEvents === request.count;
    case "users":
      return ignore.mode === "users" && ignore.moreUsers === request.count;
  }
}

export function describeIgnore(ignore: IgnoreCondition): string {
  switch (ignore.mode) {
    case "forever":
      return "ignored forever";
    case "until":
      return `ignored until ${ignore.until.slice(0, 16).replace("T", " ")} UTC`;
    case "events":
      return `ignored until ${ignore.moreEvents} more ${plural(ignore.moreEvents, "event")}`;
    case "users":
      return `ignored until ${ignore.moreUsers} more ${plural(ignore.moreUsers, "user")}`;
  }
}

export function activityFor(before: Issue, after: Issue, action: ActivityRecord["action"], actor: Actor, now: Date, detail?: string): ActivityRecord {
  return {
    issueId: before.id,
    action,
    actor: clip(actor.person?.email ?? actor.label),
    surface: actor.surface,
    fromStatus: before.status,
    toStatus: after.status,
    ...(detail ? { detail: clip(detail) } : {}),
    at: now.toISOString(),
  };
}

/** History lines are stored with the change (the outbox): each is kept small whatever a name holds. */
const MAX_ACTIVITY_TEXT = 320;

function clip(text: string): string {
  if (text.length <= MAX_ACTIVITY_TEXT) return text;
  const end = /[\ud800-\udbff]/.test(text[MAX_ACTIVITY_TEXT - 2]!) ? MAX_ACTIVITY_TEXT - 2 : MAX_ACTIVITY_TEXT - 1;
  return `${text.slice(0, end)}…`;
}

export function actorName(actor: Actor): string {
  return actor.person?.name ?? actor.person?.email ?? actor.label;
}

function normalisePerson(person: Person): Person {
  return { ...person, email: person.email.trim().toLowerCase() };
}

export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

function label(issue: Issue): string {
  return issue.shortId ?? "This issue";
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
