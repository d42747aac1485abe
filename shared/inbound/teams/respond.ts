import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import type { AppContext } from "../../context";
import type { TeamsActivity } from "../../teams/activity";
import { messageReply } from "../../teams/invoke-replies";
import { AnswerDeadline } from "../answer-deadline";
import { SOMETHING_WENT_WRONG, TEAMS_ANSWER_WITHIN_MS } from "./card-actions";
import { tellWithoutStorage } from "./people";
import { handleTeamsActivity, isCardSubmit } from "./route";

/** Handles one received activity and turns the bot's reply into the HTTP answer. */
export async function respondToTeamsActivity(ctx: AppContext, activity: TeamsActivity, context: InvocationContext): Promise<HttpResponseInit> {
  const deadline = new AnswerDeadline(TEAMS_ANSWER_WITHIN_MS);
  try {
    const reply = await handleTeamsActivity(ctx, activity, deadline);
    return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
  } catch (error) {
    context.error(`Teams ${activity.type} failed: ${(error as Error).name}: ${(error as Error).message}`);
    // A card click gets words, not Teams' generic "Something went wrong" (or, for a Submit, nothing at all).
    if (activity.type === "invoke") {
      const reply = messageReply(SOMETHING_WENT_WRONG);
      return { status: reply.status, jsonBody: reply.body };
    }
    if (!isCardSubmit(activity)) throw error;
    await tellWithoutStorage(ctx, activity, SOMETHING_WENT_WRONG).catch((error: Error) =>
      context.error(`Teams: the clicker could not be told the click failed: ${error.name}: ${error.message}`),
    );
    return { status: 200 };
  }
}
