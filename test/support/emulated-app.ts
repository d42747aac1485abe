// The app's workflows run in the test's own process against Azurite (optionally behind the counting storage
// proxy) and the Teams and Slack emulators, with the settings the dev stack uses.
import { randomBytes } from "node:crypto";
import { emulatedAppSettings } from "../../dev/app-settings";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { loadConfig } from "../../shared/config";
import type { SlackContext } from "../../shared/context";
import { SlackTokens } from "../../shared/slack/client";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { createTeamsServices } from "../../shared/teams/services";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { testContext } from "./app-context";
import { installInSlackWorkspace } from "./installations";
import { drain } from "./queues";
import { startTestStorage, type CountedTestStorage, type TestStorage } from "./test-storage";

export interface EmulatedApp extends TestStorage {
  teams: TeamsEmulator;
  slack: SlackEmulator;
  /** The app settings (as `emulatedAppSettings` writes them) pointing at this storage and these emulators. */
  settings: Record<string, string>;
  /** What the app's workflows are given: the context the composition root builds from `settings`, Slack configured. */
  context(options?: { coalesceSeconds?: number; log?: (line: string) => void }): SlackContext;
}

export interface CountedEmulatedApp extends EmulatedApp, CountedTestStorage {}

export interface EmulatedAppOptions {
  /** Names the Slack signing secret, so two files never share one by accident. */
  name: string;
  ids: { appId: string; tenantId: string };
  /** Both emulators answer 429 past the platforms' rate limits. Default false. */
  enforceRateLimits?: boolean;
  /** Put the counting proxy between the app's storage and Azurite. */
  countRequests?: boolean;
}

export function startEmulatedApp(options: EmulatedAppOptions & { countRequests: true }): Promise<CountedEmulatedApp>;
export function startEmulatedApp(options: EmulatedAppOptions): Promise<EmulatedApp>;
export async function startEmulatedApp(options: EmulatedAppOptions): Promise<EmulatedApp> {
  const secret = `${options.name}-signing-secret-7f3a9c1e5b2d4f60`;
  const enforceRateLimits = options.enforceRateLimits ?? false;
  const storage = await startTestStorage({ countRequests: options.countRequests });
  const teams = await startTeamsEmulator(options.ids);
  const slack = await startSlackEmulator({ signingSecret: secret, clientId: "1.2", clientSecret: "s", enforceRateLimits });
  if (enforceRateLimits) teams.enforceRateLimits(true);
  const settings = emulatedAppSettings({
    storageConnectionString: storage.connectionString,
    teams,
    slack,
    oidc: { issuer: "http://127.0.0.1:9/", clientId: "c", clientSecret: "s" },
    publicBaseUrl: "http://127.0.0.1:7071",
    linkSigningKey: randomBytes(32).toString("hex"),
    slackSigningSecret: secret,
  });
  // The bot's managed identity reads its endpoint from the environment, as on Azure.
  process.env.IDENTITY_ENDPOINT = settings.IDENTITY_ENDPOINT;
  process.env.IDENTITY_HEADER = settings.IDENTITY_HEADER;
  return {
    ...storage,
    teams,
    slack,
    settings,
    context({ coalesceSeconds = 0, log } = {}) {
      const config = loadConfig({ ...settings, CARD_REFRESH_COALESCE_SECONDS: String(coalesceSeconds) });
      const context = testContext({ config, storage: storage.storage, teams: createTeamsServices(config).connector, ...(log ? { log } : {}) });
      return { ...context, slack: new SlackTokens(config.slack!, storage.storage) };
    },
    async stop() {
      await storage.stop();
      await Promise.all([teams.stop(), slack.stop()]);
    },
  };
}

export interface SlackChannelApp extends EmulatedApp {
  /** What the deliverer is given: `context()`. */
  deliverer: SlackContext;
  /** The #alerts channel of the "Ops" workspace, the bot installed there: the alerts' target. */
  target: { provider: "slack"; teamId: string; channel: string };
  /**
   * The alerts handler takes the queue message (put on the queue at `insertedAt`, when given), and the deliverer posts
   * what it planned.
   */
  take(message: unknown, insertedAt?: Date): Promise<void>;
  /** How many of the issue's cards are posted in the channel. */
  cards(issueId: string): number;
}

/** The emulated app with the bot installed in a Slack workspace with one channel: for alerts followed from intake to card. */
export async function startEmulatedAppInSlackChannel(options: EmulatedAppOptions): Promise<SlackChannelApp> {
  const app = await startEmulatedApp(options);
  const { slack } = app;
  const deliverer = app.context();
  const workspace = slack.addWorkspace({ name: "Ops" });
  await installInSlackWorkspace(app.direct, workspace).catch(async (error) => {
    await app.stop();
    throw error;
  });
  const target = { provider: "slack" as const, teamId: workspace.teamId, channel: slack.addChannel(workspace.teamId, { name: "alerts" }).id };
  return {
    ...app,
    deliverer,
    target,
    async take(message, insertedAt) {
      await takeAlert(app.storage, message, JSON.stringify(message), { deliverer, ...(insertedAt ? { insertedAt } : {}) });
      for (const queued of await drain(app.azurite.connectionString, "deliveries")) {
        const read = readDeliveryMessage(queued.body);
        if (!read.ok) throw new Error(`unexpected deliveries message: ${read.path}`);
        await deliverBatch(deliverer, read.batch);
      }
    },
    cards: (issueId) => slack.messages(target.channel).filter((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`)).length,
  };
}
