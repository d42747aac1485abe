import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { handleDiscordInteraction } from "../shared/inbound/discord/interactions";
import { appContext } from "../shared/runtime";

/** POST /api/discord/interactions: the app's Interactions Endpoint URL. Answered within Discord's 3 s. */
export async function discordInteractions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return handleDiscordInteraction(request, appContext(context), context);
}
