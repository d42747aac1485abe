import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import type { AppContext } from "../../context";
import { conversationTypeOf, tenantOf, type TeamsActivity } from "../../teams/activity";
import { messageReply } from "../../teams/invoke-replies";
import { handleTeamsActivity, isCardSubmit } from "./route";

const SOMETHING_WENT_WRONG = "Something went wrong on our side, so this may not have been applied. Try again in a moment.";

/** Handles one received activity and turns the bot's reply into the HTTP answer. */
export async function respondToTeamsActivity(ctx: AppContext, activity: TeamsActivity, context: InvocationContext): Promise<HttpResponseInit> {
  try {
    const reply = await handleTeamsActivity(ctx, activity);
    return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
  } catch (error) {
    context.error(`Teams ${activity.type} failed: ${(error as Error).name}: ${(error as Error).message}`);
    // A card click gets words, not Teams' generic "Something went wrong" (or, for a Submit, nothing at all).
    if (activity.type === "invoke") {
      const reply = messageReply(SOMETHING_WENT_WRONG);
      return { status: reply.status, jsonBody: reply.body };
    }
    if (!isCardSubmit(activity)) throw error;
    await tellClickerWithoutStorage(ctx, activity, SOMETHING_WENT_WRONG, context);
    return { status: 200 };
  }
}

/**
 * A private word to the clicker that needs no storage, which may be what failed: in a 1:1 chat, right there;
 * elsewhere in their 1:1 chat with the bot, asked of Teams (creating it returns the one that exists) rather than
 * read from the record.
 */
async function tellClickerWithoutStorage(ctx: AppContext, activity: TeamsActivity, text: string, context: InvocationContext): Promise<void> {
  try {
    const conversationId =
      conversationTypeOf(activity) === "personal"
        ? activity.conversation.id
        : (await ctx.teams.createPersonalConversation(activity.serviceUrl, ctx.config.bot.appId, activity.from.id, tenantOf(activity)!)).id;
    await ctx.teams.send(activity.serviceUrl, conversationId, { type: "message", text });
  } catch (error) {
    context.error(`Teams: the clicker could not be told the click failed: ${(error as Error).name}: ${(error as Error).message}`);
  }
}
