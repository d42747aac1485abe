import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { InteractionType } from "discord-api-types/v10";
import type { Runtime } from "../../runtime";
import { pong } from "../../discord/payloads";
import { receiveDiscordInteraction } from "./receive";

/**
 * POST /api/discord/interactions: every interaction Discord sends, verified first. PING → PONG; a component
 * on a card → the one click flow; `/triage` → the one command flow. Anything else is acknowledged with 400.
 */
export async function handleDiscordInteraction(request: HttpRequest, runtime: Runtime, context: InvocationContext): Promise<HttpResponseInit> {
  const received = await receiveDiscordInteraction(request, runtime.config, context);
  if (!received.ok) return received.response;
  const { json } = received;
  switch (json.type) {
    case InteractionType.Ping:
      return { status: 200, jsonBody: pong() };
    default:
      context.warn(`Discord interaction of type ${String(json.type).slice(0, 20)} not handled`);
      return { status: 400 };
  }
}
