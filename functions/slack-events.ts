import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { appContext } from "../shared/runtime";
import { handleSlackEvent } from "../shared/inbound/slack/events";

/** POST /api/slack/events: the Events API. Answered within Slack's 3 s (a 503 when that wasn't enough: Slack sends the event again). */
export async function slackEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const receivedAt = Date.now();
  const parsed = await parseSlackRequest(request, appContext(context), context, "event");
  if (!parsed.ok) return parsed.response;
  const reply = await handleSlackEvent(parsed.slack, parsed.payload, receivedAt);
  return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
}
