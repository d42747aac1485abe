export const LEVELS = ["debug", "info", "warning", "error", "fatal"] as const;
export type Level = (typeof LEVELS)[number];

export const STATUSES = ["unresolved", "resolved", "ignored"] as const;
export type Status = (typeof STATUSES)[number];

/** Why an issue is ignored, and when the ignore runs out. Counts are absolute targets. */
export type IgnoreCondition =
  | { mode: "forever" }
  | { mode: "until"; until: string; minutes: number }
  | { mode: "events"; untilCount: number; moreEvents: number }
  | { mode: "users"; untilUserCount: number; moreUsers: number };

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

export type Surface = "teams" | "slack" | "api" | "alert" | "system";

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
  assignee?: Person;
  /** The last status change, for the card's status line. */
  statusChangedBy?: string;
  statusChangedAt?: string;
  /** Which action made the last status change a person made: "Unignored by" reads differently from "Unresolved by". */
  statusChange?: "resolve" | "unresolve" | "ignore" | "unignore";
  /** Bumped by every change; cards remember which version they show. */
  version: number;
}
