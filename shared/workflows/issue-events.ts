import { z } from "zod";
import type { ActivityRecord } from "../domain/actions";
import { QUEUES, type StorageClients } from "../storage/clients";
import { ActivityRepository, IssueRepository, type StoredIssue } from "../storage/issues";
import { scheduleIgnoreExpiry } from "./ignore-expiry";

/** One message on `issue-events` per state change: the producers' feed back (schema v1). */
export interface IssueEvent {
  schemaVersion: 1;
  eventId: string;
  issueId: string;
  action: ActivityRecord["action"];
  actor: string;
  surface: ActivityRecord["surface"];
  from: ActivityRecord["fromStatus"];
  to: ActivityRecord["toStatus"];
  detail?: string;
  issueVersion: number;
  at: string;
}

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
});
export type CardRefreshMessage = z.infer<typeof cardRefreshMessageSchema>;

/**
 * Announces every change of the issue not yet announced: its history lines (activities), one
 * issue-event per line (ids stable per change, so a repeat after a crash is recognisable), a card
 * refresh, and the wake-up of a time-bound ignore. Safe to call again; cheap when nothing is pending.
 */
export async function announcePending(storage: StorageClients, issueId: string): Promise<StoredIssue | undefined> {
  const repository = new IssueRepository(storage);
  const stored = await repository.get(issueId);
  if (!stored) return undefined;
  const pending = stored.outbox.filter((entry) => entry.version > stored.announcedVersion);
  if (pending.length === 0) return stored;
  for (const entry of pending) {
    const activities = entry.activities.map((activity, n) => ({ ...activity, key: `${entry.version}.${n}` }));
    await new ActivityRepository(storage).append(activities);
    for (const activity of activities) await storage.send(QUEUES.issueEvents, issueEvent(activity, entry.version));
  }
  const refresh: CardRefreshMessage = { issueId, version: stored.issue.version, requestedAt: new Date().toISOString() };
  await storage.send(QUEUES.cardRefresh, refresh);
  // One wake-up per "ignore for N minutes", not per change while it lasts.
  if (pending.some((entry) => entry.activities.some((activity) => activity.action === "ignore"))) await scheduleIgnoreExpiry(storage, stored.issue);
  await repository.markAnnounced(issueId, Math.max(...pending.map((entry) => entry.version)), stored.etag);
  return stored;
}

function issueEvent(activity: ActivityRecord & { key: string }, version: number): IssueEvent {
  return {
    schemaVersion: 1,
    eventId: `${activity.issueId}:${activity.key}`,
    issueId: activity.issueId,
    action: activity.action,
    actor: activity.actor,
    surface: activity.surface,
    from: activity.fromStatus,
    to: activity.toStatus,
    ...(activity.detail ? { detail: activity.detail } : {}),
    issueVersion: version,
    at: activity.at,
  };
}
