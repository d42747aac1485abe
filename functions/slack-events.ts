import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { getRuntime } from "../shared/runtime";
import { handleSlackEvent } from "../shared/slack/events";
import { readVerifiedSlackBody, refused } from "../shared/slack/inbound";
import { eventEnvelopeSchema, schemaFailure } from "../shared/slack/payloads";

/** POST /api/slack/events: the Events API. */
export async function slackEvents(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage } = getRuntime();
  const body = await readVerifiedSlackBody(request, config, context);
  if (!body.ok) return body.response;
  let json: unknown;
  try {
    json = JSON.parse(body.raw);
  } catch {
    return refused(context, 400, "body is not JSON");
  }
  const parsed = eventEnvelopeSchema.safeParse(json);
  if (!parsed.success) return refused(context, 400, `event envelope malformed at ${schemaFailure(parsed.error)}`);
  const reply = await handleSlackEvent({ storage, log: (line) => context.log(line) }, parsed.data);
  return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
}
