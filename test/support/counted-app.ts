// The app's workflows run in the test's own process against Azurite behind the counting storage proxy and the
// Teams and Slack emulators: for tests that count the storage requests a workflow makes.
import { randomBytes } from "node:crypto";
import { emulatedAppSettings } from "../../dev/app-settings";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { loadConfig } from "../../shared/config";
import { SlackTokens } from "../../shared/slack/client";
import { StorageClients } from "../../shared/storage/clients";
import { createTeamsServices } from "../../shared/teams/services";
import { startTestAzurite, type Azurite } from "./azurite";
import { startStorageProxy, type StorageProxy } from "./storage-proxy";
import type { SlackContext } from "../../shared/context";
import { testContext } from "./app-context";

export interface CountedApp {
  azurite: Azurite;
  proxy: StorageProxy;
  teams: TeamsEmulator;
  slack: SlackEmulator;
  /** The app's storage, through the counting proxy. */
  storage: StorageClients;
  /** The test's own look at storage, not counted. */
  direct: StorageClients;
  /** What the app's workflows are given: the context the composition root builds, Slack configured. */
  runtime: SlackContext;
  stop(): Promise<void>;
}

export async function startCountedApp(options: {
  name: string;
  enforceRateLimits: boolean;
  coalesceSeconds: number;
  ids: { appId: string; tenantId: string };
}): Promise<CountedApp> {
  const secret = `${options.name}-secret`;
  const azurite = await startTestAzurite();
  const proxy = await startStorageProxy(azurite);
  const teams = await startTeamsEmulator(options.ids);
  const slack = await startSlackEmulator({ signingSecret: secret, clientId: "1.2", clientSecret: "s", enforceRateLimits: options.enforceRateLimits });
  if (options.enforceRateLimits) teams.enforceRateLimits(true);
  const settings = emulatedAppSettings({
    storageConnectionString: proxy.connectionString,
    teams,
    slack,
    oidc: { issuer: "http://127.0.0.1:9/", clientId: "c", clientSecret: "s" },
    publicBaseUrl: "http://127.0.0.1:7071",
    linkSigningKey: randomBytes(32).toString("hex"),
    slackSigningSecret: secret,
  });
  process.env.IDENTITY_ENDPOINT = settings.IDENTITY_ENDPOINT;
  process.env.IDENTITY_HEADER = settings.IDENTITY_HEADER;
  const storage = new StorageClients({ kind: "connectionString", connectionString: proxy.connectionString });
  const direct = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
  const config = loadConfig({ ...settings, CARD_REFRESH_COALESCE_SECONDS: String(options.coalesceSeconds) });
  const slackTokens = new SlackTokens(config.slack!, storage);
  const runtime = { ...testContext({ config, storage, teams: createTeamsServices(config).connector }), slack: slackTokens };
  return {
    azurite,
    proxy,
    teams,
    slack,
    storage,
    direct,
    runtime,
    async stop() {
      await proxy.stop();
      await Promise.all([azurite.stop(), teams.stop(), slack.stop()]);
    },
  };
}
