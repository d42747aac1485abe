import { config, type Config } from "./config";
import type { AppContext } from "./context";
import { SlackTokens } from "./slack/client";
import { StorageClients } from "./storage/clients";
import { IdentityRepository } from "./storage/identities";
import { createTeamsServices, type TeamsServices } from "./teams/services";

/** Process-wide services, built on first use from the validated configuration. */
export interface Runtime {
  config: Config;
  storage: StorageClients;
  teams: TeamsServices;
  /** Absent when Slack is not configured. */
  slack?: SlackTokens;
}

let runtime: Runtime | undefined;

export function getRuntime(): Runtime {
  if (!runtime) {
    const settings = config();
    const storage = new StorageClients(settings.storage);
    runtime = {
      config: settings,
      storage,
      teams: createTeamsServices(settings),
      slack: settings.slack ? new SlackTokens(settings.slack, storage) : undefined,
    };
  }
  return runtime;
}

/** The composition root: one invocation's context, on the process-wide services, logging to the invocation. */
export function appContext(invocation: { log: (...args: unknown[]) => void }): AppContext {
  const { config, storage, teams, slack } = getRuntime();
  return {
    config,
    storage,
    teams: teams.connector,
    slack,
    identities: new IdentityRepository(storage),
    log: (line) => invocation.log(line),
    now: () => new Date(),
  };
}

declare const __APP_VERSION__: string | undefined;
/** Set by the bundler from package.json; "dev" when running from source. */
export const APP_VERSION: string = typeof __APP_VERSION__ === "string" ? __APP_VERSION__ : "dev";
