import { pacedWindows, type Window } from "../teams/pacing";

// The limiter, the share of each limit the app uses and Teams' budgets are in teams/pacing.ts (every Teams call books
// on them, some made below this layer); re-exported here for the senders. This file holds Slack's limits and the
// rules that spend a scarce budget on final states.
export {
  acquireTogether,
  instanceShare,
  LATE_WAKE_MS,
  nextSlot,
  PACING_SHARE,
  pacedWindows,
  SlidingWindowLimiter,
  TEAMS_CONVERSATION_LIMITS,
  TEAMS_MARGIN_MS,
  TEAMS_TENANT_LIMITS,
  type Slot,
  type Window,
} from "../teams/pacing";

// Slack's published limits. The app paces below them (PACING_SHARE, split between live instances):
// see docs/pacing.md.

/** Slack: chat.postMessage about one per second per channel (its short bursts are not counted on). */
export const SLACK_CHANNEL_LIMITS: Window[] = [{ ms: 1000, limit: 1 }];
/** Slack Tier 3 (chat.update, chat.postEphemeral): 50 per minute per workspace. */
export const SLACK_TIER3_LIMITS: Window[] = [{ ms: 60_000, limit: 50 }];

/**
 * An issue changed again within this long is still changing (an alert storm): while a budget runs low, its cards
 * wait for it to settle rather than spend the budget on states about to be replaced (docs/pacing.md).
 */
export const SETTLE_MS = 10_000;

/**
 * The share of a Slack workspace's chat.update budget that cards of still-changing issues may be posted at. Each
 * such card is an update owed once its issue settles, and the updates can only be paid at that budget: letting
 * them through at all of it left the fan-out benchmark a minute or more of updates owed after the storm, while
 * a third keeps a quiet workspace's first cards immediate (15 a minute) and the debt to seconds.
 */
export const UNSETTLED_POST_SHARE = 1 / 3;
/**
 * The window over which those cards are counted: five minutes, not Tier 3's one. A storm lasts minutes, and the
 * updates it leaves owed are paid after it at the one-minute rate: counted per minute, a two-minute intake left
 * the fan-out benchmark over two minutes of updates to pay after its last post.
 */
export const UNSETTLED_POST_WINDOW_MS = 300_000;
/** Tier 3's budget, counted over UNSETTLED_POST_WINDOW_MS: the unsettled cards a workspace may owe updates for. */
export function unsettledPostWindows(share: number): Window[] {
  return pacedWindows([{ ms: UNSETTLED_POST_WINDOW_MS, limit: SLACK_TIER3_LIMITS[0]!.limit }], share);
}
