import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { ids } from "../domain/ids";
import { ConnectorError, TeamsBudgetSpent } from "../teams/connector";
import { QUEUES, type StorageClients } from "../storage/clients";
import { TeamsInstallations } from "../storage/teams-installations";
import type { AppContext } from "../context";

// A Teams member who leaves a team (or the organisation: they drop out of every team) stops being offered in the
// Assign menu once they are in no team of the tenant where the bot is installed: their automatic link goes. A link
// the person made by signing in, or an unlink, stays; so does every issue already assigned to them.
//
// The `teamMemberRemoved` event only queues the check (on `member-sync`, a few seconds later): Bot Service waits
// ~15 s for the answer to the event, and someone leaving the organisation is taken out of every team at once, each
// team sending its own event, so an event's check made at once could still find them in a team whose removal had
// not landed yet. The check asks the team they left first, then every other team with the bot, however many.

/** A member named in a `teamMemberRemoved` event. */
export interface DepartedMember {
  /** The `29:` id. */
  id: string;
  /** Their Entra object id, when the event carries it. */
  aadObjectId?: string;
}

/** A `member-sync` message: check whether someone removed from a team is still in a team with the bot. */
export const memberLeftMessageSchema = z.object({
  kind: z.literal("member-left"),
  tenantId: z.string().min(1),
  /** The team Teams said they were removed from, and the service URL its event came from. */
  teamId: z.string().min(1),
  serviceUrl: z.url(),
  member: z.object({ id: ids.teamsUserId, aadObjectId: ids.tenantId.optional() }),
  /** When the check goes on in a further message: the teams up to this id (in the order asked) were asked. */
  askedThrough: z.string().optional(),
  /** A team asked in an earlier message said they are not in it. */
  goneFromOne: z.boolean().optional(),
  /** When the check's first team was asked: a link made or confirmed since then is left as it is. */
  startedAt: z.iso.datetime().optional(),
  /** How many times the team they left still listed them. */
  listedAgain: z.number().int().positive().optional(),
});
export type MemberLeftMessage = z.infer<typeof memberLeftMessageSchema>;

/** What one team's member read says about someone who left a team. */
export type TeamAnswer =
  | { kind: "member" }
  /** Teams answered that they are not in it. */
  | { kind: "not-member" }
  /** The team no longer counts: it is gone, or the bot is no longer in it (or may not read it). */
  | { kind: "not-counted" }
  /** Teams could not say (throttled, failing, no answer, after a few tries): nobody knows whether they are in it. */
  | { kind: "unknown"; reason: string }
  /** The app's own pacing held the read back (Teams wasn't asked): a slot is free in `retryInSeconds`. */
  | { kind: "held-back"; retryInSeconds: number };

export interface AskedTeam {
  theTeamTheyLeft: boolean;
  answer: TeamAnswer;
}

export type DepartureVerdict =
  | { kind: "remove" }
  | { kind: "keep"; because: "still-a-member" }
  | { kind: "keep"; because: "never-said-gone" }
  | { kind: "keep"; because: "not-known"; reason: string }
  /** The team they left still lists them: the removal has not landed in Teams' reads yet, or they are back. */
  | { kind: "ask-again-later" }
  | { kind: "ask-more-teams"; goneFromOne: boolean }
  /** A read was held back by the app's pacing: the check goes on from that team once a slot is free. */
  | { kind: "ask-when-free"; retryInSeconds: number; goneFromOne: boolean };

/**
 * Seconds between the event and the check: the other teams' removals land first. Someone leaving many teams sends
 * one event per team, and the check of the team whose removal lands last sees all of them.
 */
export const DEPARTURE_CHECK_DELAY_SECONDS = 5;
/** When the team they left still lists them, asked again after 60 s, then 120 s; then they count as back in it. */
const LISTED_AGAIN_DELAY_SECONDS = 60;
const MAX_LISTED_AGAIN = 2;
/** Teams allows 14 member reads a second per conversation and 50 requests a second per tenant: 5 a second stays far below. */
const MS_BETWEEN_READS = 200;
/** Teams asked per message (about 5 s of reads), so a tenant with any number of teams never nears the function timeout. */
const TEAMS_PER_MESSAGE = 25;
const SECONDS_BETWEEN_MESSAGES = 1;
/** Tries of one member read while Teams fails (429, 412, 5xx, no answer): about 7 s of backoff in all. */
const MAX_READ_TRIES = 4;
const BACKOFF_BASE_MS = 1_000;
const RETRY_AFTER_CAP_MS = 30_000;

