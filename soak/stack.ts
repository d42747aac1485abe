// The whole local stack for the fault suite: Azurite (in memory), the Teams, Slack and OIDC emulators,
// fault proxies in front of the Bot Connector and the Slack Web API, and the built app in a local host
// process that can be killed and restarted on the same port against the same Azurite.
import { randomBytes } from "node:crypto";
import { QueueClient } from "@azure/storage-queue";
import { emulatedAppSettings } from "../dev/app-settings";
import { startOidcProvider, type OidcProvider } from "../dev/emulators/oidc";
import { startSlackEmulator, type SlackEmulator } from "../dev/emulators/slack";
import { startTeamsEmulator, type Activity, type TeamsEmulator, type TeamsTeam, type TeamsUser } from "../dev/emulators/teams";
import { StorageClients } from "../shared/storage/clients";
import { freePort, installSlackWorkspace, type Stack } from "../test/e2e/stack";
import { startTestAzurite, type Azurite } from "../test/support/azurite";
import { startSoakHost, type SoakHost } from "../test/support/soak-host";
import { startFaultProxy, type FaultProxy } from "./fault-proxy";

export const SLACK_SIGNING_SECRET = "soak-signing-secret-0123456789abcdef";
const OIDC_CLIENT_SECRET = "oidc-client-secret-for-soak";
const SLACK_CLIENT_SECRET = "slack-client-secret-for-soak";

export interface SoakStack extends Stack {
  host: SoakHost;
  /** In front of the Teams emulator's serviceUrl: activities must carry `teamsServiceUrl`. */
  teamsProxy: FaultProxy;
  /** In front of the Slack Web API (SLACK_API_URL). */
  slackProxy: FaultProxy;
  /** `${teamsProxy.url}/teams/` */
  teamsServiceUrl: string;
  /** Every line every host process printed, across restarts. */
  logs(): string[];
  /** SIGKILL the host, then start a new one on the same port; resolves once it listens. */
  crashAndRestart(): Promise<void>;
  /** Host processes that exited without being asked to (crashes). */
  unexpectedExits(): number;
  /** The values that must never appear in a log line. */
  secrets: string[];
}

export async function startSoakStack(options: { leaseSeconds?: number } = {}): Promise<SoakStack> {
  const azurite = await startTestAzurite();
  const teams = await startTeamsEmulator({ appId: "6a1d3c2e-0000-4000-8000-00000000b07a", tenantId: "72f988bf-0000-4000-8000-000000000001" });
  const slack = await startSlackEmulator({
    signingSecret: SLACK_SIGNING_SECRET,
    clientId: "1234.5678",
    clientSecret: SLACK_CLIENT_SECRET,
    enforceRateLimits: true,
  });
  const teamsProxy = await startFaultProxy(teams.url, "teams");
  const slackProxy = await startFaultProxy(slack.url, "slack");
  const port = await freePort();
  const oidc = await startOidcProvider({
    clients: [{ clientId: "triage-relay", clientSecret: OIDC_CLIENT_SECRET, redirectUris: [`http://127.0.0.1:${port}/api/link/callback`] }],
  });
  const linkSigningKey = randomBytes(32).toString("hex");
  const env = emulatedAppSettings({
    storageConnectionString: azurite.connectionString,
    teams,
    slack,
    oidc: { issuer: oidc.issuer, clientId: "triage-relay", clientSecret: OIDC_CLIENT_SECRET },
    publicBaseUrl: `http://127.0.0.1:${port}`,
    linkSigningKey,
    slackSigningSecret: SLACK_SIGNING_SECRET,
  });
  env.SLACK_API_URL = `${slackProxy.url}/api/`;

  const lines: string[] = [];
  let expectedExit = false;
  let unexpectedExits = 0;
  const launch = async () => {
    const host = await startSoakHost({ env, port, leaseSeconds: options.leaseSeconds, onLine: (line) => lines.push(line) });
    void host.exited.then(() => {
      if (!expectedExit) unexpectedExits++;
    });
    return host;
  };
  let host: SoakHost;
  try {
    host = await launch();
  } catch (error) {
    await Promise.all([azurite.stop(), teams.stop(), slack.stop(), oidc.stop(), teamsProxy.stop(), slackProxy.stop()]);
    throw error;
  }
  const alerts = new QueueClient(azurite.connectionString, "alerts");
  await alerts.createIfNotExists();

  const stack: SoakStack = {
    azurite,
    teams,
    slack,
    oidc,
    get host() {
      return host;
    },
    get hosts() {
      return [host];
    },
    storage: new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString }),
    api: `http://127.0.0.1:${port}/api`,
    env,
    teamsProxy,
    slackProxy,
    teamsServiceUrl: `${teamsProxy.url}/teams/`,
    logs: () => [...lines],
    async crashAndRestart() {
      expectedExit = true;
      await host.kill();
      expectedExit = false;
      host = await launch();
    },
    unexpectedExits: () => unexpectedExits,
    secrets: [SLACK_SIGNING_SECRET, SLACK_CLIENT_SECRET, OIDC_CLIENT_SECRET, linkSigningKey, teams.identityHeader, slack.clientSecret],
    async stop() {
      expectedExit = true;
      await host.stop();
      await Promise.all([azurite.stop(), teams.stop(), slack.stop(), oidc.stop(), teamsProxy.stop(), slackProxy.stop()]);
    },
  };
  return stack;
}

/** An activity as Teams sends it when the bot's service URL is the fault proxy. */
export function viaProxy(stack: SoakStack, activity: Activity): Activity {
  return { ...activity, serviceUrl: stack.teamsServiceUrl };
}

export interface TeamsPlace {
  user: TeamsUser;
  team: TeamsTeam;
  channel: string;
}

/** A Teams team with the bot added through the proxy's service URL (the app stores that URL). */
export async function addTeamsTeam(stack: SoakStack, name: string, email = `person@${name.toLowerCase()}.example`): Promise<TeamsPlace> {
  const user = stack.teams.addUser({ name: `${name} Person`, email });
  const team = stack.teams.addTeam({ name, members: [user] });
  const added = await stack.teams.post(`${stack.api}/messages`, viaProxy(stack, stack.teams.botAddedToTeam({ team, from: user })));
  if (added.status !== 200) throw new Error(`adding the bot to ${name} failed: ${added.status}`);
  return { user, team, channel: team.generalChannelId };
}

export interface SlackPlace {
  teamId: string;
  channel: string;
  user: string;
}

export async function addSlackWorkspace(stack: SoakStack, name: string, email = `ana@${name.toLowerCase()}.example`): Promise<SlackPlace> {
  const teamId = await installSlackWorkspace(stack, name);
  return {
    teamId,
    channel: stack.slack.addChannel(teamId, { name: `alerts-${name.toLowerCase()}` }).id,
    user: stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email }).id,
  };
}

export async function sendAlert(stack: SoakStack, alert: unknown): Promise<void> {
  await sendRawAlert(stack, Buffer.from(JSON.stringify(alert)).toString("base64"));
}

export async function sendRawAlert(stack: SoakStack, text: string): Promise<void> {
  await new QueueClient(stack.azurite.connectionString, "alerts").sendMessage(text);
}
