import { z } from "zod";
import type { ActivityRecord } from "../domain/actions";
import type { Issue } from "../domain/issue";
import { QUEUES, type StorageClients } from "../storage/clients";

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
});
export type CardRefreshMessage = z.infer<typeof cardRefreshMessageSchema>;

/**
 * After any stored change: tell producers (issue-events) and refresh the cards (card-refresh).
 * Both go out after the write, so a reader always finds the state the message announces.
 */
export async function announceChange(storage: StorageClients, issue: Issue, activities: ActivityRecord[]): Promise<void> {
  for (const activity of activities) {
    const event: IssueEvent = {
      schemaVersion: 1,
      eventId: crypto.randomUUID(),
      issueId: issue.id,
      action: activity.action,
      actor: activity.actor,
      surface: activity.surface,
      from: activity.fromStatus,
      to: activity.toStatus,
      ...(activity.detail ? { detail: activity.detail } : {}),
      issueVersion: issue.version,
      at: activity.at,
    };
    await storage.send(QUEUES.issueEvents, event);
  }
  const refresh: CardRefreshMessage = { issueId: issue.id, version: issue.version, requestedAt: new Date().toISOString() };
  await storage.send(QUEUES.cardRefresh, refresh);
}
