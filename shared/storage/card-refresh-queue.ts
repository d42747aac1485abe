import { z } from "zod";
import type { CardCopy } from "./cards";
import { QUEUES, type StorageClients } from "./clients";
import { IssueRepository } from "./issues";

/** The message on `card-refresh`: re-render every copy of this issue's card from the stored issue. */
export const cardRefreshMessageSchema = z.object({
  issueId: z.string().min(1),
  version: z.number().int().nonnegative(),
  requestedAt: z.string(),
  /** Set on the refresh that wakes up when a time-bound ignore runs out. */
  ignoreEndsAt: z.string().optional(),
  /** The trailing refresh of a coalesced burst, scheduled for this moment. */
  trailingFor: z.string().optional(),
  /** Retries of copies that failed to update (429/5xx), counted to give up in the end. */
  attempt: z.number().int().positive().optional(),
  /** A retry's copies have been failing since then (ISO time): past a day of it, they are left stale until the issue changes. */
  failingSince: z.string().optional(),
  /** The 429s in a row the platforms answered a retry's copies with: one more without Retry-After waits longer. */
  throttles: z.number().int().positive().optional(),
});
export type CardRefreshMessage = z.infer<typeof cardRefreshMessageSchema>;

/** Puts one refresh on `card-refresh`, now or after a delay. */
export async function queueCardRefresh(storage: StorageClients, message: CardRefreshMessage, options?: { delaySeconds?: number }): Promise<void> {
  await storage.send(QUEUES.cardRefresh, message, options);
}

/**
 * Copies just recorded were rendered from the issue as read before posting; if the issue moved on meanwhile, the
 * refresh that announced the change may have run before these copies were recorded (or none was queued: no card was
 * posted yet, `anyCardPosted`): queue one for them. Called after the copies are recorded, never before.
 */
export async function refreshIfOutdated(storage: StorageClients, issueId: string, copies: CardCopy[]): Promise<void> {
  if (copies.length === 0) return;
  const current = await new IssueRepository(storage).get(issueId);
  const oldest = Math.min(...copies.map((copy) => copy.renderedVersion));
  if (current && current.issue.version > oldest) {
    const refresh: CardRefreshMessage = { issueId, version: current.issue.version, requestedAt: new Date().toISOString() };
    await queueCardRefresh(storage, refresh);
  }
}
