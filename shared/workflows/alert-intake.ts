import { parseAlert, targetKey, type AlertTarget } from "../domain/alert";
import type { AlertIntake } from "../domain/intake";
import type { KnownReleases } from "../domain/releases";
import { applyToolRegression, asToolRegression, foldAlert, isIssueActionMessage, type ToolRegressionMessage } from "../domain/recovery";
import { isReleaseMessage } from "../domain/release-notice";
import {
  DeliveryRepository,
  deliveryMessages,
  gaveUp,
  readDeliveryMessage,
  targetLabel,
  type DeliveryBatch,
  type DeliveryRow,
  type PlannedDelivery,
} from "../storage/deliveries";
import { anyCardPosted, LiveCards, liveCardDecision, type LiveCard } from "../storage/live-cards";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository, priorTake, rememberAlert, rememberFiringAgain, rememberRecovery } from "../storage/issues";
import { ProjectReleases } from "../storage/releases";
import { RefreshGate } from "../storage/refresh-gate";
import { permanentStorageRejection } from "../storage/table";
import { announcePending, changeIssue } from "./issue-events";
import { takeIssueAction } from "./issue-action-intake";
import { poisonFor, type AlertIntakeResult, type PoisonMessage } from "./intake-result";
import type { ReleaseIntakeResult } from "./release-notices";
import { subscribedTargets } from "../storage/subscriptions";
import { decidedWithoutPost, deliverBatch, refuseInvalidTargets, type DeliveryResult } from "./deliver";
import type { AppContext } from "../context";
import type { Issue } from "../domain/issue";

export type IntakeResult = AlertIntakeResult | ReleaseIntakeResult;

/** A new issue's alert with at most this many targets is posted by the alerts handler itself (no queue hop). */
export const FIRST_CARD_DIRECT_TARGETS = 3;
/** RENOTIFY_HOURS' default, for callers that plan without the app's configuration. */
const DEFAULT_RENOTIFY_HOURS = 24;

export interface IntakeOptions {
  /** Given, the first card of a new issue with few targets is posted here rather than through `deliveries`. */
  deliverer?: AppContext;
  /**
   * When the message was put on the `alerts` queue (its trigger's insertion time): a firing put there before the
   * issue was resolved is the queue delivering it again, not the source firing it again.
   */
  insertedAt?: Date;
}

/**
 * One alert off the `alerts` queue: fold it into its issue (once per alertId, except a firing alert its source
 * sends again after the issue was resolved, by a recovery or a person: it fired again), then plan the deliveries of
 * the targets that need a post. A tool's report that an issue regressed goes the same way (it may post new cards); the other issue
 * actions are taken like clicks. A message that fails the schema, or that storage refuses for what it holds,
 * goes to `alerts-poison` at once with the reason: retrying cannot fix it. Anything else that fails (storage
 * unavailable, contention) throws, for the host to retry.
 */
export async function takeAlert(storage: StorageClients, message: unknown, originalText: string, options: IntakeOptions = {}): Promise<IntakeResult> {
  if (isIssueActionMessage(message)) {
    const regression = asToolRegression(message);
    if (!regression) return takeIssueAction(storage, message, originalText);
    return takeFolding(storage, regressionFolding(regression), originalText, options);
  }
  // Loaded on the first release message, which most instances never take.
  if (isReleaseMessage(message)) return (await import("./release-notices")).takeRelease(storage, message, originalText, options.deliverer);
  const parsed = parseAlert(message);
  if (!parsed.ok) return poison(storage, poisonFor(parsed.error, parsed.issues, originalText));
  const alert = parsed.alert;
  return takeFolding(
    storage,
    {
      issueId: alert.issue.id,
      alertId: alert.alertId,
      recovery: alert.status === "resolved",
      targets: alert.targets,
      releases: () => new ProjectReleases(storage).forAlert(alert),
      fold: (current, firesAgain, releases) => foldAlert(current, alert, new Date(), releases, { firesAgain }),
    },
    originalText,
    options,
  );
}

