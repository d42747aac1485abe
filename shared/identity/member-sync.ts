import { z } from "zod";
import { ConnectorError, TeamsBudgetSpent, UntrustedServiceUrlError } from "../teams/connector";
import { teamsThrottleWaitSeconds } from "../teams/pacing";
import { QUEUES, type StorageClients } from "../storage/clients";
import { recordAutoLink } from "./auto-link";
import { IdentityRepository } from "../storage/identities";
import { teamsMemberPerson } from "../teams/member-person";
import type { AppContext } from "../context";
import { memberLeftMessageSchema, takeDepartureCheck } from "./member-departure";
import { heldBackMessageSchema, sendHeldBackMessage } from "../teams/held-back";
import { teamsLinkPromptActivity } from "./prompts";

/** One page of a team's roster to read: the queue carries the continuation token between pages. */
export const memberSyncMessageSchema = z.object({
  /** Absent on every roster page queued so far: a message without `kind` is one. */
  kind: z.literal("roster-page").optional(),
  tenantId: z.string().min(1),
  serviceUrl: z.url(),
  teamId: z.string().min(1),
  continuationToken: z.string().optional(),
  /** This page's try, counting Teams' failures (412, 5xx, no answer) so far; absent on the first. */
  attempt: z.number().int().positive().optional(),
  /** The 429s in a row Teams answered this page's read with: one more without Retry-After waits longer. */
  throttles: z.number().int().positive().optional(),
});
export type MemberSyncMessage = z.infer<typeof memberSyncMessageSchema>;

/**
 * Everything on the `member-sync` queue: roster pages, checks of members who left a team, and Teams messages the
 * app's pacing held back (teams/held-back.ts).
 */
export const memberSyncQueueMessageSchema = z.discriminatedUnion("kind", [memberSyncMessageSchema, memberLeftMessageSchema, heldBackMessageSchema]);
export type MemberSyncQueueMessage = z.infer<typeof memberSyncQueueMessageSchema>;

/** Teams allows 14 member reads a second per conversation; a page a second stays far below. */
const SECONDS_BETWEEN_PAGES = 1;
/** Table writes in flight at once while linking a page (each link is three small writes). */
const LINKS_AT_ONCE = 16;
/**
 * Tries of one page while Teams fails (412, 5xx, no answer): with the backoff below, about 8 minutes in all
 * before giving up. Throttling (429) is waiting, not failing, and doesn't count.
 */
const MAX_PAGE_ATTEMPTS = 8;
const BACKOFF_BASE_SECONDS = 2;
const BACKOFF_CAP_SECONDS = 300;

/**
 * Reads one page (500 members) of a team's roster and links every member with an email automatically,
 * so the Assign menu lists the team from the first card; an automatic link whose member's email or name changed
 * since is linked again (a link someone made, or undid, stays as it is). Returns the next page's message, if any.
 */
