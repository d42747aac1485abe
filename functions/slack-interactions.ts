import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { IdentityRepository } from "../shared/storage/identities";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { getRuntime } from "../shared/runtime";
import { handleClick } from "../shared/inbound/slack/interactions";

/** POST /api/slack/interactions: button and menu clicks on cards. Always answered within Slack's 3 s. */
export async function slackInteractions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const { config, storage, slackTokens } = getRuntime();
  const parsed = await parseSlackRequest(request, config, context, "interaction");
  if (!parsed.ok) return parsed.response;
  const app = { config, storage, slackTokens: slackTokens!, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
  await handleClick(app, parsed.payload, receivedAt);
  return { status: 200 };
}
