import type { TransactionAction } from "@azure/data-tables";
import { refreshIfOutdated } from "../storage/card-refresh-queue";
import type { WebClient } from "@slack/web-api";
import {
  deliveryId,
  DeliveryRepository,
  deliveryMessages,
  GAVE_UP,
  SENDING_STALE_MS,
  targetLabel,
  type DeliveryBatch,
  type DeliveryChanges,
  type DeliveryMessage,
  type DeliveryRow,
} from "../storage/deliveries";
import { LiveCards, livePostedAction, liveReleaseAction, type Claim, type PostReason } from "../storage/live-cards";
import { submitInChunks, isNotFound, statusOf, storageErrorCode } from "../storage/table";
import { IdentityRepository } from "../storage/identities";
import {
  countsAsAttempt,
  GIVE_UP_AFTER_FAILING_MS,
  MAX_DELIVERY_ATTEMPTS,
  nextTry,
  retryDelay,
  SLOW_RETRY_SCHEDULE,
  throttlesAfter,
} from "../delivery/retry-policy";
import { SETTLE_MS } from "../delivery/pacing";
import { UnprovenPosts, type PostedThing } from "../delivery/unproven-post";
import { sendSlackCard, type SlackSendOutcome } from "../delivery/slack-sender";
import { sendTeamsCard, type SendOutcome } from "../delivery/teams-sender";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { cardSaveAction, type CardCopy } from "../storage/cards";
import { QUEUES, TABLES, type StorageClients } from "../storage/clients";
import { TeamsInstallations } from "../storage/teams-installations";
import { IssueRepository, type StoredIssue } from "../storage/issues";
import type { SlackTokens } from "../slack/client";
import { withSlack, type AppContext } from "../context";

export type DeliveryResult = "sent" | "skipped" | "retry" | "dead";

/** One message of the first shape (one target): its target's result. */
export async function deliver(deliverer: AppContext, message: DeliveryMessage): Promise<DeliveryResult> {
  const { targetKey, target, ...rest } = message;
  const results = await deliverBatch(deliverer, { ...rest, targets: [{ targetKey, target }] });
  return results.get(targetKey)!;
}

/** Posts in flight at once within one batch; each still waits for its conversation's and tenant's pacing. */
const POSTS_IN_FLIGHT = 8;

interface Taken {
  row: DeliveryRow;
  attempt: number;
  unconfirmed: number;
  /** The 429s in a row the platform answered this target's post with (its retries carry them). */
  throttles: number;
}

interface Requeue {
  targetKey: string;
  target: AlertTarget;
  delaySeconds: number;
  slotAt?: number;
  throttles?: number;
}

/**
 * One `deliveries` message: post the alert's issue's card to each of its targets, exactly once per alert ×
 * target. The storage work is per alert, not per target: the targets' rows are taken in one transaction
 * (each on its ETag), their live cards claimed in one transaction in the issue's `cards` partition, the copies
 * and live cards recorded in one more, the rows' outcomes in one. Targets that must wait (throttled, failed, or
 * being posted by another consumer) go back on the queue together, in one message per delay.
 */
export async function deliverBatch(deliverer: AppContext, batch: DeliveryBatch): Promise<Map<string, DeliveryResult>> {
  const { storage } = deliverer;
  const deliveries = new DeliveryRepository(storage);
  const results = new Map<string, DeliveryResult>();
  const requeue: Requeue[] = [];
  const took = await takeRows(deliveries, batch);
  if (!took) {
    // The rows kept changing under us: let the whole message come back shortly rather than drop it.
    await sendBatches(
      storage,
      batch,
      batch.targets.map(({ targetKey, target, throttles }) => ({ targetKey, target, delaySeconds: 2, throttles })),
    );
    for (const { targetKey } of batch.targets) results.set(targetKey, "retry");
    return results;
  }
  const { taken, waiting, skipped } = took;
  for (const key of skipped) results.set(key, "skipped");
  for (const wait of waiting) {
    results.set(wait.targetKey, "retry");
    requeue.push(wait);
  }
  if (taken.length > 0) await postTaken(deliverer, batch, taken, results, requeue);
  await sendBatches(storage, batch, requeue);
  return results;
}

