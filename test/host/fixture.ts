// The fixture app (fixtures/app.js) served in-process, with its log lines captured.
import { createRequire } from "node:module";
import { join } from "node:path";
import { startLocalHost, type LocalHost, type LocalHostOptions } from "../../dev/host/local-host";

export const FIXTURE_APP = join(__dirname, "fixtures", "app.js");
export const FIXTURE_HOST_JSON = join(__dirname, "fixtures", "host.json");

export interface FixtureCall {
  name: string;
  input: unknown;
  triggerMetadata: Record<string, unknown>;
  at: number;
}

interface FixtureApp {
  calls: FixtureCall[];
  maxConcurrent: number;
  reset(): void;
}

/** The same module instance the host loads: both go through Node's own `require` cache. */
export const fixtureApp = createRequire(__filename)(FIXTURE_APP) as FixtureApp;

export interface FixtureHost extends LocalHost {
  logs: string[];
}

export async function startFixtureHost(options: Partial<LocalHostOptions> = {}): Promise<FixtureHost> {
  const logs: string[] = [];
  const host = await startLocalHost({
    appPath: FIXTURE_APP,
    hostJsonPath: FIXTURE_HOST_JSON,
    port: 0,
    localSettingsPath: false,
    log: (line) => logs.push(line),
    ...options,
  });
  return { ...host, logs };
}

export function callsOf(name: string): FixtureCall[] {
  return fixtureApp.calls.filter((call) => call.name === name);
}
