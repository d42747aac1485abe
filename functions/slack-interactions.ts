import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { appContext } from "../shared/runtime";
import { handleClick } from "../shared/inbound/slack/interactions";

/** POST /api/slack/interactions: button and menu clicks on cards. Always answered within Slack's 3 s. */
export async function slackInteractions(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const parsed = await parseSlackRequest(request, appContext(context), context, "interaction");
  if (!parsed.ok) return parsed.response;
  await handleClick(parsed.slack, parsed.payload, receivedAt);
  return { status: 200 };
}
