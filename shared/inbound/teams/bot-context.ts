import type { Config } from "../../config";
import type { IdentityRepository } from "../../storage/identities";
import type { StorageClients } from "../../storage/clients";
import type { OutgoingActivity, TeamsConnector } from "../../teams/connector";

export interface TeamsBot {
  config: Config;
  storage: StorageClients;
  connector: TeamsConnector;
  /** One per invocation: its lookups are cached. */
  identities: IdentityRepository;
  log: (line: string) => void;
  now?: () => Date;
}

export async function safeSend(bot: TeamsBot, serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<void> {
  try {
    await bot.connector.send(serviceUrl, conversationId, activity);
  } catch (error) {
    bot.log(`Teams: reply not sent: ${(error as Error).message}`);
  }
}

export function now(bot: TeamsBot): Date {
  return bot.now?.() ?? new Date();
}