/** Takes every row of the batch that is this consumer's to post, in one conditional transaction. */
async function takeRows(
  deliveries: DeliveryRepository,
  batch: DeliveryBatch,
): Promise<{ taken: Taken[]; waiting: Requeue[]; skipped: string[] } | undefined> {
  for (let tries = 0; tries < 5; tries++) {
    const rows = new Map((await deliveries.listForAlert(batch.alertId)).map((row) => [row.targetKey, row]));
    const taken: Taken[] = [];
    const waiting: Requeue[] = [];
    const skipped: string[] = [];
    const now = Date.now();
    for (const { targetKey, target, throttles = 0 } of batch.targets) {
      const row = rows.get(targetKey);
      if (!row || row.state === "sent" || row.state === "dead") {
        skipped.push(targetKey);
        continue;
      }
      let unconfirmed = row.unconfirmed;
      if (row.state === "sending") {
        const busyFor = now - Date.parse(row.sendingSince ?? "");
        if (busyFor < SENDING_STALE_MS) {
          // Another copy of this message is posting it; look again once that must have finished (or died).
          waiting.push({ targetKey, target, delaySeconds: Math.ceil((SENDING_STALE_MS - busyFor) / 1000) + 1, throttles });
          continue;
        }
        // Its consumer died mid-post: the platform may have the card.
        unconfirmed++;
      }
      taken.push({ row, attempt: row.attempts + 1, unconfirmed, throttles });
    }
    // The rows can also change under us for other reasons (the planner marking them enqueued): look again.
    if (await deliveries.takeMany(taken)) return { taken, waiting, skipped };
  }
  return undefined;
}

type Outcome = SendOutcome | SlackSendOutcome;

interface Posted {
  taken: Taken;
  because: PostReason;
  outcome: Outcome;
  /** Posts made without proof an unconfirmed one hadn't landed, this attempt's included. */
  unproven: UnprovenPosts;
}

const CARD: PostedThing = { name: "card", short: "card" };

