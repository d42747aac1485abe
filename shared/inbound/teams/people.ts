import type { Actor, Person } from "../../domain/issue";
import { autoLinkVerified, linkedOrAutoLinked, ProfileReadUnavailable } from "../../identity/auto-link";
import { sendTeamsLinkPrompt } from "../../identity/prompts";
import { conversationTypeOf, tenantOf, type TeamsActivity } from "../../teams/activity";
import { ConnectorError, TeamsBudgetSpent } from "../../teams/connector";
import { teamsMemberPerson } from "../../teams/member-person";
import { TEAMS_CALL_WAIT_MS } from "../../teams/pacing";
import { REPLY_WAIT_MS, safeSend, type ReplyOptions, type ReplyOutcome } from "./safe-send";
import type { AppContext } from "../../context";
import { heldBackActivity, queueHeldBack } from "../../teams/held-back";
import { sendToPersonalChat, type PersonalSend } from "../../teams/personal-chat";

// Who a Teams user is, and how to reach them privately.

/**
 * Who clicked: the linked person, or the member's email from the Bot Connector (linked automatically,
 * when allowed). Without either the actor has no person, and actions that need one say so. Throws
 * `ProfileReadUnavailable` when Teams can't say who they are just now (or the tenant's Teams budget has no slot for
 * the read within `waitMs`).
 */
export async function identifyActor(ctx: AppContext, activity: TeamsActivity, tenantId: string, waitMs = TEAMS_CALL_WAIT_MS): Promise<Actor> {
  const label = activity.from.name ?? "a Teams user";
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return { label, surface: "teams" };
  const user = { provider: "msteams" as const, scope: tenantId, chatUserId: aadObjectId, teamsUserId: activity.from.id };
  const conversationId = activity.conversation.id.split(";")[0]!;
  const person = await linkedOrAutoLinked(autoLinkDeps(ctx), user, () =>
    memberPerson(ctx, activity.serviceUrl, conversationId, activity.from.id, tenantId, waitMs).catch((error: unknown) => {
      throw passingMemberReadFailure(error) ?? error;
    }),
  );
  return person ? { person, label, surface: "teams" } : { label, surface: "teams" };
}

/** Links a member automatically by the email (or UPN) the Bot Connector returns for them. */
export async function linkMember(
  ctx: AppContext,
  serviceUrl: string,
  conversationId: string,
  memberId: string,
  aadObjectId: string,
  tenantId: string,
): Promise<Person | undefined> {
  const user = { provider: "msteams" as const, scope: tenantId, chatUserId: aadObjectId, teamsUserId: memberId };
  return autoLinkVerified(autoLinkDeps(ctx), user, () => memberPerson(ctx, serviceUrl, conversationId, memberId, tenantId));
}

function autoLinkDeps(ctx: AppContext) {
  return { identities: ctx.identities, autoLink: ctx.config.autoLink, log: (line: string) => ctx.log(`Teams: ${line}`), now: () => ctx.now() };
}

/** The member as the Bot Connector describes them, when they are this tenant's person with an email. */
async function memberPerson(
  ctx: AppContext,
  serviceUrl: string,
  conversationId: string,
  memberId: string,
  tenantId: string,
  waitMs = TEAMS_CALL_WAIT_MS,
): Promise<Person | undefined> {
  return teamsMemberPerson(await ctx.teams.getMember(serviceUrl, conversationId, memberId, { tenantId, waitMs }), tenantId);
}

/**
 * A member read failure that says nothing about who the member is, only that Teams could not answer now: the Bot
 * Connector throttling or failing (408, 412, 429, 5xx; its own retry covers none of them), a timeout, or no
 * connection. Undefined for anything else. (Not the delivery's `classify`: it retries every failure it doesn't know,
 * where a click that is told "try again" instead of "link your account" must be sure.)
 */