/** What the alerts handler folds into an issue: an alert, or a tool's report that the issue regressed. */
interface Folding {
  issueId: string;
  /** The idempotency key: the issue remembers it, and its deliveries are planned under it. */
  alertId: string;
  /** A recovery only changes the cards that exist (the refresh); it posts no new ones. */
  recovery: boolean;
  targets?: AlertTarget[];
  /** The project's releases with the alert's recorded (they decide whether an issue resolved in a release regresses). */
  releases?(): Promise<KnownReleases>;
  /** The change to the issue as stored, or undefined; `firesAgain`: sent again after the issue was resolved. */
  fold(current: Issue | undefined, firesAgain: boolean, releases: KnownReleases | undefined): AlertIntake | undefined;
}

function regressionFolding(message: ToolRegressionMessage): Folding {
  return {
    issueId: message.issueId,
    alertId: `${message.issueId}:regressed:${message.action.at}`,
    recovery: false,
    targets: message.action.targets,
    fold: (current) => (current ? applyToolRegression(current, message.source, message.action.at, new Date()) : undefined),
  };
}

async function takeFolding(storage: StorageClients, folding: Folding, originalText: string, options: IntakeOptions): Promise<IntakeResult> {
  const progress = { stage: "issue" };
  try {
    return await applyAndPlan(storage, folding, progress, options);
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
async function applyAndPlan(storage: StorageClients, folding: Folding, progress: { stage: string }, options: IntakeOptions): Promise<IntakeResult> {
  let duplicate = false;
  let createdIssue = false;
  // The id it is taken under: its own, or, fired again after a recovery, one for that firing.
  let alertId = folding.alertId;
  const releases = await folding.releases?.();
  const written = await changeIssue(
    storage,
    folding.issueId,
    (current) => {
      const recent = current?.recentAlertIds ?? [];
      const taken = priorTake(recent, folding.alertId, options.insertedAt);
      alertId = taken.alertId;
      duplicate = taken.kind === "repeat";
      createdIssue = current === undefined;
      if (duplicate) return undefined;
      const intake = folding.fold(current?.issue, taken.kind === "fires-again", releases);
      if (!intake) return undefined;
      const notify = intake.regressed ? "regressed" : intake.levelRose ? "level-rose" : undefined;
      return {
        issue: intake.issue,
        activities: intake.activities,
        recentAlertIds:
          taken.kind === "fires-again"
            ? rememberFiringAgain(recent, folding.alertId, alertId)
            : folding.recovery
              ? // As of when the recovery was put on the queue: a firing queued after it, however late taken, fires again.
                rememberRecovery(recent, alertId, options.insertedAt ?? new Date())
              : rememberAlert(recent, alertId),
        alertId,
        notify,
      };
    },
    { announceLater: true },
  );
  let notify = written?.entry.notify;
  let stored = written?.stored;
  if (!written) {
    // Taken before (a redelivery): its change may have been stored and never announced, which is ours to do.
    const before = await new IssueRepository(storage).get(folding.issueId);
    // A regression reported for an issue never received here.
    if (!before) return { kind: "no-issue", issueId: folding.issueId };
    const entry = before.outbox.find((e) => e.alertId === alertId);
    notify = entry?.notify;
    stored = await announcePending(storage, folding.issueId, entry?.version);
  }
  const issue = stored!.issue;
  progress.stage = "targets";
  // A repeat alert's change is announced once its targets are planned: the live cards' read tells whether it needs
  // a card refresh. A new issue's goes at once (its events before its first cards; no refresh can be pending).
  const newIssue = Boolean(written) && createdIssue;
  if (written && createdIssue) await written.announce?.();
  let planned: { deliveries: number; posted: number };
  let cardsCovered = false;
  try {
    const targets = folding.recovery ? [] : (folding.targets ?? (await subscribedTargets(storage, issue)));
    let live = new Map<string, LiveCard>();
    // An issue this alert just created has no live card anywhere yet: nothing to read. The issue's live cards come
    // with its refresh gate in one query: whether this change needs a card refresh of its own.
    if (!newIssue && targets.length > 0) {
      const read = await new LiveCards(storage).listWithGate(issue.id);
      live = read.live;
      const coalesceMs = (options.deliverer?.config.cardRefreshCoalesceSeconds ?? 0) * 1000;
      cardsCovered = new RefreshGate(storage, coalesceMs).pendingRunCovers(read.gate) || !anyCardPosted(read.live);
    }
    planned = await planDeliveries(storage, { issueId: folding.issueId, alertId }, targets, notify, issue.status, live, {
      createdIssue: newIssue,
      takenBefore: duplicate,
      deliverer: options.deliverer,
    });
  } catch (error) {
    // The planning error is the one to report (a storage rejection poisons the alert). The change stays in the
    // issue's outbox if this announcement fails too, and the alert's retry announces it.
    await written?.announce?.().catch(() => undefined);
    throw error;
  }
  await written?.announce?.({ cardsCovered });
  return { kind: "accepted", issue, duplicate, ...planned };
}

/**
 * Plans the alert's deliveries, exactly once per alert × target even when the alert is redelivered. From the
 * issue's live cards (`live`, read once by the caller) `liveCardDecision` picks the targets that need a post (no live card, the issue
 * regressed or got worse, the card is older than RENOTIFY_HOURS, or a stale claim; never while the issue, with the
 * alert applied, is ignored or resolved); the others are recorded as decided (the coalesced card-refresh the change
 * queued brings their live copy up to date). Every row is written in one transaction; the targets to post go out
 * in one `deliveries` message and are marked enqueued in one more.
 * The first card of a new issue with few targets is posted here at once, through the same rows and claims.
 *
 * An alert taken before (`takenBefore`: its source sent it again, or the queue redelivered it) has its rows read
 * first. A target whose delivery is done (sent, or dead) is left alone and not claimed: a claim with no delivery
 * behind it would fold the issue's next alerts into a card that never comes (merged) until it went stale. A
 * delivery that gave up (it kept failing, its platform never said the target is gone) is planned afresh.
 */
async function planDeliveries(
  storage: StorageClients,
  alert: Pick<Folding, "issueId" | "alertId">,
  targets: AlertTarget[],
  notify: DeliveryBatch["notify"],
  status: Issue["status"],
  live: Map<string, LiveCard>,
  options: { createdIssue: boolean; takenBefore: boolean; deliverer?: AppContext },
): Promise<{ deliveries: number; posted: number }> {
  const unique = new Map(targets.map((target) => [targetKey(target), target]));
  if (unique.size === 0) return { deliveries: 0, posted: 0 };
  const issueId = alert.issueId;
  const renotifyAfterMs = (options.deliverer?.config.renotifyHours ?? DEFAULT_RENOTIFY_HOURS) * 3_600_000;
  const now = Date.now();
  const policy = { notify, renotifyAfterMs, status, now };
  const repository = new DeliveryRepository(storage);
  const earlier = new Map<string, DeliveryRow>(
    options.takenBefore ? (await repository.listForAlert(alert.alertId)).map((row) => [row.targetKey, row]) : [],
  );
  const done = (key: string) => {
    const row = earlier.get(key);
    return row !== undefined && (row.state === "sent" || (row.state === "dead" && !gaveUp(row)));
  };
  const claims = new Map([...unique.keys()].filter((key) => !done(key)).map((key) => [key, liveCardDecision(live.get(key), alert.alertId, policy)]));
  const firstCards = [...claims].filter(([, claim]) => claim.kind === "post" && claim.because === "first").map(([key]) => key);
  const postsItself = options.deliverer && options.createdIssue && firstCards.length <= FIRST_CARD_DIRECT_TARGETS;
  // Where no card is live yet, the card is claimed for this alert here, not by its deliverer: in an alert storm the
  // issue's next alerts arrive long before the deliverer gets to this one's message, and they must find the claim
  // and leave the card to this alert (merged), not plan posts of their own that the deliverer would only find
  // taken. (The alerts handler posting a new issue's first cards itself claims them as it posts.)
  const claimedHere = firstCards.length > 0 && !postsItself;
  if (claimedHere) {
    for (const [key, claim] of await new LiveCards(storage).claimMany(issueId, firstCards, alert.alertId, policy, live)) claims.set(key, claim);
  }
  const plan: PlannedDelivery[] = [...unique].map(([key, target]) => {
    const claim = claims.get(key);
    return !claim || claim.kind === "post" ? { targetKey: key, target } : { targetKey: key, target, decided: decidedWithoutPost(claim) };
  });
  // A delivery that gave up goes again where this alert is to post; where the target has the issue's card (or
  // another alert's claim), it stays as it ended.
  const afresh = new Set([...claims].filter(([key, claim]) => claim.kind === "post" && earlier.has(key)).map(([key]) => key));
  const { rows, created } = await repository.planMany(alert.alertId, issueId, plan, { known: earlier, afresh });
  // Rows not yet handed to a deliverer: new ones, and after a crash ones planned or posted here and never queued.
  const unsent = rows.filter((row) => !row.enqueued && (row.state === "pending" || row.state === "sending"));
  if (unsent.length === 0) return { deliveries: 0, posted: 0 };
  const batch = { ...batchOf(alert.alertId, issueId, unsent, notify), ...(claimedHere ? { claimed: true } : {}) };
  const direct =
    options.deliverer && options.createdIssue && unsent.length <= FIRST_CARD_DIRECT_TARGETS && unsent.every((row) => created.has(row.targetKey));
  if (direct) {
    // Targets that must wait (throttled, failed) go to the deliveries queue from there; a crash leaves the rows
    // unqueued, and the redelivered alert queues them (the deliverer's take and claim keep it to one card).
    const results = [...(await postFirstCards(options.deliverer!, batch)).values()];
    return {
      deliveries: results.filter((result) => result === "retry").length,
      posted: results.filter((result) => result === "sent").length,
    };
  }
  for (const message of deliveryMessages(batch)) await storage.send(QUEUES.deliveries, message);
  await repository.markEnqueued(
    alert.alertId,
    unsent.map((row) => row.targetKey),
  );
  return { deliveries: unsent.length, posted: 0 };
}

async function postFirstCards(deliverer: AppContext, batch: DeliveryBatch): Promise<Map<string, DeliveryResult>> {
  const read = readDeliveryMessage(batch);
  if (!read.ok) throw new Error(`delivery batch malformed at ${read.path}`);
  await refuseInvalidTargets(deliverer.storage, batch.alertId, read.invalid);
  for (const { targetKey, reason } of read.invalid) deliverer.log(`Delivery ${targetLabel(targetKey)} of ${batch.alertId}: dead, ${reason}`);
  const results = read.batch.targets.length > 0 ? await deliverBatch(deliverer, read.batch) : new Map<string, DeliveryResult>();
  for (const [targetKey, result] of results) {
    // A dead one was logged by the deliverer, with its reason: once is enough.
    if (result !== "dead") deliverer.log(`Delivery ${targetLabel(targetKey)} of ${batch.alertId}: ${result} (posted by the alerts handler)`);
  }
  return results;
}

function batchOf(alertId: string, issueId: string, rows: DeliveryRow[], notify: DeliveryBatch["notify"]): DeliveryBatch {
  return { alertId, issueId, targets: rows.map((row) => ({ targetKey: row.targetKey, target: row.target })), ...(notify ? { notify } : {}) };
}