async function postTaken(
  deliverer: AppContext,
  batch: DeliveryBatch,
  taken: Taken[],
  results: Map<string, DeliveryResult>,
  requeue: Requeue[],
): Promise<void> {
  const { storage } = deliverer;
  const deliveries = new DeliveryRepository(storage);
  const rowChanges = new Map<string, DeliveryChanges>();
  const stored = await new IssueRepository(storage).get(batch.issueId);
  if (!stored) {
    for (const { row, attempt } of taken) {
      rowChanges.set(row.targetKey, { state: "dead", attempts: attempt, reason: "issue not found" });
      results.set(row.targetKey, "dead");
      deliverer.log(`Delivery ${targetLabel(row.targetKey)} of ${batch.alertId} is dead: issue not found`);
    }
    await deliveries.updateMany(batch.alertId, rowChanges);
    return;
  }
  const claims = await new LiveCards(storage).claimMany(
    batch.issueId,
    taken.map((t) => t.row.targetKey),
    batch.alertId,
    { notify: batch.notify, renotifyAfterMs: deliverer.config.renotifyHours * 3_600_000, status: stored.issue.status },
    batch.claimed ? "read" : undefined,
  );
  const toPost: { taken: Taken; because: PostReason }[] = [];
  for (const t of taken) {
    const claim = claims.get(t.row.targetKey)!;
    if (claim.kind === "post") {
      toPost.push({ taken: t, because: claim.because });
      continue;
    }
    // The card-refresh the alert's change queued brings the live card up to date (events, users, last seen).
    rowChanges.set(t.row.targetKey, { state: "sent", attempts: t.attempt, ...decidedWithoutPost(claim) });
    results.set(t.row.targetKey, "sent");
  }

  const sender = senderFor(deliverer);
  const teamsChannels = toPost.flatMap(({ taken: t }) =>
    t.row.target.provider === "msteams" && "conversationId" in t.row.target ? [t.row.target.conversationId] : [],
  );
  if (teamsChannels.length > 0) await new TeamsInstallations(storage).prefetchConversations(teamsChannels);
  const settlesInMs = settlesIn(stored);
  const posted = await inPool(toPost, POSTS_IN_FLIGHT, (post) => {
    const unproven = new UnprovenPosts(deliveries, batch.alertId, post.taken.row, CARD);
    return postOne(sender, stored.issue, batch, post.taken, post.because, settlesInMs, unproven).catch(
      // What throws here failed before its post (a storage read, the row's count of re-posts): that target is
      // retried, and the batch's other posts are still recorded (thrown, they would be posted again).
      (error: unknown): Posted => ({
        taken: post.taken,
        because: post.because,
        unproven,
        outcome: { kind: "retry", delaySeconds: retryDelay(post.taken.attempt, undefined), reason: `failed before posting: ${failureName(error)}` },
      }),
    );
  });

  const cardActions: TransactionAction[] = [];
  const copies: CardCopy[] = [];
  const now = deliverer.now();
  for (const { taken: t, because, outcome, unproven } of posted) {
    const key = t.row.targetKey;
    const label = `Delivery ${targetLabel(key)} of ${batch.alertId}`;
    if (outcome.kind === "sent") {
      const ref = messageRef(outcome.copy);
      copies.push(outcome.copy);
      cardActions.push(cardSaveAction(outcome.copy), livePostedAction(batch.issueId, key, batch.alertId, ref));
      const decision = unproven.sentDecision(POST_DECISIONS[because], { adopted: "adopted" in outcome && outcome.adopted });
      rowChanges.set(key, { state: "sent", attempts: t.attempt, messageRef: ref, decision });
      results.set(key, "sent");
      continue;
    }
    // Waiting is not failing: past the quick attempts a first post is tried on the slow schedule card updates use,
    // durably (the queue's visibility delay), and only a day of failing ends it without its platform saying "gone".
    const failedForReal = outcome.kind === "retry" && countsAsAttempt(outcome);
    const failingSince = failedForReal ? (t.row.failingSince ?? now.toISOString()) : t.row.failingSince;
    const next = outcome.kind === "retry" ? nextTry(outcome, t.attempt, failingSince, now.getTime()) : undefined;
    if (outcome.kind === "retry" && next?.kind === "retry") {
      // Back to pending before the retry is queued: a retry that finds the row "sending" would wait for nothing.
      // Throttled, it only waited: the attempt it took is given back.
      rowChanges.set(key, {
        state: "pending",
        attempts: failedForReal ? t.attempt : t.attempt - 1,
        reason: outcome.reason,
        ...(outcome.ambiguous ? { unconfirmed: t.unconfirmed + 1 } : {}),
        ...(failingSince ? { failingSince } : {}),
      });
      requeue.push({
        targetKey: key,
        target: t.row.target,
        delaySeconds: next.delaySeconds,
        slotAt: outcome.slotAt,
        throttles: throttlesAfter(outcome, t.throttles),
      });
      results.set(key, "retry");
      deliverer.log(
        `${label}: retry in ${next.delaySeconds}s (${outcome.reason}${outcome.ambiguous ? "; no answer: it may have been posted" : ""})` +
          (next.slow ? `; past its ${MAX_DELIVERY_ATTEMPTS} attempts, not dead: tried again ${SLOW_RETRY_SCHEDULE}` : ""),
      );
      continue;
    }
    const reason =
      outcome.kind === "withheld"
        ? unproven.withheldReason(outcome.reason)
        : outcome.kind === "retry"
          ? `${GAVE_UP} ${t.attempt} attempts over ${GIVE_UP_AFTER_FAILING_MS / 3_600_000} hours: ${outcome.reason}`
          : outcome.reason;
    cardActions.push(liveReleaseAction(batch.issueId, key));
    rowChanges.set(key, { state: "dead", attempts: t.attempt, reason });
    results.set(key, "dead");
    const afresh =
      outcome.kind === "retry" ? " (its platform never said the target is gone: the alert sent again, or the issue's next one, tries it afresh)" : "";
    deliverer.log(`${label} is dead: ${reason}${afresh}`);
  }
  await recordCards(storage, cardActions);
  await refreshIfOutdated(storage, batch.issueId, copies);
  await deliveries.updateMany(batch.alertId, rowChanges);
}

/** An error named for a log line: its kind, and a storage status and code when it has them (never its message). */
function failureName(error: unknown): string {
  const status = statusOf(error);
  const code = storageErrorCode(error);
  return [(error as Error | undefined)?.name ?? "error", status, code].filter(Boolean).join(" ");
}

