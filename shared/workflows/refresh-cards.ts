import type { WebClient } from "@slack/web-api";
import { queueCardRefresh, type CardRefreshMessage } from "../storage/card-refresh-queue";
import { LiveCards } from "../storage/live-cards";
import { targetLabel } from "../storage/deliveries";
import { SETTLE_MS } from "../delivery/pacing";
import { RefreshGate } from "../storage/refresh-gate";
import {
  countsAsAttempt,
  GIVE_UP_AFTER_FAILING_MS,
  MAX_DELIVERY_ATTEMPTS,
  nextTry,
  SLOW_RETRY_SCHEDULE,
  throttlesAfter,
  type FailureVerdict,
} from "../delivery/retry-policy";
import { slackOwesManyUpdates, slackUpdatesToSpare, updateSlackCard } from "../delivery/slack-sender";
import { expireIgnore } from "../domain/actions";
import { IdentityRepository } from "../storage/identities";
import type { Issue } from "../domain/issue";
import { teamsConversationHeadroom, updateTeamsCard } from "../delivery/teams-sender";
import { CardRepository, needsRender, type CardCopy } from "../storage/cards";
import { IssueRepository, type StoredIssue } from "../storage/issues";
import { sendIgnoreWakeUp } from "../storage/ignore-expiry";
import { announcePending } from "./issue-events";
import { converseAroundCard } from "./thread-lines";
import { withSlack, type AppContext } from "../context";

/**
 * The share of a workspace's chat.update budget that copies of a still-changing issue leave alone: they get the
 * few updates beyond it (4 of the 45 a minute) and the rest wait for the issue to settle, so a burst's
 * intermediate states cost Slack little and its final one goes once.
 */
const SLACK_KEPT_FOR_SETTLED = 0.9;
/**
 * Below this share of its 30-second budget left, a Teams conversation is busy (a fan-out posting into it): its
 * copies of a still-changing issue wait too, and the budget goes to first posts and to settled issues' copies.
 */
const TEAMS_LOW_HEADROOM = 0.5;
/**
 * Re-renders every live copy of an issue's card from the stored issue: never from the request that
 * changed it, so every copy converges on the same, latest state.
 */
