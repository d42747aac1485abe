import type { Config } from "../config";
import { deliveryId, DeliveryRepository, targetLabel, type DeliveryMessage, type DeliveryRow } from "../delivery/deliveries";
import { LiveCards, type Claim } from "../delivery/live-cards";
import { IdentityRepository } from "../identity/identities";
import { countsAsAttempt, MAX_DELIVERY_ATTEMPTS } from "../delivery/retry-policy";
import { sendSlackCard, type SlackSendOutcome } from "../delivery/slack-sender";
import { sendTeamsCard, type SendOutcome } from "../delivery/teams-sender";
import { CardRepository, type CardCopy } from "../storage/cards";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import type { SlackTokens } from "../slack/client";
import type { TeamsConnector } from "../teams/connector";
import type { CardRefreshMessage } from "./issue-events";

export interface Deliverer {
  config: Config;
  storage: StorageClients;
  teams: TeamsConnector;
  /** Absent when Slack is not configured. */
  slackTokens?: SlackTokens;
  log: (line: string) => void;
}

export type DeliveryResult = "sent" | "skipped" | "retry" | "dead";

/**
 * One message off `deliveries`: post the issue's card to one target, exactly once per alert × target.
 * Retries go back on the queue with a delay (a sleeping function would hold an instance and its lease).
 */
export async function deliver(deliverer: Deliverer, message: DeliveryMessage): Promise<DeliveryResult> {
  const deliveries = new DeliveryRepository(deliverer.storage);
  const label = `Delivery ${targetLabel(message.targetKey)} of ${message.alertId}`;
  let attempt = 0;
  let row: DeliveryRow | undefined;
  let unconfirmed = 0;
  for (let tries = 0; attempt === 0; tries++) {
    row = await deliveries.get(message.alertId, message.targetKey);
    if (!row || row.state === "sent" || row.state === "dead" || tries >= 5) return "skipped";
    unconfirmed = row.unconfirmed;
    if (row.state === "sending") {
      const busyFor = Date.now() - Date.parse(row.sendingSince ?? "");
      if (busyFor < SENDING_STALE_MS) {
        // Another copy of this message is posting it; look again once that must have finished (or died).
        await deliverer.storage.send(QUEUES.deliveries, message, { delaySeconds: Math.ceil((SENDING_STALE_MS - busyFor) / 1000) + 1 });
        return "retry";
      }
      // Its consumer died mid-post: the platform may have the card.
      unconfirmed++;
    }
    // The row can also change under us for other reasons (the planner marking it enqueued): look again.
    if (await deliveries.take(row, row.attempts + 1, unconfirmed)) attempt = row.attempts + 1;
  }
  const stored = await new IssueRepository(deliverer.storage).get(message.issueId);
  if (!stored) {
    await deliveries.update(message.alertId, message.targetKey, { state: "dead", reason: "issue not found" });
    return "dead";
  }
  const live = new LiveCards(deliverer.storage);
  const claim = await live.claim(message.issueId, message.targetKey, message.alertId, {
    notify: message.notify,
    renotifyAfterMs: deliverer.config.renotifyHours * 3_600_000,
  });
  if (claim.kind !== "post") {
    // The card-refresh the alert's change queued brings the live card up to date (events, users, last seen).
    const decision = claim.kind === "update-existing" ? "updated the live card" : `merged into the card posted for alert ${claim.intoAlertId}`;
    await deliveries.update(message.alertId, message.targetKey, {
      state: "sent",
      attempts: attempt,
      decision,
      ...(claim.kind === "update-existing" ? { messageRef: claim.messageRef } : {}),
    });
    return "sent";
  }
  const target = message.target;
  const identities = new IdentityRepository(deliverer.storage);
  // The "exactly once" rule (README): after an attempt whose outcome is unknown, at most one post is made
  // without proof that the earlier one did not land, and it is counted on the row before it is made.
  let reposted = row!.reposted;
  const beforeUnprovenPost = async (): Promise<boolean> => {
    if (reposted >= 1) return false;
    reposted++;
    await deliveries.update(message.alertId, message.targetKey, { reposted });
    return true;
  };
  let outcome: SendOutcome | SlackSendOutcome;
  if (target.provider === "msteams") {
    // Teams can't be asked what the bot posted: the one retry of an unknown outcome is a re-post.
    outcome =
      unconfirmed > 0 && !(await beforeUnprovenPost())
        ? { kind: "withheld", reason: "an earlier post's outcome is unknown and Teams can't be asked" }
        : await sendTeamsCard({ ...deliverer, connector: deliverer.teams, identities }, stored.issue, target, message.targetKey, attempt);
  } else if (deliverer.slackTokens) {
    outcome = await sendSlackCard({ ...deliverer, slackTokens: deliverer.slackTokens, identities }, stored.issue, target, message.targetKey, attempt, {
      deliveryId: deliveryId(message.alertId, message.targetKey),
      lookFirst: unconfirmed > 0,
      beforeUnprovenPost,
    });
  } else {
    outcome = { kind: "dead", reason: "Slack is not configured on this app (SLACK_SIGNING_SECRET)" };
  }

  if (outcome.kind === "sent") {
    await new CardRepository(deliverer.storage).save(outcome.copy);
    await live.posted(message.issueId, message.targetKey, messageRef(outcome.copy));
    await refreshIfOutdated(deliverer.storage, outcome.copy);
    const decision =
      "adopted" in outcome && outcome.adopted
        ? "found the card an attempt that got no answer had posted"
        : reposted > row!.reposted
          ? `${POST_DECISIONS[claim.because]} again after an attempt that got no answer (may be a duplicate)`
          : POST_DECISIONS[claim.because];
    await deliveries.update(message.alertId, message.targetKey, {
      state: "sent",
      attempts: attempt,
      messageRef: messageRef(outcome.copy),
      decision,
    });
    return "sent";
  }
  if (outcome.kind === "retry" && (outcome.throttled || attempt < MAX_DELIVERY_ATTEMPTS)) {
    // Back to pending before the retry is queued: a retry that finds the row "sending" would wait for nothing.
    // Throttled, it only waited: the attempt it took is given back.
    await deliveries.update(message.alertId, message.targetKey, {
      state: "pending",
      attempts: countsAsAttempt(outcome) ? attempt : attempt - 1,
      reason: outcome.reason,
      ...(outcome.ambiguous ? { unconfirmed: unconfirmed + 1 } : {}),
    });
    await deliverer.storage.send(QUEUES.deliveries, message, { delaySeconds: outcome.delaySeconds });
    deliverer.log(`${label}: retry in ${outcome.delaySeconds}s (${outcome.reason}${outcome.ambiguous ? "; no answer: it may have been posted" : ""})`);
    return "retry";
  }
  const reason =
    outcome.kind === "withheld"
      ? `unconfirmed: ${outcome.reason}; already posted again once, not posting a third time (the card may be there)`
      : outcome.kind === "retry"
        ? `gave up after ${attempt} attempts: ${outcome.reason}`
        : outcome.reason;
  await live.release(message.issueId, message.targetKey);
  await deliveries.update(message.alertId, message.targetKey, { state: "dead", attempts: attempt, reason });
  deliverer.log(`${label} is dead: ${reason}`);
  return "dead";
}

