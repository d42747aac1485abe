import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { getRuntime } from "../shared/runtime";
import { handleSlashCommand } from "../shared/slack/commands";
import { readVerifiedSlackBody, refused } from "../shared/slack/inbound";
import { slashCommandSchema, schemaFailure } from "../shared/slack/payloads";

/** POST /api/slack/commands: the slash command (default /triage). Replies are ephemeral. */
export async function slackCommands(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage, slackTokens } = getRuntime();
  const body = await readVerifiedSlackBody(request, config, context);
  if (!body.ok) return body.response;
  const fields = Object.fromEntries(new URLSearchParams(body.raw));
  // Slack checks the certificate of a slash command URL with a signed ssl_check request: acknowledge it.
  if (fields.ssl_check === "1") return { status: 200 };
  const parsed = slashCommandSchema.safeParse(fields);
  if (!parsed.success) return refused(context, 400, `slash command malformed at ${schemaFailure(parsed.error)}`);
  return { status: 200, jsonBody: await handleSlashCommand({ config, storage, slackTokens: slackTokens! }, parsed.data) };
}
