import type { Alert } from "./alert";
import { activityFor, expireIgnore, withoutRecovery, type ActivityRecord } from "./actions";
import type { Actor, Issue, ReleaseRegression } from "./issue";
import { LEVELS } from "./issue";
import { describeRegression, recordRelease, releaseOf, releaseRegression, type KnownReleases } from "./releases";
import { mergeTags } from "./tags";

export interface AlertIntake {
  issue: Issue;
  activities: ActivityRecord[];
  /** The issue came back after being resolved. */
  regressed: boolean;
  /** The level rose above what the issue had. */
  levelRose: boolean;
  created: boolean;
  /**
   * The project's releases with this alert's release recorded, when they were given: the same array when
   * nothing changed (nothing to store).
   */
  releases?: KnownReleases;
}

const ALERT_ACTOR: Actor = { label: "alert", surface: "alert" };

export interface FoldOptions {
  /**
   * The alert was taken before the issue was resolved (by a recovery, or by a person), and its source sent it again
   * since: it fired again (Alertmanager reports an alert that fires again after it resolved it, or that still fires,
   * with the same startsAt), however old its timestamps are.
   */
  firesAgain?: boolean;
}

/**
 * Folds one alert into the issue it reports. Counts and timestamps only move forward, so an alert out of
 * order leaves them as they were; an alert from a source that counts nothing (count 1) is one more event
 * (`countAfter`), so fold each alert once (the alerts handler does, by alertId).
 *
 * `releases`, the project's known releases, decide whether an issue resolved in a release regresses
 * (`releaseRegression`); without them only releases that are versions of one package can be ordered, and an
 * alert from any other different release reopens it.
 */
export function applyAlert(existing: Issue | undefined, alert: Alert, now: Date, releases?: KnownReleases, options: FoldOptions = {}): AlertIntake {
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
  const refired = !!existing && options.firesAgain === true && alert.status !== "resolved";
  const newer = !existing || refired || Date.parse(reported.lastSeen) >= Date.parse(existing.lastSeen);
  const levelRose = !!existing && newer && LEVELS.indexOf(reported.level) > LEVELS.indexOf(existing.level);
  const firesAgain = refired || (!!existing && Date.parse(reported.lastSeen) > Date.parse(existing.lastSeen));

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
    count: countAfter(existing, alert, refired),
    userCount: Math.max(base.userCount, reported.userCount),
    firstSeen: earlier(base.firstSeen, reported.firstSeen),
    lastSeen: later(base.lastSeen, reported.lastSeen),
    version: base.version + 1,
  };

  const activities: ActivityRecord[] = [];
  if (!existing) activities.push(activityFor(issue, issue, "created", ALERT_ACTOR, now));

  const firedIn = releaseOf(reported.tags);
  // Reported when the event was seen; a producer's clock ahead of ours does not make a release later.
  const knownReleases = releases && firedIn ? recordRelease(releases, firedIn, earlier(reported.lastSeen, now.toISOString())) : releases;

  let regressed = false;
  if (existing?.status === "resolved" && firesAgain) {
    const resolution = existing.resolution;
    const regression = resolution ? releaseRegression(resolution, firedIn, knownReleases ?? []) : undefined;
    if (!resolution || regression) {
      regressed = true;
      const reopened = regress(issue, ALERT_ACTOR, now, regression);
      issue = reopened.issue;
      activities.push(reopened.activity);
    }
  }

  // Fired again after a recovery the ignore remembered: the source's last word is a firing, and the ignore ends as usual.
  if (alert.status !== "resolved" && firesAgain && issue.ignore?.recoveredAt) issue = { ...issue, ignore: withoutRecovery(issue.ignore) };

  const expired = expireIgnore(issue, now);
  if (expired) {
    issue = { ...expired.issue, version: issue.version };
    activities.push(expired.activity);
  }

  if (existing && issue.status === "unresolved" && issue.substatus === "new") issue.substatus = "ongoing";
  return { issue, activities, regressed, levelRose, created: !existing, ...(knownReleases ? { releases: knownReleases } : {}) };
}

/** A resolved issue back to unresolved ("Regressed"), with its history line; `regression` when it was resolved in a release. */
export function regress(issue: Issue, actor: Actor, now: Date, regression?: ReleaseRegression): { issue: Issue; activity: ActivityRecord } {
  const reopened: Issue = {
    ...issue,
    status: "unresolved",
    substatus: "regressed",
    resolution: undefined,
    regression,
    statusChangedBy: "a new event",
    statusChangedAt: now.toISOString(),
  };
  return { issue: reopened, activity: activityFor(issue, reopened, "regressed", actor, now, regression && describeRegression(regression)) };
}

/**
 * A producer that keeps a count reports the issue's total (alert schema v1), taken when it is ahead, so a late
 * or repeated report changes nothing. Alertmanager, Grafana, Azure Monitor and Sentry's alerts keep none and
 * send 1 with every alert: for an issue already seen, each such firing alert is one more event, so "until N
 * more events" runs out for them too. Not so an alert about the issue's first event (its time no later than the
 * issue's first seen): that event is counted already, e.g. by the total of Sentry's `issue.created` when the
 * rule's `event_alert` for the same event follows; unless the source sent it again after a recovery (it fired
 * again). A recovery is not an event.
 */
function countAfter(existing: Issue | undefined, alert: Alert, refired: boolean): number {
  const reported = alert.issue.count;
  if (!existing) return reported;
  const firstEvent = Date.parse(alert.issue.lastSeen) <= Date.parse(existing.firstSeen);
  const oneMoreEvent = reported <= 1 && alert.status !== "resolved" && (refired || !firstEvent);
  return oneMoreEvent ? existing.count + 1 : Math.max(existing.count, reported);
}

function earlier(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}
