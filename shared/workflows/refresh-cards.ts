import type { Config } from "../config";
import { LiveCards } from "../delivery/live-cards";
import { targetLabel } from "../delivery/deliveries";
import { RefreshGate } from "../delivery/refresh-gate";
import { countsAsAttempt, MAX_DELIVERY_ATTEMPTS } from "../delivery/retry-policy";
import { updateSlackCard } from "../delivery/slack-sender";
import { expireIgnore } from "../domain/actions";
import { IdentityRepository } from "../identity/identities";
import type { Issue } from "../domain/issue";
import { updateTeamsCard } from "../delivery/teams-sender";
import type { FailureVerdict } from "../delivery/retry-policy";
import { CardRepository, needsRender, type CardCopy } from "../storage/cards";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import type { SlackTokens } from "../slack/client";
import type { TeamsConnector } from "../teams/connector";
import { sendIgnoreWakeUp } from "./ignore-expiry";
import { announcePending, type CardRefreshMessage } from "./issue-events";

export interface Refresher {
  config: Config;
  storage: StorageClients;
  teams: TeamsConnector;
  slackTokens?: SlackTokens;
  log: (line: string) => void;
}

/**
 * Re-renders every live copy of an issue's card from the stored issue: never from the request that
 * changed it, so every copy converges on the same, latest state.
 */
export async function refreshCards(refresher: Refresher, message: CardRefreshMessage): Promise<RefreshResult> {
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
    await refresher.storage.send(QUEUES.cardRefresh, { ...message, trailingFor: gate.trailingFor }, { delaySeconds: gate.delaySeconds });
    return { updated: 0, failed: 0, coalesced: true };
  }
  const issue = await currentIssue(refresher, message.issueId);
  if (!issue) return { updated: 0, failed: 0 };
  const cards = new CardRepository(refresher.storage);
  const stale = (await cards.list(issue.id)).filter((copy) => needsRender(copy, issue.version));
  let updated = 0;
  let retryIn = 0;
  /** Some copy failed for real (not only throttled): the retry counts as an attempt. */
  let failedForReal = false;
  let behind = 0;
  const identities = new IdentityRepository(refresher.storage);
  for (const copy of stale) {
    const outcome = await renderCurrent(refresher, identities, cards, issue, copy, attempt);
    if (outcome.kind === "updated") {
      updated++;
      behind = Math.max(behind, outcome.behind ?? 0);
    } else if (outcome.kind === "retry" && (outcome.throttled || attempt < MAX_DELIVERY_ATTEMPTS)) {
      retryIn = Math.max(retryIn, outcome.delaySeconds);
      failedForReal ||= countsAsAttempt(outcome);
    } else {
      const reason = outcome.kind === "retry" ? `gave up after ${attempt} attempts: ${outcome.reason}` : outcome.reason;
      await cards.markDead(copy, reason);
      await new LiveCards(refresher.storage).release(issue.id, copy.targetKey);
      refresher.log(`Card copy ${targetLabel(copy.targetKey)} of ${issue.id} can no longer be updated: ${reason}`);
    }
  }
  if (behind > 0) {
    const again: CardRefreshMessage = { issueId: issue.id, version: behind, requestedAt: new Date().toISOString() };
    await refresher.storage.send(QUEUES.cardRefresh, again);
  }
  if (retryIn > 0) {
    const retry: CardRefreshMessage = {
      issueId: issue.id,
      version: issue.version,
      requestedAt: new Date().toISOString(),
      attempt: failedForReal ? attempt + 1 : attempt,
    };
    await refresher.storage.send(QUEUES.cardRefresh, retry, { delaySeconds: retryIn });
  } else if (stale.length === 0 && behind === 0) {
    await refreshGate.forget(issue.id);
  } else if (behind === 0) {
    await refreshGate.done(issue.id, gate.startedAt);
  }
  return { updated, failed: retryIn > 0 ? 1 : 0 };
}

export interface RefreshResult {
  updated: number;
  failed: number;
  coalesced?: boolean;
}

/**
 * The stored issue, after letting a time-bound ignore run out: an "ignore for 2 hours" ends with no
 * alert to notice it, so the refresh scheduled for that moment does (see scheduleIgnoreExpiry).
 */
async function currentIssue(refresher: Refresher, issueId: string): Promise<Issue | undefined> {
  const repository = new IssueRepository(refresher.storage);
  const stored = await repository.get(issueId);
  if (!stored) return undefined;
  if (stored.issue.status !== "ignored" || stored.issue.ignore?.mode !== "until") return stored.issue;
  const expiredNow = await repository.change(issueId, (current) => {
    const expired = current && expireIgnore(current.issue, new Date());
    return expired ? { issue: expired.issue, activities: [expired.activity] } : undefined;
  });
  if (!expiredNow) return stored.issue;
  await announcePending(refresher.storage, issueId, expiredNow.issue.version);
  return expiredNow.issue;
}

/**
 * Brings one copy to the current issue. Updates from different places (this refresh, another one, the clicked
 * card's own update) can land in any order, so after the update lands the issue is read again: if it has moved
 * past what was sent, this update may have overtaken a newer one, and the copy is recorded as showing what was
 * sent (`behind`: the caller queues a refresh, which the gate folds into its trailing run).
 */
async function renderCurrent(
  refresher: Refresher,
  identities: IdentityRepository,
  cards: CardRepository,
  issue: Issue,
  copy: CardCopy,
  attempt: number,
): Promise<{ kind: "updated"; behind?: number } | FailureVerdict> {
  const writer = await cards.beginWrite(copy);
  const outcome = await updateCopy(refresher, identities, issue, copy, attempt);
  if (outcome.kind !== "updated") {
    await cards.endWrite(copy, writer, undefined, false);
    return outcome;
  }
  const now = (await new IssueRepository(refresher.storage).get(issue.id))?.issue.version ?? issue.version;
  await cards.endWrite(copy, writer, issue.version, now <= issue.version);
  return now > issue.version ? { kind: "updated", behind: now } : outcome;
}

async function updateCopy(
  refresher: Refresher,
  identities: IdentityRepository,
  issue: Issue,
  copy: CardCopy,
  attempt: number,
): Promise<{ kind: "updated" } | FailureVerdict> {
  if (copy.provider === "msteams") return updateTeamsCard({ ...refresher, connector: refresher.teams, identities }, issue, copy, attempt);
  if (!refresher.slackTokens) return { kind: "dead", reason: "Slack is not configured on this app" };
  return updateSlackCard({ ...refresher, slackTokens: refresher.slackTokens, identities }, issue, copy, attempt);
}
