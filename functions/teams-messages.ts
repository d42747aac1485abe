import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BodyTooLargeError, readBody } from "../shared/http";
import { IdentityRepository } from "../shared/identity/identities";
import { getRuntime } from "../shared/runtime";
import { tenantOf, teamsActivitySchema } from "../shared/teams/activity";
import { handleTeamsActivity } from "../shared/teams/bot";

const MAX_ACTIVITY_BYTES = 256 * 1024;

/** POST /api/messages: the Teams messaging endpoint. Authenticate, check tenant and service URL, route. */
export async function teamsMessages(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { config, storage, teams } = getRuntime();
  let raw: string;
  try {
    raw = await readBody(request, MAX_ACTIVITY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return refuse(context, 413, "body too large");
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return refuse(context, 400, "body is not JSON");
  }
  // Authenticate before looking at the activity's shape, so an unauthenticated caller learns nothing.
  if (typeof json !== "object" || json === null || Array.isArray(json)) return refuse(context, 401, "body is not an activity");
  const auth = await teams.authenticator.authenticate(json as Record<string, unknown>, request.headers.get("authorization"));
  if (auth.notice) context.warn(`Teams authentication: ${auth.notice}`);
  if (!auth.ok && auth.status === 503) {
    // Not a forgery: we could not check. A 503 tells Bot Framework (and whoever reads the logs) so.
    context.error(`Teams request not checked (503): ${auth.reason}`);
    return { status: 503 };
  }
  if (!auth.ok) return refuse(context, 401, auth.reason);

  const parsed = teamsActivitySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(context, 400, `activity malformed at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  const activity = parsed.data;
  const tenantId = tenantOf(activity);
  if (!tenantId || !config.bot.allowedTenants.includes(tenantId)) return refuse(context, 403, "tenant not allowed");
  if (!teams.connector.isTrusted(activity.serviceUrl)) return refuse(context, 403, "service URL host not allowed");

  try {
    const bot = { config, storage, connector: teams.connector, identities: new IdentityRepository(storage), log: (line: string) => context.log(line) };
    const reply = await handleTeamsActivity(bot, activity);
    return reply.body === undefined ? { status: reply.status } : { status: reply.status, jsonBody: reply.body };
  } catch (error) {
    context.error(`Teams ${activity.type} failed: ${(error as Error).name}: ${(error as Error).message}`);
    if (activity.type !== "invoke") throw error;
    // A card click gets words, not Teams' generic "Something went wrong".
    return {
      status: 200,
      jsonBody: { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: "Something went wrong on our side, so this may not have been applied. Try again in a moment." },
    };
  }
}

function refuse(context: InvocationContext, status: number, reason: string): HttpResponseInit {
  context.warn(`Teams request refused (${status}): ${reason}`);
  return { status };
}