/**
 * A delivery whose target no platform could take (a subscription stored before the id grammar, such as a
 * placeholder conversation id): recorded dead with the reason, rather than thrown to the poison queue.
 */
export async function refuseInvalidTarget(storage: StorageClients, message: { alertId: string; targetKey: string }, reason: string): Promise<void> {
  await new DeliveryRepository(storage).update(message.alertId, message.targetKey, { state: "dead", reason: `invalid target: ${reason}` });
}

/** A post takes seconds (10 s timeout, 2 s pacing); a "sending" row older than this belonged to a consumer that died. */
const SENDING_STALE_MS = 60_000;

/**
 * The card was rendered from the issue as read before posting; if the issue moved on meanwhile, the
 * refresh that announced it may have run before this copy was recorded: queue one for the copy.
 */
async function refreshIfOutdated(storage: StorageClients, copy: CardCopy): Promise<void> {
  const current = await new IssueRepository(storage).get(copy.issueId);
  if (current && current.issue.version > copy.renderedVersion) {
    const refresh: CardRefreshMessage = { issueId: copy.issueId, version: current.issue.version, requestedAt: new Date().toISOString() };
    await storage.send(QUEUES.cardRefresh, refresh);
  }
}

const POST_DECISIONS: Record<Extract<Claim, { kind: "post" }>["because"], string> = {
  first: "posted a new card",
  retry: "posted a new card",
  "stale-claim": "posted a new card (an earlier attempt died)",
  regressed: "posted a new card: the issue regressed",
  "level-rose": "posted a new card: the level rose",
  renotify: "posted a new card: the live card is older than RENOTIFY_HOURS",
};

function messageRef(copy: CardCopy): string {
  return copy.provider === "msteams" ? `${copy.conversationId}/${copy.activityId}` : `${copy.channel}/${copy.ts}`;
}
