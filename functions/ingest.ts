import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { ingest } from "../shared/ingest/ingest";
import { getRuntime } from "../shared/runtime";

/** POST /api/ingest/{source}: standard monitoring webhooks (and alert schema v1) onto the `alerts` queue. */
export async function ingestAlerts(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage } = getRuntime();
  const answer = await ingest(request, config.ingest, storage);
  if (answer.status >= 400) context.warn(answer.log);
  else context.log(answer.log);
  return { status: answer.status, jsonBody: answer.body, headers: { "cache-control": "no-store" } };
}
