import type { AppContext } from "../../context";
import { TeamsBudgetSpent, type OutgoingActivity } from "../../teams/connector";

/**
 * An answer to someone (a command's reply, a welcome card, a private notice) waits this long at most for its slot in
 * Teams' budgets (docs/pacing.md): Bot Service waits ~15 s for the activity it answers.
 */
export const REPLY_WAIT_MS = 5000;

/** Whether a reply went; `held-back`: the app's pacing had no slot for it within its wait (Teams never saw it). */
export type ReplyOutcome = "sent" | "held-back" | "not-sent";

/**
 * Sends a reply, spending the tenant's and the conversation's budgets; logs (not throws) when it doesn't go: the
 * reply is a courtesy, the work is done.
 */
export async function safeSend(
  ctx: AppContext,
  to: { serviceUrl: string; conversationId: string; tenantId: string },
  activity: OutgoingActivity,
  waitMs = REPLY_WAIT_MS,
): Promise<ReplyOutcome> {
  try {
    await ctx.teams.send(to.serviceUrl, to.conversationId, activity, { tenantId: to.tenantId, waitMs });
    return "sent";
  } catch (error) {
    ctx.log(`Teams: reply not sent: ${(error as Error).message}`);
    return error instanceof TeamsBudgetSpent ? "held-back" : "not-sent";
  }
}
