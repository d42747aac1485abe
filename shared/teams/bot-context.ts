import type { Config } from "../config";
import type { IdentityRepository } from "../identity/identities";
import type { StorageClients } from "../storage/clients";
import type { OutgoingActivity, TeamsConnector } from "./connector";

export interface TeamsBot {
  config: Config;
  storage: StorageClients;
  connector: TeamsConnector;
  /** One per invocation: its lookups are cached. */
  identities: IdentityRepository;
  log: (line: string) => void;
  now?: () => Date;
}

/** What the HTTP adapter answers: a status and, for invokes, the invoke response body. */
export interface BotReply {
  status: number;
  body?: unknown;
}

export const OK: BotReply = { status: 200 };

export function invokeError(statusCode: number, code: string, message: string): BotReply {
  return { status: statusCode, body: { statusCode, type: "application/vnd.microsoft.error", value: { code, message } } };
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
