import { config, type Config } from "./config";
import { StorageClients } from "./storage/clients";
import { createTeamsServices, type TeamsServices } from "./teams/services";

/** Process-wide services, built on first use from the validated configuration. */
export interface Runtime {
  config: Config;
  storage: StorageClients;
  teams: TeamsServices;
}

let runtime: Runtime | undefined;

export function getRuntime(): Runtime {
  if (!runtime) {
    const settings = config();
    runtime = { config: settings, storage: new StorageClients(settings.storage), teams: createTeamsServices(settings) };
  }
  return runtime;
}

declare const __APP_VERSION__: string | undefined;

/** Set by the bundler from package.json; "dev" when running from source. */
export const APP_VERSION: string = typeof __APP_VERSION__ === "string" ? __APP_VERSION__ : "dev";
