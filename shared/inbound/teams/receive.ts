import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { parseJsonObject, readBodyWithin, zodPath } from "../../http";
import type { Config } from "../../config";
import type { TeamsServices } from "../../teams/services";
import { teamsActivitySchema, tenantOf, type TeamsActivity } from "../../teams/activity";

const MAX_ACTIVITY_BYTES = 256 * 1024;

export type ReceivedActivity = { ok: true; activity: TeamsActivity } | { ok: false; response: HttpResponseInit };

/**
 * An activity Bot Framework sent: within the size limit, JSON, authenticated, of the expected shape, from an
 * allowed tenant and a trusted service URL. Anything else is answered here (413, 400, 401, 403, 503).
 */
export async function receiveTeamsActivity(
  request: HttpRequest,
  runtime: { config: Config; teams: TeamsServices },
  context: InvocationContext,
): Promise<ReceivedActivity> {
  const { config, teams } = runtime;
  const raw = await readBodyWithin(request, MAX_ACTIVITY_BYTES);
  if (raw === undefined) return refuse(context, 413, "body too large");
  const body = parseJsonObject(raw);
  if ("problem" in body && body.problem === "not JSON") return refuse(context, 400, "body is not JSON");
  // Authenticate before looking at the activity's shape, so an unauthenticated caller learns nothing.
  if ("problem" in body) return refuse(context, 401, "body is not an activity");
  const json = body.json;
  const auth = await teams.authenticator.authenticate(json, request.headers.get("authorization"));
  if (auth.notice) context.warn(`Teams authentication: ${auth.notice}`);
  if (!auth.ok && auth.status === 503) {
    // Not a forgery: we could not check. A 503 tells Bot Framework (and whoever reads the logs) so.
    context.error(`Teams request not checked (503): ${auth.reason}`);
    return { ok: false, response: { status: 503 } };
  }
  if (!auth.ok) return refuse(context, 401, auth.reason);

  const parsed = teamsActivitySchema.safeParse(json);
  if (!parsed.success) return refuse(context, 400, `activity malformed at ${zodPath(parsed.error)}`);
  const activity = parsed.data;
  const tenantId = tenantOf(activity);
  if (!tenantId || !config.bot.allowedTenants.includes(tenantId.toLowerCase())) return refuse(context, 403, "tenant not allowed");
  if (!teams.connector.isTrusted(activity.serviceUrl)) return refuse(context, 403, "service URL host not allowed");
  return { ok: true, activity };
}

function refuse(context: InvocationContext, status: number, reason: string): ReceivedActivity {
  context.warn(`Teams request refused (${status}): ${reason}`);
  return { ok: false, response: { status } };
}