export async function refreshCards(refresher: AppContext, message: CardRefreshMessage): Promise<RefreshResult> {
  const attempt = message.attempt ?? 1;
  if (message.ignoreEndsAt && Date.parse(message.ignoreEndsAt) > Date.now()) {
    // A long ignore's wake-up hop (queue delays stop at 7 days): nothing to show yet, wait again.
    await sendIgnoreWakeUp(refresher.storage, message.issueId, message.ignoreEndsAt);
    return { updated: 0, failed: 0 };
  }
  const refreshGate = new RefreshGate(refresher.storage, refresher.config.cardRefreshCoalesceSeconds * 1000);
  const gate = await refreshGate.enter(message.issueId, { trailingFor: message.trailingFor });
  if (gate.kind === "drop") return { updated: 0, failed: 0, coalesced: true };
  if (gate.kind === "defer") {
    await queueCardRefresh(refresher.storage, { ...message, trailingFor: gate.trailingFor }, { delaySeconds: gate.delaySeconds });
    return { updated: 0, failed: 0, coalesced: true };
  }
  const current = await currentIssue(refresher, message.issueId);
  if (!current) return { updated: 0, failed: 0 };
  const { issue } = current;
  const cards = new CardRepository(refresher.storage);
  const stale = (await cards.list(issue.id)).filter((copy) => needsRender(copy, issue.version));
  // While a budget runs low, copies of an issue still changing wait for its final state, and the budget goes to
  // copies whose issue has settled (and, on Teams, to first posts).
  // A change's run: changing if the run before it was recent. A retry's run (it carries `attempt`) follows the
  // app's own run, not a change: changing if the issue moved on since the retry was queued (SETTLE_MS ago).
  const recently = (at: string | undefined) => at !== undefined && Date.now() - Date.parse(at) < SETTLE_MS;
  const changing = message.attempt === undefined ? recently(gate.previousRunAt) : issue.version > message.version;
  // A copy posted moments ago and already stale: the issue moved on while its card was going out.
  const justPosted = stale.some((copy) => recently(copy.postedAt));
  const held = changing || justPosted ? waitingToSettle(stale, changing) : [];
  const writing = stale.filter((copy) => !held.includes(copy));
  const identities = new IdentityRepository(refresher.storage);
  const writers = await cards.beginWrites(writing);
  const throttledBefore = message.throttles ?? 0;
  const outcomes = await updateAll(refresher, identities, issue, writing, attempt, throttledBefore);
  const landed = outcomes.filter((outcome) => outcome.kind === "updated").length;
  // Read once after every update landed: if the issue moved past what was sent, an update may have overtaken a
  // newer one, and the copies are recorded as showing what was sent (behind: a refresh is queued, which the gate
  // folds into its trailing run). Versions only grow, so "not moved by now" means "not moved when each landed".
  const now = landed > 0 ? ((await new IssueRepository(refresher.storage).get(issue.id))?.issue.version ?? issue.version) : issue.version;
  const behind = now > issue.version ? now : 0;
  await cards.endWrites(
    writing.map((card, i) => ({
      card,
      writer: writers[i]!,
      sent: outcomes[i]!.kind === "updated" ? issue.version : undefined,
      settled: behind === 0,
    })),
  );
  let retryIn = held.length > 0 ? SETTLE_MS / 1000 : 0;
  /** Some copy failed for real (not only throttled): the retry counts as an attempt. */
  let failedForReal = false;
  /** The 429s in a row the retry carries: one more when a platform answered a copy 429 (teams-sender's classify). */
  let throttles = 0;
  // A retry rendering a change made since it was queued starts afresh, as that change's own refresh would.
  const failingSince = issue.version > message.version ? undefined : message.failingSince;
  for (const [i, outcome] of outcomes.entries()) {
    const copy = writing[i]!;
    if (outcome.kind === "updated") continue;
    if (outcome.kind === "retry") {
      // Out of attempts, the copy is not dead (the platform never said so): it keeps being tried, slowly, for a
      // day; a resolved issue may never change again to bring it back (Sentry's #41891).
      const next = nextTry(outcome, attempt, failingSince, Date.now());
      if (next.kind === "give-up") {
        refresher.log(
          `Card copy ${targetLabel(copy.targetKey)} of ${issue.id} left stale: still failing after ${GIVE_UP_AFTER_FAILING_MS / 3_600_000} hours ` +
            `(${outcome.reason}), not dead (its platform never said it was gone); tried again when the issue next changes`,
        );
        continue;
      }
      // The soonest: a copy whose budget is back by then goes, the others are held back again without a call.
      retryIn = retryIn === 0 ? next.delaySeconds : Math.min(retryIn, next.delaySeconds);
      failedForReal ||= countsAsAttempt(outcome);
      throttles = Math.max(throttles, throttlesAfter(outcome, throttledBefore));
      if (next.slow) {
        refresher.log(
          `Card copy ${targetLabel(copy.targetKey)} of ${issue.id} not updated after ${attempt} attempts (${outcome.reason}): ` +
            `tried again ${SLOW_RETRY_SCHEDULE}`,
        );
      }
    } else {
      await cards.markDead(copy, outcome.reason);
      await new LiveCards(refresher.storage).release(issue.id, copy.targetKey);
      refresher.log(`Card copy ${targetLabel(copy.targetKey)} of ${issue.id} can no longer be updated: ${outcome.reason}`);
    }
  }
  if (behind > 0) {
    const again: CardRefreshMessage = { issueId: issue.id, version: behind, requestedAt: new Date().toISOString() };
    await queueCardRefresh(refresher.storage, again);
  }
  if (retryIn > 0) {
    // At most one refresh pending per issue: a retry already queued for no later renders the latest state too.
    const trailingFor = await refreshGate.pendingFor(issue.id, retryIn);
    if (trailingFor) {
      const retry: CardRefreshMessage = {
        issueId: issue.id,
        version: issue.version,
        requestedAt: new Date().toISOString(),
        trailingFor,
        // Past the last attempt the count stays there: every retry from then on is a slow one.
        attempt: failedForReal ? Math.min(attempt + 1, MAX_DELIVERY_ATTEMPTS) : attempt,
        ...(failedForReal || failingSince ? { failingSince: failingSince ?? gate.startedAt } : {}),
        ...(throttles ? { throttles } : {}),
      };
      await queueCardRefresh(refresher.storage, retry, { delaySeconds: retryIn });
      await refreshGate.scheduled(issue.id, trailingFor, gate.startedAt);
    } else {
      await refreshGate.ended(issue.id, gate.startedAt);
    }
  } else if (stale.length === 0 && behind === 0) {
    await refreshGate.forget(issue.id);
  } else if (behind === 0) {
    await refreshGate.done(issue.id, gate.startedAt);
  }
  await converseAroundCard(refresher, issue, current.activityAt);
  return { updated: landed, failed: retryIn > 0 ? 1 : 0 };
}

