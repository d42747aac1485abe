import type { AppContext } from "../../context";
import { TeamsBudgetSpent, type OutgoingActivity } from "../../teams/connector";
import { heldBackActivity, queueHeldBack } from "../../teams/held-back";

/**
 * An answer to someone (a command's reply, a welcome card, a private notice) waits this long at most for its slot in
 * Teams' budgets (docs/pacing.md): Bot Service waits ~15 s for the activity it answers.
 */
export const REPLY_WAIT_MS = 5000;

/**
 * Whether a reply went. `queued`: the app's pacing had no slot for it within its wait (Teams never saw it), so it
 * was queued to be sent once one is free (teams/held-back.ts); `held-back`: the same, not queued (the caller
 * said not to, or storage refused it).
 */
export type ReplyOutcome = "sent" | "queued" | "held-back" | "not-sent";

export interface ReplyOptions {
  waitMs?: number;
  /** Queue the reply when pacing holds it back (default): false when the caller tries again itself. */
  queueIfHeldBack?: boolean;
}

/**
 * Sends a reply, spending the tenant's and the conversation's budgets; logs (not throws) when it doesn't go: the
 * reply is a courtesy, the work is done. Held back by the app's pacing, it is sent later (`ReplyOutcome`).
 */
export async function safeSend(
  ctx: AppContext,
  to: { serviceUrl: string; conversationId: string; tenantId: string },
  activity: OutgoingActivity,
  { waitMs = REPLY_WAIT_MS, queueIfHeldBack = true }: ReplyOptions = {},
): Promise<ReplyOutcome> {
  try {
    await ctx.teams.send(to.serviceUrl, to.conversationId, activity, { tenantId: to.tenantId, waitMs });
    return "sent";
  } catch (error) {
    if (!(error instanceof TeamsBudgetSpent)) {
      ctx.log(`Teams: reply not sent: ${(error as Error).message}`);
      return "not-sent";
    }
    if (!queueIfHeldBack) {
      ctx.log(`Teams: reply not sent yet: ${error.message}`);
      return "held-back";
    }
    const message = {
      tenantId: to.tenantId,
      serviceUrl: to.serviceUrl,
      to: { kind: "conversation" as const, conversationId: to.conversationId },
      message: heldBackActivity(activity),
    };
    return (await queueHeldBack(ctx, message, error.retryAfterSec ?? 1)) ? "queued" : "held-back";
  }
}