/** Posts the card to one taken target, under the "exactly once" rule (README). */
async function postOne(
  sender: AppContext,
  issue: Issue,
  batch: DeliveryBatch,
  taken: Taken,
  because: PostReason,
  settlesInMs: number,
  unproven: UnprovenPosts,
): Promise<Posted> {
  const { row, attempt, unconfirmed, throttles } = taken;
  const target = row.target;
  let outcome: Outcome;
  const slack = withSlack(sender);
  if (target.provider === "msteams") {
    // Teams can't be asked what the bot posted: the one retry of an unknown outcome is a re-post.
    outcome =
      unconfirmed > 0 && !(await unproven.beforePost())
        ? { kind: "withheld", reason: "an earlier post's outcome is unknown and Teams can't be asked" }
        : await sendTeamsCard(sender, issue, target, row.targetKey, attempt, throttles);
  } else if (target.provider === "discord") {
    // Discord can't be asked what the bot posted either: as on Teams, the one retry of an unknown outcome is a re-post.
    outcome =
      unconfirmed > 0 && !(await unproven.beforePost())
        ? { kind: "withheld", reason: "an earlier post's outcome is unknown and Discord can't be asked" }
        : await (await import("../delivery/discord-sender")).sendDiscordCard(sender, issue, target, row.targetKey, attempt);
  } else if (slack) {
    outcome = await sendSlackCard(slack, issue, target, row.targetKey, attempt, {
      deliveryId: deliveryId(batch.alertId, row.targetKey),
      lookFirst: unconfirmed > 0,
      ...(row.failingSince ? { failingSince: row.failingSince } : {}),
      beforeUnprovenPost: unproven.beforePost,
      // A regression's or a worse level's new card is the notification itself: it goes now, and its update later.
      settlesInMs: because === "regressed" || because === "level-rose" ? 0 : settlesInMs,
      slotAt: batch.targets.find((t) => t.targetKey === row.targetKey)?.slotAt,
    });
  } else {
    outcome = { kind: "dead", reason: "Slack is not configured on this app (SLACK_SIGNING_SECRET)" };
  }
  return { taken, because, outcome, unproven };
}

/**
 * Milliseconds until the issue counts as settled (0: it has): a card posted before then may soon need an update.
 * A new issue is no exception: a storm's issues are all new at first, and each of their early cards would cost
 * a chat.update later (the sender still posts at once while the workspace has update budget to follow).
 */
export function settlesIn(stored: Pick<StoredIssue, "issue" | "writtenAt">, now = Date.now()): number {
  if (!stored.writtenAt) return 0;
  return Math.max(0, Date.parse(stored.writtenAt) + SETTLE_MS - now);
}

/**
 * What one batch's posts share: the identity reads (remembered per instance), and one Slack token look-up per
 * workspace for the batch rather than one per post (a rotated token is still renewed by the client on `token_expired`).
 */
function senderFor(deliverer: AppContext): AppContext {
  const identities = new IdentityRepository(deliverer.storage);
  const tokens = deliverer.slack;
  if (!tokens) return { ...deliverer, identities };
  const clients = new Map<string, Promise<WebClient>>();
  const slackTokens = Object.create(tokens) as SlackTokens;
  slackTokens.client = (teamId, options) => {
    let client = clients.get(teamId);
    if (!client) {
      client = tokens.client(teamId, options);
      clients.set(teamId, client);
    }
    return client;
  };
  return { ...deliverer, identities, slack: slackTokens };
}

/** The copies' rows and the live cards they make, in the issue's `cards` partition: one transaction. */
async function recordCards(storage: StorageClients, actions: TransactionAction[]): Promise<void> {
  if (actions.length === 0) return;
  const table = await storage.table(TABLES.cards);
  try {
    await submitInChunks(table, actions);
  } catch (error) {
    // A live card released meanwhile (a delete finds nothing) fails the whole transaction: write them one by one.
    if (!isNotFound(error)) throw error;
    for (const action of actions) {
      if (action[0] === "delete") {
        await table.deleteEntity(action[1].partitionKey, action[1].rowKey).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      } else {
        await table.upsertEntity(action[1], action[0] === "upsert" ? (action[2] ?? "Merge") : "Merge");
      }
    }
  }
}

