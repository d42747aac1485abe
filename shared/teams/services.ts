import type { Config } from "../config";
import { TeamsRequestAuthenticator } from "./auth";
import { TeamsConnector } from "./connector";
import { BotTokenProvider, botCredential } from "./credentials";

export interface TeamsServices {
  authenticator: TeamsRequestAuthenticator;
  connector: TeamsConnector;
}

/** Built once per process: the OpenID keys and the bot token are cached across invocations. */
export function createTeamsServices(config: Config): TeamsServices {
  return {
    authenticator: new TeamsRequestAuthenticator(config.bot),
    connector: new TeamsConnector(new BotTokenProvider(botCredential(config.bot)), config.bot.serviceUrlHosts),
  };
}