function passingMemberReadFailure(error: unknown): ProfileReadUnavailable | undefined {
  if (error instanceof TeamsBudgetSpent)
    return new ProfileReadUnavailable("the app's Teams budget had no slot for the read in time", error.retryAfterSec);
  if (error instanceof ConnectorError) {
    const passing = error.status === 408 || error.status === 412 || error.status === 429 || error.status >= 500;
    return passing ? new ProfileReadUnavailable(`HTTP ${error.status}${error.code ? ` ${error.code}` : ""}`, error.retryAfterSec) : undefined;
  }
  const name = (error as Error | undefined)?.name;
  if (name === "TimeoutError" || name === "AbortError") return new ProfileReadUnavailable("no answer in time");
  if (error instanceof TypeError && error.message === "fetch failed") return new ProfileReadUnavailable("could not connect");
  return undefined;
}

/** Sends the person a private link to link their account (a gone 1:1 chat is replaced); how that went. */
export async function promptToLink(
  ctx: AppContext,
  activity: TeamsActivity,
  aadObjectId: string,
  tenantId: string,
  why: string,
): Promise<PersonalSend> {
  return sendTeamsLinkPrompt(
    ctx,
    { serviceUrl: activity.serviceUrl, tenantId, aadObjectId, teamsUserId: activity.from.id, name: activity.from.name },
    why,
  );
}

/**
 * Whether a link prompt carries a link: one is made exactly when a sign-in provider is configured (`linkUrl`);
 * without one the prompt says why there is none, and so must the words beside it.
 */
export function linkPromptOffersLink(ctx: AppContext): boolean {
  return ctx.config.oidc !== undefined;
}

/**
 * A word for one person: in a 1:1 chat, right there; elsewhere, in their 1:1 chat with the bot. Its calls wait at
 * most `waitMs` each for a slot in the tenant's Teams budget; held back past that, it is queued and sent once a slot
 * is free (`queued`), unless `queueIfHeldBack` is false (the caller tries again itself: `held-back`).
 */
export async function tellPrivately(
  ctx: AppContext,
  activity: TeamsActivity,
  text: string,
  { waitMs = REPLY_WAIT_MS, queueIfHeldBack = true }: ReplyOptions = {},
): Promise<ReplyOutcome> {
  const tenantId = tenantOf(activity)!;
  const words = { type: "message" as const, text };
  if (conversationTypeOf(activity) === "personal") {
    return safeSend(ctx, { serviceUrl: activity.serviceUrl, conversationId: activity.conversation.id, tenantId }, words, { waitMs, queueIfHeldBack });
  }
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return "not-sent";
  // A 1:1 chat Teams says is gone is marked inactive and replaced; a failure is logged (there is no one else to tell).
  const person = { tenantId, aadObjectId, teamsUserId: activity.from.id, serviceUrl: activity.serviceUrl };
  const result = await sendToPersonalChat(ctx, person, () => words, undefined, { waitMs });
  if (result.sent) return "sent";
  ctx.log(`Teams: private notice not delivered (${result.problem}: ${result.detail})`);
  if (result.problem !== "held-back") return "not-sent";
  if (!queueIfHeldBack) return "held-back";
  const to = { kind: "person" as const, aadObjectId, teamsUserId: activity.from.id };
  const queued = await queueHeldBack(ctx, { tenantId, serviceUrl: activity.serviceUrl, to, message: heldBackActivity(words) }, result.retryInSeconds);
  return queued ? "queued" : "held-back";
}

/**
 * A private word that needs no storage, which may be what failed: in a 1:1 chat, right there; elsewhere in their 1:1
 * chat with the bot, asked of Teams (creating it returns the one that exists) rather than read from the record.
 */
export async function tellWithoutStorage(ctx: AppContext, activity: TeamsActivity, text: string): Promise<void> {
  const tenantId = tenantOf(activity)!;
  const conversationId =
    conversationTypeOf(activity) === "personal"
      ? activity.conversation.id
      : (await ctx.teams.createPersonalConversation(activity.serviceUrl, ctx.config.bot.appId, activity.from.id, tenantId, REPLY_WAIT_MS)).id;
  await ctx.teams.send(activity.serviceUrl, conversationId, { type: "message", text }, { tenantId, waitMs: REPLY_WAIT_MS });
}
