import type { Alert } from "./alert";
import { activityFor, expireIgnore, type ActivityRecord } from "./actions";
import type { Actor, Issue } from "./issue";
import { LEVELS } from "./issue";
import { mergeTags } from "./tags";

export interface AlertIntake {
  issue: Issue;
  activities: ActivityRecord[];
  /** The issue came back after being resolved. */
  regressed: boolean;
  /** The level rose above what the issue had. */
  levelRose: boolean;
  created: boolean;
}

const ALERT_ACTOR: Actor = { label: "alert", surface: "alert" };

/**
 * Folds one alert into the issue it reports. Counts and timestamps only move forward,
 * so an alert applied twice, or out of order, leaves the same issue.
 */
export function applyAlert(existing: Issue | undefined, alert: Alert, now: Date): AlertIntake {
  const reported = alert.issue;
  const base: Issue = existing ?? {
    id: reported.id,
    project: reported.project,
    title: reported.title,
    level: reported.level,
    count: 0,
    userCount: 0,
    firstSeen: reported.firstSeen,
    lastSeen: reported.lastSeen,
    tags: {},
    status: "unresolved",
    substatus: "new",
    version: 0,
  };
  const newer = !existing || Date.parse(reported.lastSeen) >= Date.parse(existing.lastSeen);
  const levelRose = !!existing && newer && LEVELS.indexOf(reported.level) > LEVELS.indexOf(existing.level);
  const firesAgain = !!existing && Date.parse(reported.lastSeen) > Date.parse(existing.lastSeen);

  let issue: Issue = {
    ...base,
    ...(newer
      ? {
          shortId: reported.shortId ?? base.shortId,
          project: reported.project,
          title: reported.title,
          culprit: reported.culprit ?? base.culprit,
          description: reported.description ?? base.description,
          level: reported.level,
          environment: reported.environment ?? base.environment,
          url: reported.url ?? base.url,
          tags: mergeTags(base.tags, reported.tags),
          ruleName: alert.rule?.name ?? base.ruleName,
        }
      : {}),
    count: Math.max(base.count, reported.count),
    userCount: Math.max(base.userCount, reported.userCount),
    firstSeen: earlier(base.firstSeen, reported.firstSeen),
    lastSeen: later(base.lastSeen, reported.lastSeen),
    version: base.version + 1,
  };

  const activities: ActivityRecord[] = [];
  if (!existing) activities.push(activityFor(issue, issue, "created", ALERT_ACTOR, now));

  let regressed = false;
  if (existing?.status === "resolved" && firesAgain) {
    regressed = true;
    const before = issue;
    issue = {
      ...issue,
      status: "unresolved",
      substatus: "regressed",
      statusChangedBy: "a new event",
      statusChangedAt: now.toISOString(),
    };
    activities.push(activityFor(before, issue, "regressed", ALERT_ACTOR, now));
  }

  const expired = expireIgnore(issue, now);
  if (expired) {
    issue = { ...expired.issue, version: issue.version };
    activities.push(expired.activity);
  }

  if (existing && issue.status === "unresolved" && issue.substatus === "new") issue.substatus = "ongoing";
  return { issue, activities, regressed, levelRose, created: !existing };
}

function earlier(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
