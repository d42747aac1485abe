import type { Config } from "../config";
import { updateSlackCard } from "../delivery/slack-sender";
import { updateTeamsCard } from "../delivery/teams-sender";
import type { FailureVerdict } from "../delivery/retry-policy";
import { CardRepository, type CardCopy } from "../storage/cards";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import type { SlackTokens } from "../slack/client";
import type { TeamsConnector } from "../teams/connector";
import type { CardRefreshMessage } from "./issue-events";

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
export async function refreshCards(refresher: Refresher, message: CardRefreshMessage, attempt = 1): Promise<{ updated: number; failed: number }> {
  const stored = await new IssueRepository(refresher.storage).get(message.issueId);
  if (!stored) return { updated: 0, failed: 0 };
  const issue = stored.issue;
  const cards = new CardRepository(refresher.storage);
  const stale = (await cards.list(issue.id)).filter((copy) => !copy.dead && copy.renderedVersion < issue.version);
  let updated = 0;
  let retryIn = 0;
  for (const copy of stale) {
    const outcome = await updateCopy(refresher, issue, copy, attempt);
    if (outcome.kind === "updated") {
      await cards.markRendered(copy, issue.version);
      updated++;
    } else if (outcome.kind === "retry") {
      retryIn = Math.max(retryIn, outcome.delaySeconds);
    } else {
      await cards.markDead(copy, outcome.reason);
      refresher.log(`Card copy ${copy.targetKey} of ${issue.id} can no longer be updated: ${outcome.reason}`);
    }
  }
  if (retryIn > 0) {
    await refresher.storage.send(QUEUES.cardRefresh, { ...message, requestedAt: new Date().toISOString() }, { delaySeconds: retryIn });
  }
  return { updated, failed: retryIn > 0 ? 1 : 0 };
}

async function updateCopy(
  refresher: Refresher,
  issue: Parameters<typeof updateTeamsCard>[1],
  copy: CardCopy,
  attempt: number,
): Promise<{ kind: "updated" } | FailureVerdict> {
  if (copy.provider === "msteams") return updateTeamsCard({ ...refresher, connector: refresher.teams }, issue, copy, attempt);
  if (!refresher.slackTokens) return { kind: "dead", reason: "Slack is not configured on this app" };
  return updateSlackCard({ ...refresher, slackTokens: refresher.slackTokens }, issue, copy, attempt);
}
