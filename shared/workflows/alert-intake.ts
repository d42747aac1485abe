import { parseAlert, targetKey, type Alert, type AlertTarget, type SchemaProblem } from "../domain/alert";
import { foldAlert, isIssueActionMessage } from "../domain/recovery";
import type { Issue } from "../domain/issue";
import { DeliveryRepository, type DeliveryMessage } from "../delivery/deliveries";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository, rememberAlert } from "../storage/issues";
import { permanentStorageRejection } from "../storage/errors";
import { announcePending, changeIssue } from "./issue-events";
import { takeIssueAction } from "./issue-action-intake";
import { subscribedTargets } from "./subscriptions";

/** What an operator reads on `alerts-poison` (ARCHITECTURE.md, the poison format). */
export interface PoisonMessage {
  error: string;
  issues: SchemaProblem[];
  original: string;
  /** Set when `original` was cut to fit a queue message. */
  truncated?: true;
}

export type IntakeResult =
  | { kind: "poisoned"; poison: PoisonMessage }
  | { kind: "accepted"; issue: Issue; duplicate: boolean; deliveries: number }
  /** An issue action (a change mirrored from the monitoring tool) for an issue this relay never received. */
  | { kind: "no-issue"; issueId: string };

/**
 * One alert off the `alerts` queue: fold it into its issue (once per alertId), then plan one delivery
 * per target. A message that fails the schema, or that storage refuses for what it holds, goes to
 * `alerts-poison` at once with the reason: retrying cannot fix it. Anything else that fails (storage
 * unavailable, contention) throws, for the host to retry.
 */
export async function takeAlert(storage: StorageClients, message: unknown, originalText: string): Promise<IntakeResult> {
  if (isIssueActionMessage(message)) return takeIssueAction(storage, message, originalText);
  const parsed = parseAlert(message);
  if (!parsed.ok) return poison(storage, poisonFor(parsed.error, parsed.issues, originalText));
  const progress = { stage: "issue" };
  try {
    return await applyAndPlan(storage, parsed.alert, progress);
  } catch (error) {
    // Storage that refuses what the alert holds will refuse it on every retry: say why, at once.
    const rejection = permanentStorageRejection(error);
    if (!rejection) throw error;
    return poison(storage, poisonFor(STORAGE_REFUSED, [{ path: progress.stage, message: rejection }], originalText));
  }
}

const STORAGE_REFUSED = "The alert matches schema v1 but could not be stored.";

async function poison(storage: StorageClients, poison: PoisonMessage): Promise<IntakeResult> {
  await storage.send(`${QUEUES.alerts}-poison`, poison);
  return { kind: "poisoned", poison };
}

/** `progress.stage` names the part of the alert being stored, for the poison message's `path`. */
async function applyAndPlan(storage: StorageClients, alert: Alert, progress: { stage: string }): Promise<IntakeResult> {
  let duplicate = false;
  const written = await changeIssue(storage, alert.issue.id, (current) => {
    duplicate = current?.recentAlertIds.includes(alert.alertId) ?? false;
    if (duplicate) return undefined;
    const intake = foldAlert(current?.issue, alert, new Date());
    if (!intake) return undefined;
    const notify = intake.regressed ? "regressed" : intake.levelRose ? "level-rose" : undefined;
    return {
      issue: intake.issue,
      activities: intake.activities,
      recentAlertIds: rememberAlert(current?.recentAlertIds ?? [], alert.alertId),
      alertId: alert.alertId,
      notify,
    };
  });
  let notify = written?.entry.notify;
  let stored = written?.stored;
  if (!written) {
    // Taken before (a redelivery): its change may have been stored and never announced, which is ours to do.
    const before = await new IssueRepository(storage).get(alert.issue.id);
    const entry = before?.outbox.find((e) => e.alertId === alert.alertId);
    notify = entry?.notify;
    stored = await announcePending(storage, alert.issue.id, entry?.version);
  }
  const issue = stored!.issue;
  progress.stage = "targets";
  // A recovery only changes the cards that exist (the refresh); it posts no new ones.
  const targets = alert.status === "resolved" ? [] : alert.targets ?? (await subscribedTargets(storage, issue));
  const deliveries = await planDeliveries(storage, alert, targets, notify);
  return { kind: "accepted", issue, duplicate, deliveries };
}

/** A queue message holds 64 KiB of base64 text, so about 48 KiB of JSON: keep the poison message well inside. */
const MAX_POISON_BYTES = 40_000;
const MAX_ISSUES = 20;

export function poisonFor(error: string, issues: SchemaProblem[], original: string): PoisonMessage {
  const poison: PoisonMessage = {
    error,
    issues: issues.slice(0, MAX_ISSUES).map((issue) => ({ path: issue.path.slice(0, 200), message: issue.message.slice(0, 300) })),
    original,
  };
  while (Buffer.byteLength(JSON.stringify(poison)) > MAX_POISON_BYTES) {
    poison.original = poison.original.slice(0, Math.floor(poison.original.length * 0.8));
    poison.truncated = true;
  }
  return poison;
}

/** One queue message per target, exactly once per alert × target even when the alert is redelivered. */
async function planDeliveries(storage: StorageClients, alert: Alert, targets: AlertTarget[], notify: DeliveryMessage["notify"]): Promise<number> {
  const repository = new DeliveryRepository(storage);
  const unique = new Map(targets.map((target) => [targetKey(target), target]));
  let enqueued = 0;
  for (const [key, target] of unique) {
    const row = await repository.plan(alert.alertId, alert.issue.id, key, target);
    if (row.enqueued) continue;
    const message: DeliveryMessage = { alertId: alert.alertId, issueId: alert.issue.id, targetKey: key, target, ...(notify ? { notify } : {}) };
    await storage.send(QUEUES.deliveries, message);
    await repository.update(alert.alertId, key, { enqueued: true });
    enqueued++;
  }
  return enqueued;
}
