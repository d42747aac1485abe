import { z } from "zod";
import { ConnectorError } from "../teams/connector";
import { QUEUES, type StorageClients } from "../storage/clients";
import { recordAutoLink } from "./auto-link";
import { IdentityRepository } from "../storage/identities";
import type { AppContext } from "../context";

/** One page of a team's roster to read: the queue carries the continuation token between pages. */
export const memberSyncMessageSchema = z.object({
  tenantId: z.string().min(1),
  serviceUrl: z.url(),
  teamId: z.string().min(1),
  continuationToken: z.string().optional(),
});
export type MemberSyncMessage = z.infer<typeof memberSyncMessageSchema>;

/** Teams allows 14 member reads a second per conversation; a page a second stays far below. */
const SECONDS_BETWEEN_PAGES = 1;
/** Table writes in flight at once while linking a page (each link is three small writes). */
const LINKS_AT_ONCE = 16;

/**
 * Reads one page (500 members) of a team's roster and links every member with an email automatically,
 * so the Assign menu lists the team from the first card. Returns the next page's message, if any.
 */
export async function syncMemberPage(
  deps: Pick<AppContext, "config" | "storage" | "teams">,
  message: MemberSyncMessage,
): Promise<{ linked: number; next?: MemberSyncMessage; stopped?: string; again?: { message: MemberSyncMessage; delaySeconds: number } }> {
  let page;
  try {
    page = await deps.teams.pagedMembers(message.serviceUrl, message.teamId, message.continuationToken);
  } catch (error) {
    if (!(error instanceof ConnectorError)) throw error;
    // Throttled: the same page again once Teams says, through the queue (waiting is not failing).
    if (error.status === 429) return { linked: 0, again: { message, delaySeconds: Math.max(1, Math.ceil(error.retryAfterSec ?? 5)) } };
    // The bot was removed from the team (or the team is gone): nothing left to read.
    if (error.status === 403 || error.status === 404)
      return { linked: 0, stopped: `Teams answered ${error.status}${error.code ? ` ${error.code}` : ""}` };
    throw error;
  }
  const identities = new IdentityRepository(deps.storage);
  let linked = 0;
  const linkOne = async (member: (typeof page.members)[number]) => {
    const email = (member.email ?? member.userPrincipalName)?.toLowerCase();
    if (!member.aadObjectId || !email?.includes("@")) return;
    if (member.tenantId && member.tenantId !== message.tenantId) return; // guests of a shared channel
    const { identity, optedOut } = await identities.lookup("msteams", message.tenantId, member.aadObjectId);
    if (identity || optedOut) return;
    const user = { provider: "msteams" as const, scope: message.tenantId, chatUserId: member.aadObjectId, teamsUserId: member.id };
    await recordAutoLink({ identities }, user, { email, ...(member.name ? { name: member.name } : {}) });
    linked++;
  };
  for (let i = 0; i < page.members.length; i += LINKS_AT_ONCE) {
    await Promise.all(page.members.slice(i, i + LINKS_AT_ONCE).map(linkOne));
  }
  return { linked, ...(page.continuationToken ? { next: { ...message, continuationToken: page.continuationToken } } : {}) };
}

export async function queueFirstPage(storage: StorageClients, first: MemberSyncMessage): Promise<void> {
  await storage.send(QUEUES.memberSync, first);
}

export async function queueNextPage(storage: StorageClients, next: MemberSyncMessage, delaySeconds = SECONDS_BETWEEN_PAGES): Promise<void> {
  await storage.send(QUEUES.memberSync, next, { delaySeconds });
}

/** One `member-sync` message: reads its page, queues what comes next (the next page, or this one again), and says what happened. */
export async function takeMemberSyncPage(deps: Pick<AppContext, "config" | "storage" | "teams">, message: MemberSyncMessage): Promise<string> {
  const { linked, next, stopped, again } = await syncMemberPage(deps, message);
  if (again) {
    await queueNextPage(deps.storage, again.message, again.delaySeconds);
    return `Team members: Teams throttled the roster read; the page is read again in ${again.delaySeconds}s`;
  }
  if (stopped) return `Team members: roster read stopped (${stopped}): the bot can no longer read this team`;
  if (next) await queueNextPage(deps.storage, next);
  return `Team members: ${linked} linked from this page${next ? "; next page queued" : "; done"}`;
}
