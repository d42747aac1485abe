import { z } from "zod";
import { QUEUES, type StorageClients } from "./clients";

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

/** Puts one refresh on `card-refresh`, now or after a delay. */
export async function queueCardRefresh(storage: StorageClients, message: CardRefreshMessage, options?: { delaySeconds?: number }): Promise<void> {
  await storage.send(QUEUES.cardRefresh, message, options);
}