/** Puts the targets back on the queue: one message per delay (close delays share the longer one). */
async function sendBatches(storage: StorageClients, batch: DeliveryBatch, requeue: Requeue[]): Promise<void> {
  for (const group of groupByDelay(requeue)) {
    const retries: DeliveryBatch = {
      alertId: batch.alertId,
      issueId: batch.issueId,
      targets: group.targets.map(({ targetKey, target, slotAt, throttles }) => ({
        targetKey,
        target,
        ...(slotAt ? { slotAt } : {}),
        ...(throttles ? { throttles } : {}),
      })),
      ...(batch.notify ? { notify: batch.notify } : {}),
    };
    for (const message of deliveryMessages(retries)) await storage.send(QUEUES.deliveries, message, { delaySeconds: group.delaySeconds });
  }
}

/**
 * Groups retries whose delays are within 25 % (or 2 s) of the group's shortest; the group waits for its longest.
 * A retry promised a slot (`slotAt`) only joins retries due within a second of it: coming back later than its
 * slot, it would lose it.
 */
export function groupByDelay(requeue: Requeue[]): { delaySeconds: number; targets: Requeue[] }[] {
  const groups: { delaySeconds: number; targets: Requeue[] }[] = [];
  for (const item of [...requeue].sort((a, b) => a.delaySeconds - b.delaySeconds)) {
    const group = groups[groups.length - 1];
    const shortest = group?.targets[0]!.delaySeconds ?? 0;
    const slotted = item.slotAt !== undefined || group?.targets.some((t) => t.slotAt !== undefined);
    const joins = slotted ? item.delaySeconds <= shortest + 1 : item.delaySeconds <= Math.max(shortest * 1.25, shortest + 2);
    if (group && joins) {
      group.targets.push(item);
      group.delaySeconds = Math.max(group.delaySeconds, item.delaySeconds);
    } else {
      groups.push({ delaySeconds: item.delaySeconds, targets: [item] });
    }
  }
  return groups;
}

/** Runs `work` over the items with at most `limit` at once; results in the items' order. */
async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(runners);
  return results;
}

/** The targets of a `deliveries` message that no platform could take: recorded dead with the reason, rather than thrown to the poison queue. */
export async function refuseInvalidTargets(
  storage: StorageClients,
  alertId: string,
  invalid: { targetKey: string; reason: string }[],
): Promise<void> {
  if (invalid.length === 0) return;
  await new DeliveryRepository(storage).updateMany(
    alertId,
    new Map(invalid.map(({ targetKey, reason }) => [targetKey, { state: "dead", reason: `invalid target: ${reason}` }])),
  );
}

/**
 * A delivery whose target no platform could take (a subscription stored before the id grammar, such as a
 * placeholder conversation id): recorded dead with the reason, rather than thrown to the poison queue.
 */
export async function refuseInvalidTarget(storage: StorageClients, message: { alertId: string; targetKey: string }, reason: string): Promise<void> {
  await refuseInvalidTargets(storage, message.alertId, [{ targetKey: message.targetKey, reason }]);
}

/** What a delivery row records when the target gets no new card: it has the issue's card, or the issue is ignored or resolved (planner or claim). */
export function decidedWithoutPost(claim: Exclude<Claim, { kind: "post" }>): { decision: string; messageRef?: string } {
  if (claim.kind === "update-existing") return { decision: "updated the live card", messageRef: claim.messageRef };
  if (claim.kind === "silenced") return { decision: `no new card: the issue is ${claim.status}` };
  return { decision: `merged into the card posted for alert ${claim.intoAlertId}` };
}

const POST_DECISIONS: Record<PostReason, string> = {
  first: "posted a new card",
  retry: "posted a new card",
  "stale-claim": "posted a new card (an earlier attempt died)",
  regressed: "posted a new card: the issue regressed",
  "level-rose": "posted a new card: the level rose",
  renotify: "posted a new card: the live card is older than RENOTIFY_HOURS",
};

function messageRef(copy: CardCopy): string {
  if (copy.provider === "discord") return `${copy.channelId}/${copy.messageId}`;
  return copy.provider === "msteams" ? `${copy.conversationId}/${copy.activityId}` : `${copy.channel}/${copy.ts}`;
}
