import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { appContext } from "../shared/runtime";
import { handleSlashCommand } from "../shared/inbound/slack/commands";

/** POST /api/slack/commands: the slash command (default /triage). Replies are ephemeral, always within Slack's 3 s. */
export async function slackCommands(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const parsed = await parseSlackRequest(request, appContext(context), context, "command");
  if (!parsed.ok) return parsed.response;
  return { status: 200, jsonBody: await handleSlashCommand(parsed.slack, parsed.payload, receivedAt) };
}
