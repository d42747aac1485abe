// The whole app as it runs in dev: Azurite, the Teams and Slack emulators (in this process, so tests
// can inspect them), and the built bundle served by the local host in its own Node process.
import { randomBytes } from "node:crypto";
import { emulatedAppSettings } from "../../dev/app-settings";
import type { ChatPageOptions } from "../../dev/chat-page";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";
import { startOidcProvider, type OidcProvider } from "../../dev/emulators/oidc";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { StorageClients } from "../../shared/storage/clients";
import { anAlert } from "../fixtures/issues";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { freePort } from "../support/ports";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { sendBase64Json } from "../support/queues";
import { startStorageProxy, type StorageProxy } from "../support/storage-proxy";
import { waitFor } from "../support/wait";

export { freePort };

export const SLACK_SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef";

export interface Stack {
  azurite: Azurite;
  teams: TeamsEmulator;
  slack: SlackEmulator;
  /** Absent in stacks built elsewhere (soak). */
  discord?: DiscordEmulator;
  oidc: OidcProvider;
  /** The first host process; `hosts` lists every one (several instances share the storage account). */
  host: HostProcess;
  hosts: HostProcess[];
  /** Present with `countStorage`: every request the app makes to storage, counted. */
  storageProxy?: StorageProxy;
  storage: StorageClients;
  /** `${host.url}/api` */
  api: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string | undefined>;
  slackRateLimits?: boolean;
  /** Host processes (Functions instances) sharing the storage account. Default 1. */
  hosts?: number;
  /** Put a counting proxy between the app and Azurite (the test's own storage clients bypass it). */
  countStorage?: boolean;
  /** Discord REST buckets: requests per window (default 5 per 5 s). */
  discordBucket?: { limit: number; windowMs: number };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const azurite = await startTestAzurite();
  const teams = await startTeamsEmulator({ appId: "6a1d3c2e-0000-4000-8000-00000000b07a", tenantId: "72f988bf-0000-4000-8000-000000000001" });
  const slack = await startSlackEmulator({
    signingSecret: SLACK_SIGNING_SECRET,
    clientId: "1234.5678",
    clientSecret: "slack-client-secret-for-e2e",
    enforceRateLimits: options.slackRateLimits ?? true,
  });
  const discord = await startDiscordEmulator({ bucketLimit: options.discordBucket?.limit, bucketWindowMs: options.discordBucket?.windowMs });
  const port = await freePort();
  const oidc = await startOidcProvider({
    clients: [{ clientId: "triage-relay", clientSecret: "oidc-client-secret-for-e2e", redirectUris: [`http://127.0.0.1:${port}/api/link/callback`] }],
  });
  const storageProxy = options.countStorage ? await startStorageProxy(azurite) : undefined;
  const env = emulatedAppSettings({
    storageConnectionString: storageProxy?.connectionString ?? azurite.connectionString,
    teams,
    slack,
    discord,
    oidc: { issuer: oidc.issuer, clientId: "triage-relay", clientSecret: "oidc-client-secret-for-e2e" },
    publicBaseUrl: `http://127.0.0.1:${port}`,
    linkSigningKey: randomBytes(32).toString("hex"),
    slackSigningSecret: SLACK_SIGNING_SECRET,
  });
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const stopServices = async () => {
    await storageProxy?.stop();
    await Promise.all([azurite.stop(), teams.stop(), slack.stop(), discord.stop(), oidc.stop()]);
  };
  const hosts: HostProcess[] = [];
  try {
    hosts.push(await startHostProcess({ env, port }));
    for (let n = 1; n < (options.hosts ?? 1); n++) hosts.push(await startHostProcess({ env }));
  } catch (error) {
    await Promise.all(hosts.map((host) => host.stop()));
    await stopServices();
    throw error;
  }
  const host = hosts[0]!;
  return {
    azurite,
    teams,
    slack,
    discord,
    oidc,
    host,
    hosts,
    storageProxy,
    storage: new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString }),
    api: `${host.url}/api`,
    env,
    async stop() {
      await Promise.all(hosts.map((h) => h.stop()));
      await stopServices();
    },
  };
}

/** A Slack workspace installed through the real OAuth flow (authorize → redirect → code exchange). */
export async function installSlackWorkspace(stack: Stack, name: string, options: { rotation?: boolean } = {}): Promise<string> {
  const workspace = stack.slack.addWorkspace({ name, rotation: options.rotation });
  const installer = stack.slack.addUser(workspace.teamId, { name: "installer", email: `installer@${name.toLowerCase()}.example` }).id;
  stack.slack.setAuthorizeAs({ teamId: workspace.teamId, userId: installer });
  const start = await fetch(`${stack.api}/slack/install`, { redirect: "manual" });
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const done = await fetch(authorize.headers.get("location")!, { headers: { cookie: start.headers.get("set-cookie")!.split(";")[0]! } });
  if (done.status !== 200) throw new Error(`Slack install of ${name} failed: ${done.status}`);
  return workspace.teamId;
}

/** What the dev chat page needs to drive this stack: its emulators, the app, and its storage for test alerts. */
export function chatPageOptions(stack: Stack): Pick<ChatPageOptions, "teams" | "slack" | "appUrl" | "storageConnectionString"> {
  return { teams: stack.teams, slack: stack.slack, appUrl: stack.host.url, storageConnectionString: stack.azurite.connectionString };
}

/** Puts an alert of `issueId` for one Teams conversation on the alerts queue, and waits for its card there. */
export async function alertCardInTeams(stack: Stack, conversationId: string, ids: { alertId: string; issueId: string }) {
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: ids.alertId, issue: { id: ids.issueId }, targets: [{ provider: "msteams", conversationId }] }),
  );
  return waitFor(() => stack.teams.messages(conversationId).find((m) => JSON.stringify(m.activity).includes(`"issueId":"${ids.issueId}"`)), {
    timeoutMs: 30_000,
    description: `the card of ${ids.issueId} in ${conversationId}`,
  });
}
