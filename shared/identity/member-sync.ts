import { z } from "zod";
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
): Promise<{ linked: number; next?: MemberSyncMessage }> {
  const page = await deps.teams.pagedMembers(message.serviceUrl, message.teamId, message.continuationToken);
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

export async function queueNextPage(storage: StorageClients, next: MemberSyncMessage): Promise<void> {
  await storage.send(QUEUES.memberSync, next, { delaySeconds: SECONDS_BETWEEN_PAGES });
}
