import type { HttpResponseInit, InvocationContext } from "@azure/functions";
import { IdentityRepository } from "../../storage/identities";
import type { Runtime } from "../../runtime";
import type { TeamsActivity } from "../../teams/activity";
import { handleTeamsActivity } from "./route";
import { messageReply } from "../../teams/invoke-replies";

/** Handles one received activity and turns the bot's reply into the HTTP answer. */
export async function respondToTeamsActivity(
  runtime: Pick<Runtime, "config" | "storage" | "teams">,
  activity: TeamsActivity,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const { config, storage, teams } = runtime;
  try {
    const bot = {
      config,
      storage,
      connector: teams.connector,
      identities: new IdentityRepository(storage),
      log: (line: string) => context.log(line),
    };
    const reply = await handleTeamsActivity(bot, activity);
    return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
  } catch (error) {
    context.error(`Teams ${activity.type} failed: ${(error as Error).name}: ${(error as Error).message}`);
    if (activity.type !== "invoke") throw error;
    // A card click gets words, not Teams' generic "Something went wrong".
    const reply = messageReply("Something went wrong on our side, so this may not have been applied. Try again in a moment.");
    return { status: reply.status, jsonBody: reply.body };
  }
}
