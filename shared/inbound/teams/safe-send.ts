import type { AppContext } from "../../context";
import type { OutgoingActivity } from "../../teams/connector";

/** Sends a reply, logging (not throwing) when Teams does not take it: the reply is a courtesy, the work is done. */
export async function safeSend(ctx: AppContext, serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<void> {
  try {
    await ctx.teams.send(serviceUrl, conversationId, activity);
  } catch (error) {
    ctx.log(`Teams: reply not sent: ${(error as Error).message}`);
  }
}