export interface RefreshResult {
  updated: number;
  failed: number;
  coalesced?: boolean;
}

/**
 * The copies of a still-changing issue (or one whose cards were just posted) that wait for it to settle: those
 * their budget can't spare now. Just posted counts only in a Slack workspace already owing many updates (an alert
 * storm's first cards): elsewhere, a second alert moments after the first still shows everywhere at once.
 */
function waitingToSettle(stale: CardCopy[], changing: boolean): CardCopy[] {
  const spareIn = new Map<string, number>();
  return stale.filter((copy) => {
    // Discord's buckets are learnt per channel by the client, which holds back what they have no room for.
    if (copy.provider === "discord") return false;
    if (copy.provider === "msteams") return changing && teamsConversationHeadroom(copy.conversationId) < TEAMS_LOW_HEADROOM;
    if (!changing && !slackOwesManyUpdates(copy.teamId)) return false;
    const spare = spareIn.get(copy.teamId) ?? slackUpdatesToSpare(copy.teamId, SLACK_KEPT_FOR_SETTLED);
    spareIn.set(copy.teamId, spare - 1);
    return spare <= 0;
  });
}

/**
 * The stored issue, after letting a time-bound ignore run out: an "ignore for 2 hours" ends with no
 * alert to notice it, so the refresh scheduled for that moment does (see scheduleIgnoreExpiry).
 */
async function currentIssue(refresher: AppContext, issueId: string): Promise<Pick<StoredIssue, "issue" | "activityAt"> | undefined> {
  const repository = new IssueRepository(refresher.storage);
  const stored = await repository.get(issueId);
  if (!stored) return undefined;
  if (stored.issue.status !== "ignored" || stored.issue.ignore?.mode !== "until") return stored;
  const expiredNow = await repository.change(issueId, (current) => {
    const expired = current && expireIgnore(current.issue, new Date());
    return expired ? { issue: expired.issue, activities: [expired.activity] } : undefined;
  });
  if (!expiredNow) return stored;
  await announcePending(refresher.storage, issueId, expiredNow.issue.version);
  return { issue: expiredNow.issue, activityAt: new Date().toISOString() };
}

/**
 * Updates every copy on its platform, concurrently within the pacing: copies that share a budget (a Teams
 * conversation, a Slack workspace's chat.update) go one after another, and once one of them is held back the rest
 * wait with it, without a call (each would only be told the same).
 */
async function updateAll(
  refresher: AppContext,
  identities: IdentityRepository,
  issue: Issue,
  copies: CardCopy[],
  attempt: number,
  throttles: number,
): Promise<({ kind: "updated" } | FailureVerdict)[]> {
  const outcomes: ({ kind: "updated" } | FailureVerdict)[] = [];
  const groups = new Map<string, number[]>();
  copies.forEach((copy, i) => {
    const key =
      copy.provider === "discord"
        ? `discord:${copy.channelId}`
        : copy.provider === "msteams"
          ? `msteams:${copy.conversationId}`
          : `slack:${copy.teamId}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  await Promise.all(
    [...groups.values()].map(async (members) => {
      let throttled: FailureVerdict | undefined;
      let client: Promise<WebClient> | undefined;
      const clientFor = (teamId: string) => () => (client ??= refresher.slack!.client(teamId));
      for (const i of members) {
        const copy = copies[i]!;
        outcomes[i] = throttled ?? (await updateCopy(refresher, identities, issue, copy, attempt, throttles, clientFor));
        const outcome = outcomes[i]!;
        if (outcome.kind === "retry" && outcome.throttled) throttled ??= outcome;
      }
    }),
  );
  return outcomes;
}

async function updateCopy(
  refresher: AppContext,
  identities: IdentityRepository,
  issue: Issue,
  copy: CardCopy,
  attempt: number,
  throttles: number,
  clientFor: (teamId: string) => () => Promise<WebClient>,
): Promise<{ kind: "updated" } | FailureVerdict> {
  if (copy.provider === "msteams") return updateTeamsCard({ ...refresher, identities }, issue, copy, attempt, copy.notice, throttles);
  if (copy.provider === "discord") {
    const { updateDiscordCard } = await import("../delivery/discord-sender");
    return updateDiscordCard(
      { config: refresher.config, identities, storage: refresher.storage, now: refresher.now, log: refresher.log },
      issue,
      copy,
      attempt,
    );
  }
  const slack = withSlack(refresher);
  if (!slack) return { kind: "dead", reason: "Slack is not configured on this app" };
  return updateSlackCard({ ...slack, identities }, issue, copy, attempt, copy.notice, clientFor(copy.teamId));
}
