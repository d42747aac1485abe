import { setTimeout as sleep } from "node:timers/promises";
import { ConnectorError } from "../teams/connector";
import { TeamsInstallations } from "../storage/teams-installations";
import type { AppContext } from "../context";

// A Teams member who leaves a team (or the organisation: they drop out of every team) stops being offered in the
// Assign menu once they are in no team of the tenant where the bot is installed: their automatic link goes. A link
// the person made by signing in, or an unlink, stays; so does every issue already assigned to them.

/** A member named in a `teamMemberRemoved` event. */
export interface DepartedMember {
  /** The `29:` id. */
  id: string;
  /** Their Entra object id, when the event carries it. */
  aadObjectId?: string;
}

/** What one team's member read says about someone who left another team. */
export type TeamAnswer =
  | { kind: "member" }
  /** Teams answered that they are not in it. */
  | { kind: "not-member" }
  /** The team no longer counts: it is gone, or the bot is no longer in it. */
  | { kind: "not-counted" }
  /** Teams could not say just now (throttled, failing, no answer): nobody knows whether they are in it. */
  | { kind: "unknown"; reason: string };

/** Teams allows 14 member reads a second per conversation and 50 requests a second per tenant: 5 a second stays far below. */
const MS_BETWEEN_READS = 200;
/**
 * How long one event's reads may take in all: Bot Service waits 10–15 s for the answer to the activity. Past it,
 * what is not known yet counts as unknown (links kept).
 */
const READS_BUDGET_MS = 8_000;

/** How a member read's failure answers "are they in this team?". */
export function teamAnswerFromReadFailure(error: unknown): TeamAnswer {
  if (error instanceof ConnectorError) {
    if (error.code === "MemberNotFoundInConversation") return { kind: "not-member" };
    // ConversationNotFound: the team is gone; 403 (BotNotInConversationRoster, …): the bot was removed from it.
    if ((error.status === 404 && error.code === "ConversationNotFound") || error.status === 403) return { kind: "not-counted" };
    return { kind: "unknown", reason: `Teams answered ${error.status}${error.code ? ` ${error.code}` : ""}` };
  }
  const name = (error as Error | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") return { kind: "unknown", reason: "no answer from Teams in time" };
  if (error instanceof TypeError && error.message === "fetch failed") return { kind: "unknown", reason: "could not connect to Teams" };
  return { kind: "unknown", reason: name ?? "an unexpected error" };
}

/**
 * Members removed from a team: for each one linked automatically, Teams is asked, team by team (the tenant's other
 * teams with the bot, paced, stopping at the first that still has them), whether they are still in one; when no team
 * has them, their automatic link is removed, so the Assign menu no longer offers them. When Teams can't say, the
 * link is kept.
 */
export async function forgetMembersGoneFromEveryTeam(
  ctx: Pick<AppContext, "storage" | "teams" | "identities" | "log" | "now">,
  event: { tenantId: string; teamId: string; members: DepartedMember[] },
): Promise<void> {
  const deadline = Date.now() + READS_BUDGET_MS;
  let otherTeams: { teamId: string; serviceUrl: string }[] | undefined;
  let readsMade = 0;
  for (const member of event.members) {
    const identity = member.aadObjectId
      ? await ctx.identities.get("msteams", event.tenantId, member.aadObjectId)
      : await ctx.identities.findTeamsUser(event.tenantId, member.id);
    // Not linked, or linked by the person themselves: nothing to forget, nothing to ask Teams.
    if (identity?.how !== "auto") continue;
    otherTeams ??= (await new TeamsInstallations(ctx.storage).activeTeams(event.tenantId)).filter((team) => team.teamId !== event.teamId);
    const askedAt = ctx.now();
    let answer: TeamAnswer = { kind: "not-member" };
    for (const team of otherTeams) {
      if (readsMade++ > 0) await sleep(MS_BETWEEN_READS);
      answer = await askTeam(ctx, team, member.id, deadline);
      if (answer.kind === "member" || answer.kind === "unknown") break;
    }
    if (answer.kind === "member") {
      ctx.log("Teams: a member who left a team is still in another team with the bot: their automatic link is kept");
    } else if (answer.kind === "unknown") {
      ctx.log(`Teams: a member who left a team: their automatic link is kept, whether they are in another team is not known (${answer.reason})`);
    } else {
      const followed = await ctx.identities.followAutoLink("msteams", event.tenantId, identity.chatUserId, undefined, askedAt.toISOString());
      ctx.log(
        followed === "removed"
          ? "Teams: a member who left a team is in no other team with the bot: their automatic link is removed"
          : `Teams: a member who left a team is in no other team with the bot; their link changed meanwhile (${followed}): left as it is`,
      );
    }
  }
}

async function askTeam(
  ctx: Pick<AppContext, "teams">,
  team: { teamId: string; serviceUrl: string },
  memberId: string,
  deadline: number,
): Promise<TeamAnswer> {
  const left = deadline - Date.now();
  if (left <= 0) return { kind: "unknown", reason: "out of time to ask Teams" };
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<TeamAnswer>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "unknown", reason: "out of time to ask Teams" }), left);
  });
  const read = ctx.teams.getMember(team.serviceUrl, team.teamId, memberId).then(
    (): TeamAnswer => ({ kind: "member" }),
    (error: unknown) => teamAnswerFromReadFailure(error),
  );
  try {
    return await Promise.race([read, outOfTime]);
  } finally {
    clearTimeout(timer);
  }
}