export async function syncMemberPage(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "now">,
  message: MemberSyncMessage,
): Promise<{
  linked: number;
  /** Automatic links made again because the member's email or name changed. */
  updated?: number;
  next?: MemberSyncMessage;
  stopped?: string;
  gaveUp?: string;
  again?: { message: MemberSyncMessage; delaySeconds: number; failure?: string };
}> {
  let page;
  const askedAt = deps.now();
  try {
    page = await deps.teams.pagedMembers(message.serviceUrl, message.teamId, message.continuationToken, { tenantId: message.tenantId });
  } catch (error) {
    if (error instanceof UntrustedServiceUrlError) throw error;
    // Our own pacing had no slot for the read: the same page again once one is free (waiting is not failing).
    if (error instanceof TeamsBudgetSpent) return { linked: 0, again: { message, delaySeconds: Math.max(1, Math.ceil(error.retryAfterSec ?? 1)) } };
    const answered = error instanceof ConnectorError ? error : undefined;
    // Throttled: the same page again once Teams says, or, when it doesn't, longer after each 429 in a row, through
    // the queue (waiting is not failing, and never ends the read).
    if (answered?.status === 429) {
      const throttles = (message.throttles ?? 0) + 1;
      const delaySeconds =
        answered.retryAfterSec === undefined ? teamsThrottleWaitSeconds(throttles) : Math.max(1, Math.ceil(answered.retryAfterSec));
      return { linked: 0, again: { message: { ...message, throttles }, delaySeconds } };
    }
    const failure = answered
      ? `Teams answered ${answered.status}${answered.code ? ` ${answered.code}` : ""}`
      : `no answer from Teams (${noAnswer(error)})`;
    // The bot was removed from the team (or the team is gone): nothing left to read.
    if (answered?.status === 403 || answered?.status === 404) return { linked: 0, stopped: failure };
    // Teams asks for 412 and 5xx to be retried with backoff; a request without an answer may pass next time too.
    // Through the queue, not the host's own retries: those are five, 2 s apart, then the poison queue.
    const passing = !answered || answered.status === 412 || answered.status >= 500;
    if (!passing) throw error;
    const { throttles: _inARow, ...failing } = message;
    const attempt = message.attempt ?? 1;
    if (attempt >= MAX_PAGE_ATTEMPTS) return { linked: 0, gaveUp: `after ${attempt} attempts (${failure})` };
    return { linked: 0, again: { message: { ...failing, attempt: attempt + 1 }, delaySeconds: backoffSeconds(attempt), failure } };
  }
  const identities = new IdentityRepository(deps.storage);
  let linked = 0;
  let updated = 0;
  const linkOne = async (member: (typeof page.members)[number]) => {
    const person = teamsMemberPerson(member, message.tenantId);
    if (!member.aadObjectId || !person) return;
    // What this instance read of the link may be a few seconds old: the writes below check it again.
    const { identity, optedOut } = await identities.lookup("msteams", message.tenantId, member.aadObjectId);
    if (optedOut || identity?.how === "explicit") return;
    if (identity && identity.person.email === person.email && identity.person.name === person.name) return;
    if (identity) {
      const followed = await identities.followAutoLink("msteams", message.tenantId, member.aadObjectId, person, askedAt.toISOString());
      if (followed === "relinked") updated++;
      return;
    }
    const user = { provider: "msteams" as const, scope: message.tenantId, chatUserId: member.aadObjectId, teamsUserId: member.id };
    const recorded = await recordAutoLink({ identities }, user, person, askedAt);
    if (recorded === "linked") linked++;
    else if (recorded === "relinked") updated++;
  };
  for (let i = 0; i < page.members.length; i += LINKS_AT_ONCE) {
    await Promise.all(page.members.slice(i, i + LINKS_AT_ONCE).map(linkOne));
  }
  const { attempt: _tries, throttles: _throttled, ...position } = message;
  return {
    linked,
    ...(updated ? { updated } : {}),
    ...(page.continuationToken ? { next: { ...position, continuationToken: page.continuationToken } } : {}),
  };
}

/** Exponential backoff with full jitter: try 1 → 1–2 s, 2 → 1–4 s, … capped at 5 minutes. */
function backoffSeconds(attempt: number): number {
  const ceiling = Math.min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1));
  return Math.max(1, Math.round(ceiling * Math.random()));
}

/** What names a failure without an HTTP answer (a timeout, a refused or reset connection): never a message body. */
function noAnswer(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return (error as Error).name ?? "network error";
}

export async function queueFirstPage(storage: StorageClients, first: MemberSyncMessage): Promise<void> {
  await storage.send(QUEUES.memberSync, first);
}

export async function queueNextPage(storage: StorageClients, next: MemberSyncMessage, delaySeconds = SECONDS_BETWEEN_PAGES): Promise<void> {
  await storage.send(QUEUES.memberSync, next, { delaySeconds });
}

/** One `member-sync` message: reads its page, queues what comes next (the next page, or this one again), and says what happened. */
export async function takeMemberSyncPage(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "now">,
  message: MemberSyncMessage,
): Promise<string> {
  const { linked, updated, next, stopped, gaveUp, again } = await syncMemberPage(deps, message);
  if (again) {
    await queueNextPage(deps.storage, again.message, again.delaySeconds);
    const why = again.failure ? `the roster read failed (${again.failure})` : "Teams throttled the roster read";
    return `Team members: ${why}; the page is read again in ${again.delaySeconds}s`;
  }
  if (stopped) return `Team members: roster read stopped (${stopped}): the bot can no longer read this team`;
  if (gaveUp) return `Team members: gave up reading the roster ${gaveUp}; members not linked yet are linked when they first use the bot`;
  if (next) await queueNextPage(deps.storage, next);
  return `Team members: ${linked} linked${updated ? `, ${updated} updated` : ""} from this page${next ? "; next page queued" : "; done"}`;
}

/** One `member-sync` message of any kind: says what happened. */
export async function takeMemberSyncMessage(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "identities" | "now" | "log">,
  message: MemberSyncQueueMessage,
): Promise<string> {
  switch (message.kind) {
    case "member-left":
      return takeDepartureCheck(deps, message);
    case "held-back-message":
      return sendHeldBackMessage(deps, message, ({ tenantId, to, why }, chat) => {
        const user = { tenantId, aadObjectId: to.aadObjectId, teamsUserId: to.teamsUserId ?? to.aadObjectId, name: to.name };
        return teamsLinkPromptActivity(deps.config, user, why, chat);
      });
    default:
      return takeMemberSyncPage(deps, message);
  }
}
