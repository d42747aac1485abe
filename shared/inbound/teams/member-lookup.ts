import { ids } from "../../domain/ids";
import { baseConversationId, tenantOf, type TeamsActivity } from "../../teams/activity";
import type { AppContext } from "../../context";
import { TEAMS_CALL_WAIT_MS } from "../../teams/pacing";

/**
 * The activity with its sender's Entra object id, asked of the Bot Connector when the activity doesn't
 * carry one (`GET /v3/conversations/{id}/members/{from.id}`). Microsoft's published card-action samples,
 * and clients such as Agents Playground, send `from` with only the `29:` id and a name; without this the
 * clicker could not be identified or sent a link. Unchanged when the lookup fails or returns no object id (or the
 * tenant's Teams budget has no slot for it within `waitMs`).
 */
export async function withSenderObjectId(ctx: AppContext, activity: TeamsActivity, waitMs = TEAMS_CALL_WAIT_MS): Promise<TeamsActivity> {
  if (activity.from.aadObjectId) return activity;
  try {
    const pacing = { tenantId: tenantOf(activity)!, waitMs };
    const member = await ctx.teams.getMember(activity.serviceUrl, baseConversationId(activity), activity.from.id, pacing);
    // A guest from another tenant (shared channels) is not this tenant's person.
    if (member.tenantId && member.tenantId !== tenantOf(activity)) return activity;
    const aadObjectId = ids.tenantId.safeParse(member.aadObjectId);
    if (!aadObjectId.success) {
      ctx.log("Teams: the Bot Connector returned no object id for the sender");
      return activity;
    }
    return { ...activity, from: { ...activity.from, aadObjectId: aadObjectId.data, name: activity.from.name ?? member.name } };
  } catch (error) {
    ctx.log(`Teams: could not look up the sender: ${(error as Error).message}`);
    return activity;
  }
}
