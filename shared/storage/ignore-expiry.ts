import type { Issue } from "../domain/issue";
import { queueCardRefresh, type CardRefreshMessage } from "./card-refresh-queue";
import { type StorageClients } from "./clients";

/**
 * Queue messages live 7 days by default and can't stay invisible longer than that, so a message due
 * at the very end would expire as it appears: longer ignores hop in steps of at most 6 days.
 */
const MAX_QUEUE_DELAY_SECONDS = 6 * 24 * 3600;

/** Queues a refresh for the moment an "ignore for N minutes" runs out. */
export async function scheduleIgnoreExpiry(storage: StorageClients, issue: Issue): Promise<void> {
  if (issue.status !== "ignored" || issue.ignore?.mode !== "until") return;
  await sendIgnoreWakeUp(storage, issue.id, issue.ignore.until);
}

export async function sendIgnoreWakeUp(storage: StorageClients, issueId: string, endsAt: string): Promise<void> {
  const seconds = Math.max(1, Math.ceil((Date.parse(endsAt) - Date.now()) / 1000) + 1);
  const message: CardRefreshMessage = { issueId, version: 0, requestedAt: new Date().toISOString(), ignoreEndsAt: endsAt };
  await queueCardRefresh(storage, message, { delaySeconds: Math.min(seconds, MAX_QUEUE_DELAY_SECONDS) });
}
