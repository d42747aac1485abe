import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseSlackRequest } from "../shared/inbound/slack/parse";
import { getRuntime } from "../shared/runtime";
import { handleSlackEvent } from "../shared/inbound/slack/events";

/** POST /api/slack/events: the Events API. */
export async function slackEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage } = getRuntime();
  const parsed = await parseSlackRequest(request, config, context, "event");
  if (!parsed.ok) return parsed.response;
  const reply = await handleSlackEvent({ storage, log: (line) => context.log(line) }, parsed.payload);
  return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
}
