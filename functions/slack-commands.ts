import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { getRuntime } from "../shared/runtime";
import { handleSlashCommand } from "../shared/inbound/slack/commands";

/** POST /api/slack/commands: the slash command (default /triage). Replies are ephemeral. */
export async function slackCommands(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage, slackTokens } = getRuntime();
  const parsed = await parseSlackRequest(request, config, context, "command");
  if (!parsed.ok) return parsed.response;
  return {
    status: 200,
    jsonBody: await handleSlashCommand({ config, storage, slackTokens: slackTokens!, log: (line) => context.log(line) }, parsed.payload),
  };
}
