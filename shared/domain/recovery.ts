import { z } from "zod";
import { claimedKind, queueMessageValue } from "./queue-message";
import { ALERT_SOURCES, applyAction, recoveryActor, type AlertSource, type IssueAction } from "./actions";
import { ALERT_LIMITS, alertTargetSchema, type Alert } from "./alert";
import { ids } from "./ids";
import { applyAlert, regress, type AlertIntake, type FoldOptions } from "./intake";
import type { Issue } from "./issue";
import type { KnownReleases } from "./releases";

export { ALERT_SOURCES, recoveryActor, type AlertSource };

/**
 * Folds an alert into its issue: a firing alert as always (`applyAlert`), a resolved one by `applyRecovery`.
 * `releases`, the project's releases in the order it first reported them, decide whether an issue resolved in
 * a release regresses. Returns undefined when the alert changes nothing.
 */
export function foldAlert(
  existing: Issue | undefined,
  alert: Alert,
  now: Date,
  releases?: KnownReleases,
  options: FoldOptions = {},
): AlertIntake | undefined {
  return alert.status === "resolved" ? applyRecovery(existing, alert, now, releases) : applyAlert(existing, alert, now, releases, options);
}

/**
 * A resolved alert resolves an unresolved issue (surface `alert`, actor = the source). An ignored issue stays
 * ignored (the tools send a recovery after every incident; an ignore ended by each would be no ignore), but its
 * ignore remembers the recovery (`IgnoreCondition.recoveredAt`, until the issue fires again): running out, it
 * then resolves the issue rather than unresolving it (`expireIgnore`). An already resolved issue is left as it is.
 * A recovery for an issue never seen (it arrived before its firing alert) records the issue already resolved, so
 * the late firing alert does not reopen it.
 */
export function applyRecovery(existing: Issue | undefined, alert: Alert, now: Date, releases?: KnownReleases): AlertIntake | undefined {
  if (existing?.status === "resolved") return undefined;
  // A late recovery of an earlier firing must not resolve the issue that has fired again since.
  if (existing && Date.parse(alert.issue.lastSeen) < Date.parse(existing.lastSeen)) return undefined;
  // A recovery is not a new severity: the issue keeps its level.
  const reported = existing ? { ...alert, issue: { ...alert.issue, level: existing.level } } : alert;
  const folded: AlertIntake = { ...applyAlert(existing, reported, now, releases), levelRose: false };
  switch (folded.issue.status) {
    case "ignored":
      return recoveredWhileIgnored(folded, alert.issue.lastSeen);
    case "resolved":
      // The ignore ran out with this alert, on a recovery it remembered: the source has resolved the issue already.
      return folded;
    case "unresolved": {
      const outcome = applyAction(folded.issue, { type: "resolve" }, recoveryActor(alert.issue.id), now);
      if (outcome.kind !== "changed") return undefined;
      return { ...folded, issue: { ...outcome.issue, version: folded.issue.version }, activities: [...folded.activities, ...outcome.activities] };
    }
  }
}

/** The ignored issue with the recovery reported `at` remembered by its ignore; undefined when it knows of it already. */
function recoveredWhileIgnored(folded: AlertIntake, at: string): AlertIntake | undefined {
  const ignore = folded.issue.ignore!;
  if (ignore.recoveredAt && Date.parse(ignore.recoveredAt) >= Date.parse(at)) return undefined;
  return { ...folded, issue: { ...folded.issue, ignore: { ...ignore, recoveredAt: at } } };
}

/**
 * The tool reports that a resolved issue came back (Sentry's `issue.unresolved` with substatus `regressed`): it is
 * regressed (actor = the tool), whatever this app knows of releases, for the tool decided it by the event's release.
 * An issue not resolved here (unresolved already, e.g. by the event's own alert, or ignored) is left as it is, so
 * the regression is announced once. `at`: when the issue came back.
 */
export function applyToolRegression(existing: Issue, source: AlertSource, at: string, now: Date): AlertIntake | undefined {
  if (existing.status !== "resolved") return undefined;
  const reopened = regress(
    { ...existing, lastSeen: later(existing.lastSeen, at), version: existing.version + 1 },
    { label: source, surface: "alert" },
    now,
  );
  return { issue: reopened.issue, activities: [reopened.activity], regressed: true, levelRose: false, created: false };
}

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

const ignoreRequest = z.discriminatedUnion("mode", [
  z.strictObject({ mode: z.literal("forever") }),
  z.strictObject({ mode: z.literal("minutes"), minutes: z.number().int().positive() }),
  z.strictObject({ mode: z.literal("events"), count: z.number().int().positive() }),
  z.strictObject({ mode: z.literal("users"), count: z.number().int().positive() }),
]);

/**
 * The second message kind on the `alerts` queue: a change made in the monitoring tool itself (Sentry's
 * `issue` webhooks), mirrored onto the issue with the same actions people use on the cards.
 */
export const issueActionMessageSchema = z.strictObject({
  schemaVersion: z.literal(1),
  kind: z.literal("issue-action"),
  issueId: ids.issueId,
  source: z.enum(ALERT_SOURCES),
  action: z.discriminatedUnion("type", [
    // Without `inRelease`: resolved immediately. In a release: refused when the issue's alerts name no release.
    z.strictObject({ type: z.literal("resolve"), inRelease: z.enum(["current", "next"]).optional() }),
    z.strictObject({ type: z.enum(["unresolve", "unignore", "unassign"]) }),
    z.strictObject({ type: z.literal("ignore"), ignore: ignoreRequest }),
    z.strictObject({ type: z.literal("assign"), assignee: z.strictObject({ email: z.email().max(ALERT_LIMITS.email) }) }),
    // The tool says the resolved issue came back (`applyToolRegression`); `targets` as an alert's, for its new cards.
    z.strictObject({
      type: z.literal("regress"),
      at: z.iso.datetime({ offset: true }),
      targets: z.array(alertTargetSchema).max(ALERT_LIMITS.targets).optional(),
    }),
  ]),
});
export type IssueActionMessage = z.infer<typeof issueActionMessageSchema>;
export type ToolRegressionMessage = IssueActionMessage & { action: { type: "regress" } };

/** Whether a queue message claims to be an issue action (it is then validated as one, never as an alert). */
export function isIssueActionMessage(message: unknown): boolean {
  return claimedKind(message) === "issue-action";
}

/** The queue message as a tool's regression report, when it is a valid one. */
export function asToolRegression(message: unknown): ToolRegressionMessage | undefined {
  const read = queueMessageValue(message);
  const parsed = read.ok ? issueActionMessageSchema.safeParse(read.value) : undefined;
  return parsed?.success && parsed.data.action.type === "regress" ? (parsed.data as ToolRegressionMessage) : undefined;
}

/** The action people could take the same way (a regression is not one: `asToolRegression` takes it first). */
export function toIssueAction(message: IssueActionMessage): IssueAction {
  return message.action as IssueAction;
}
