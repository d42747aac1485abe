export const LEVELS = ["debug", "info", "warning", "error", "fatal"] as const;
export type Level = (typeof LEVELS)[number];

export const STATUSES = ["unresolved", "resolved", "ignored"] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Why an issue is ignored, and when the ignore runs out. Counts are absolute targets. `recoveredAt`: the source
 * reported recovery (at that time) while the issue was ignored and has not fired since, so the ignore running out
 * resolves the issue by the source instead of unresolving it.
 */
export type IgnoreCondition = (
  | { mode: "forever" }
  | { mode: "until"; until: string; minutes: number }
  | { mode: "events"; untilCount: number; moreEvents: number }
  | { mode: "users"; untilUserCount: number; moreUsers: number }
) & { recoveredAt?: string };

/** Resolve in a release (Sentry's choices besides "Immediately"): the issue's release as it is now. */
export type ReleaseChoice = "current" | "next";

/**
 * Resolved in a release: `release` is the issue's latest alert's release at the time. "next": alerts from
 * that release or earlier don't reopen it; "current": alerts from earlier releases don't (releases.ts).
 */
export interface ReleaseResolution {
  inRelease: ReleaseChoice;
  release: string;
}

/** Why a regressed issue reopened, when it had been resolved in a release. */
export interface ReleaseRegression {
  firedIn: string;
  resolution: ReleaseResolution;
  /** The project never reported (or forgot) one of the two releases, so their order is unknown. */
  orderUnknown?: true;
}

/** A person is an email (lower-cased), plus their Entra object id when known. */
export interface Person {
  email: string;
  name?: string;
}

/** Who did something, and from where. */
export interface Actor {
  person?: Person;
  /** Display name when no person is known (an alert, a system timer). */
  label: string;
  surface: Surface;
}

export type Surface = "teams" | "slack" | "discord" | "api" | "alert" | "system";

export interface Issue {
  id: string;
  shortId?: string;
  project: string;
  title: string;
  culprit?: string;
  description?: string;
  level: Level;
  environment?: string;
  url?: string;
  count: number;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  tags: Record<string, string>;
  ruleName?: string;
  status: Status;
  /** Sentry-style detail of the status: `regressed` after a resolved issue fires again. */
  substatus?: "new" | "ongoing" | "regressed" | "escalating";
  ignore?: IgnoreCondition;
  /** Set while the issue is resolved in a release; absent when it was resolved immediately. */
  resolution?: ReleaseResolution;
  /** Set while the issue is regressed after being resolved in a release. */
  regression?: ReleaseRegression;
  assignee?: Person;
  /** The last status change, for the card's status line. */
  statusChangedBy?: string;
  statusChangedAt?: string;
  /** Which action made the last status change a person made: "Unignored by" reads differently from "Unresolved by". */
  statusChange?: "resolve" | "unresolve" | "ignore" | "unignore";
  /** Bumped by every change; cards remember which version they show. */
  version: number;
}
