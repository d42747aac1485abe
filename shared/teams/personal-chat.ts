import type { Config } from "../config";
import type { StorageClients } from "../storage/clients";
import { TeamsInstallations, type TeamsInstallation } from "../storage/installations";
import type { TeamsConnector } from "./connector";

export interface TeamsPerson {
  tenantId: string;
  aadObjectId: string;
  /** The `29:` id, when known; the object id works too for creating the chat. */
  teamsUserId?: string;
  /** A service URL that reaches the person's tenant (from an activity, or a stored reference). */
  serviceUrl: string;
}

/** The person's 1:1 chat with the bot: the stored one, or a new one created (and stored) now. */
export async function openPersonalChat(
  deps: { config: Config; storage: StorageClients; connector: TeamsConnector },
  person: TeamsPerson,
): Promise<TeamsInstallation> {
  const installations = new TeamsInstallations(deps.storage);
  const existing = await installations.findPersonal(person.tenantId, person.aadObjectId);
  if (existing?.active) return existing;
  const created = await deps.connector.createPersonalConversation(person.serviceUrl, deps.config.bot.appId, person.teamsUserId ?? person.aadObjectId, person.tenantId);
  const chat: TeamsInstallation = {
    tenantId: person.tenantId,
    conversationId: created.id,
    serviceUrl: person.serviceUrl,
    conversationType: "personal",
    userAadObjectId: person.aadObjectId,
    active: true,
    updatedAt: new Date().toISOString(),
  };
  await installations.save(chat);
  return chat;
}
