import type { Person } from "../domain/issue";
import type { TeamsMember } from "./connector";

/**
 * The person a Teams member is, as the Bot Connector describes them: their email (else their UPN), lower-cased, and
 * their name. Undefined for a member without one, and for a shared channel's guest from another tenant (not this
 * tenant's person).
 */
export function teamsMemberPerson(
  member: Pick<TeamsMember, "email" | "userPrincipalName" | "name" | "tenantId">,
  tenantId: string,
): Person | undefined {
  if (member.tenantId && member.tenantId !== tenantId) return undefined;
  const email = (member.email ?? member.userPrincipalName)?.toLowerCase();
  if (!email?.includes("@")) return undefined;
  return { email, ...(member.name ? { name: member.name } : {}) };
}