/** How a member read's failure answers "are they in this team?". */
export function teamAnswerFromReadFailure(error: unknown): TeamAnswer {
  if (error instanceof TeamsBudgetSpent) return { kind: "held-back", retryInSeconds: Math.max(1, Math.ceil(error.retryAfterSec ?? 1)) };
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

/** How long to wait before asking again after the `attempt`-th read failed, or undefined: its failure is the answer. */
export function retryDelayMs(error: unknown, attempt: number): number | undefined {
  // Held back by the app's own pacing: the queue waits for the slot (`ask-when-free`), not this invocation.
  if (error instanceof TeamsBudgetSpent) return undefined;
  if (attempt >= MAX_READ_TRIES || !isPassingFailure(error)) return undefined;
  if (error instanceof ConnectorError && error.status === 429 && error.retryAfterSec !== undefined) {
    return Math.min(RETRY_AFTER_CAP_MS, error.retryAfterSec * 1000);
  }
  const ceiling = BACKOFF_BASE_MS * 2 ** (attempt - 1);
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

/** What Teams asks to be retried (429, 412, 5xx), and a request that got no answer. */
function isPassingFailure(error: unknown): boolean {
  if (error instanceof ConnectorError) return error.status === 429 || error.status === 412 || error.status >= 500;
  const name = (error as Error | undefined)?.name;
  return name === "TimeoutError" || name === "AbortError" || (error instanceof TypeError && error.message === "fetch failed");
}

/**
 * The next teams to ask: the team they left first, then every other team with the bot in id order, from after
 * `askedThrough` (where an earlier message stopped), at most `limit`.
 */
export function teamsToAsk<Team extends { teamId: string }>(
  left: Team,
  activeTeams: Team[],
  askedThrough: string | undefined,
  limit: number,
): { teams: Team[]; more: boolean } {
  const others = activeTeams.filter((team) => team.teamId !== left.teamId).sort((a, b) => (a.teamId < b.teamId ? -1 : a.teamId > b.teamId ? 1 : 0));
  const ordered = askedThrough === undefined ? [left, ...others] : others.filter((team) => team.teamId > askedThrough);
  return { teams: ordered.slice(0, limit), more: ordered.length > limit };
}

/**
 * The link goes only when a team said they are not in it and none has them or could not say: a team gone, or one
 * that answers 403, says nothing about them, so every team answering 403 (the app blocked across the tenant) keeps it.
 */
export function departureVerdict(asked: AskedTeam[], progress: { goneFromOneAlready: boolean; moreTeamsToAsk: boolean }): DepartureVerdict {
  let goneFromOne = progress.goneFromOneAlready;
  for (const { theTeamTheyLeft, answer } of asked) {
    if (answer.kind === "member") return theTeamTheyLeft ? { kind: "ask-again-later" } : { kind: "keep", because: "still-a-member" };
    if (answer.kind === "unknown") return { kind: "keep", because: "not-known", reason: answer.reason };
    if (answer.kind === "held-back") return { kind: "ask-when-free", retryInSeconds: answer.retryInSeconds, goneFromOne };
    if (answer.kind === "not-member") goneFromOne = true;
  }
  if (progress.moreTeamsToAsk) return { kind: "ask-more-teams", goneFromOne };
  return goneFromOne ? { kind: "remove" } : { kind: "keep", because: "never-said-gone" };
}

/** One check per member the event names (an event naming someone twice queues one). */
export async function queueDepartureChecks(
  storage: StorageClients,
  event: { tenantId: string; teamId: string; serviceUrl: string; members: DepartedMember[] },
): Promise<number> {
  const members = [...new Map(event.members.map((member) => [member.id, member])).values()];
  for (const member of members) {
    const check: MemberLeftMessage = { kind: "member-left", tenantId: event.tenantId, teamId: event.teamId, serviceUrl: event.serviceUrl, member };
    await storage.send(QUEUES.memberSync, check, { delaySeconds: DEPARTURE_CHECK_DELAY_SECONDS });
  }
  return members.length;
}

/**
 * One `member-left` message: if the member is linked automatically, Teams is asked, team by team (paced, each read
 * tried again a few times while Teams fails), whether they are still in a team with the bot, stopping at the first
 * that has them; when a team said they are gone and none has them, their automatic link is removed. Says what happened
 * (naming nobody). Run again for the same member, it finds the link gone and asks Teams nothing.
 */
export async function takeDepartureCheck(
  ctx: Pick<AppContext, "storage" | "teams" | "identities" | "now">,
  message: MemberLeftMessage,
): Promise<string> {
  const { tenantId, member } = message;
  const identity = member.aadObjectId
    ? await ctx.identities.get("msteams", tenantId, member.aadObjectId)
    : await ctx.identities.findTeamsUser(tenantId, member.id);
  // Not linked, or linked by the person themselves: nothing to forget, nothing to ask Teams.
  if (identity?.how !== "auto") return "Teams: a member who left a team has no automatic link: nothing to check";

  const startedAt = message.startedAt ?? ctx.now().toISOString();
  const left = { teamId: message.teamId, serviceUrl: message.serviceUrl };
  const activeTeams = await new TeamsInstallations(ctx.storage).activeTeams(tenantId);
  const { teams, more } = teamsToAsk(left, activeTeams, message.askedThrough, TEAMS_PER_MESSAGE);
  const asked: AskedTeam[] = [];
  for (const team of teams) {
    if (asked.length > 0) await sleep(MS_BETWEEN_READS);
    const answer = await askTeam(ctx, tenantId, team, member.id);
    asked.push({ theTeamTheyLeft: team.teamId === left.teamId, answer });
    if (answer.kind === "member" || answer.kind === "unknown" || answer.kind === "held-back") break;
  }
  const verdict = departureVerdict(asked, { goneFromOneAlready: message.goneFromOne ?? false, moreTeamsToAsk: more });

  switch (verdict.kind) {
    case "ask-more-teams": {
      const askedThrough = teams.filter((team) => team.teamId !== left.teamId).at(-1)?.teamId ?? "";
      const next: MemberLeftMessage = { ...message, askedThrough, goneFromOne: verdict.goneFromOne, startedAt };
      await ctx.storage.send(QUEUES.memberSync, next, { delaySeconds: SECONDS_BETWEEN_MESSAGES });
      return `Teams: a member who left a team is in none of the ${asked.length} team(s) just asked; the next teams are asked next`;
    }
    case "ask-when-free": {
      // From the team held back: the teams answered before it in this message are not asked again.
      const answered = teams.slice(0, asked.length - 1);
      const answeredOthers = answered.filter((team) => team.teamId !== left.teamId);
      const askedThrough = answeredOthers.at(-1)?.teamId ?? (answered.length > 0 ? (message.askedThrough ?? "") : message.askedThrough);
      const next: MemberLeftMessage = {
        ...message,
        ...(askedThrough === undefined ? {} : { askedThrough }),
        ...(verdict.goneFromOne ? { goneFromOne: true } : {}),
        startedAt,
      };
      await ctx.storage.send(QUEUES.memberSync, next, { delaySeconds: verdict.retryInSeconds });
      return `Teams: a member who left a team could not be checked yet (the app's Teams budget had no slot for the read): checked again in ${verdict.retryInSeconds}s`;
    }
    case "ask-again-later": {
      const times = message.listedAgain ?? 0;
      if (times >= MAX_LISTED_AGAIN) return "Teams: a member who left a team is in that team again: their automatic link is kept";
      const delaySeconds = LISTED_AGAIN_DELAY_SECONDS * (times + 1);
      const again: MemberLeftMessage = {
        kind: "member-left",
        tenantId,
        teamId: left.teamId,
        serviceUrl: left.serviceUrl,
        member,
        listedAgain: times + 1,
      };
      await ctx.storage.send(QUEUES.memberSync, again, { delaySeconds });
      return `Teams: a member who left a team is still listed in it: asked again in ${delaySeconds}s`;
    }
    case "keep":
      if (verdict.because === "still-a-member")
        return "Teams: a member who left a team is still in another team with the bot: their automatic link is kept";
      if (verdict.because === "never-said-gone") {
        return "Teams: a member who left a team: their automatic link is kept, no team with the bot said they are gone (each one answered 403 or is gone)";
      }
      return `Teams: a member who left a team: their automatic link is kept, whether they are still in a team with the bot is not known (${verdict.reason})`;
    case "remove": {
      const followed = await ctx.identities.followAutoLink("msteams", tenantId, identity.chatUserId, undefined, startedAt);
      return followed === "removed"
        ? "Teams: a member who left a team is in no team with the bot any more: their automatic link is removed"
        : `Teams: a member who left a team is in no team with the bot any more; their link changed meanwhile (${followed}): left as it is`;
    }
  }
}

/**
 * One team's answer, asked again a few times while Teams fails. The read spends the tenant's budget: a read our own
 * pacing holds back is answered `held-back` at once, and the check waits for its slot on the queue.
 */
async function askTeam(
  ctx: Pick<AppContext, "teams">,
  tenantId: string,
  team: { teamId: string; serviceUrl: string },
  memberId: string,
): Promise<TeamAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.teams.getMember(team.serviceUrl, team.teamId, memberId, { tenantId });
      return { kind: "member" };
    } catch (error) {
      const wait = retryDelayMs(error, attempt);
      if (wait === undefined) return teamAnswerFromReadFailure(error);
      await sleep(wait);
    }
  }
}
