import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import type { AppContext } from "../../context";
import type { TeamsActivity } from "../../teams/activity";
import { messageReply } from "../../teams/invoke-replies";
import { handleTeamsActivity } from "./route";

/** Handles one received activity and turns the bot's reply into the HTTP answer. */
export async function respondToTeamsActivity(ctx: AppContext, activity: TeamsActivity, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const reply = await handleTeamsActivity(ctx, activity);
    return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
  } catch (error) {
    context.error(`Teams ${activity.type} failed: ${(error as Error).name}: ${(error as Error).message}`);
    if (activity.type !== "invoke") throw error;
    // A card click gets words, not Teams' generic "Something went wrong".
    const reply = messageReply("Something went wrong on our side, so this may not have been applied. Try again in a moment.");
    return { status: reply.status, jsonBody: reply.body };
  }
}
