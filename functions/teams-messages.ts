import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { receiveTeamsActivity } from "../shared/inbound/teams/receive";
import { respondToTeamsActivity } from "../shared/inbound/teams/respond";
import { appContext, getRuntime } from "../shared/runtime";

/** POST /api/messages: the Teams messaging endpoint. Authenticate, check tenant and service URL, route. */
export async function teamsMessages(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const received = await receiveTeamsActivity(request, getRuntime(), context);
  if (!received.ok) return received.response;
  return respondToTeamsActivity(appContext(context), received.activity, context);
}
