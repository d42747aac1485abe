// `npm run playground`: the app in Microsoft 365 Agents Playground, Microsoft's local Teams client.
//   Azurite (in memory) · Teams emulator (only its channel keys and managed-identity endpoint) ·
//   Slack and sign-in emulators · local host · signing bridge · Agents Playground, all on loopback.
// The Playground sends activities without a Bot Framework token; the app's auth stays as it is and
// the signing bridge (./bridge.ts) signs them. The conversations are in .m365agentsplayground.yml.
// The Playground forgets its chats when it stops, so the app's data is kept in memory for one run too.
// One Ctrl-C stops everything.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { emulatedAppSettings } from "../app-settings";
import { startAzurite } from "../azurite";
import { startOidcProvider } from "../emulators/oidc";
import { startSlackEmulator } from "../emulators/slack";
import { startTeamsEmulator } from "../emulators/teams";
import { buildIfStale } from "../host/build-if-stale";
import { startLocalHost } from "../host/local-host";
import { startSigningBridge } from "./bridge";
import { PLAYGROUND_CONFIG, playgroundServiceUrl, readPlaygroundWorld, startPlayground } from "./playground";

const ROOT = resolve(__dirname, "..", "..");
// 3978 is where the Playground and Bot Framework samples expect a bot; `npm start` (7071) can run beside it.
const PORT = Number(process.env.PORT ?? 3978);
const PLAYGROUND_PORT = Number(process.env.PLAYGROUND_PORT ?? 56150);
const CONFIG = process.env.M365_AGENTS_PLAYGROUND_CONFIG_PATH ?? PLAYGROUND_CONFIG;
const LOG_DIR = process.env.TRIAGE_DEV_DATA ?? join(ROOT, ".azurite");

async function main(): Promise<void> {
  const world = readPlaygroundWorld(readFileSync(CONFIG, "utf8"), CONFIG);
  const ingestToken = `dev-ingest-${randomBytes(24).toString("hex")}`;
  const oidcClientSecret = randomBytes(16).toString("hex");
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));

  try {
    const azurite = await startAzurite({ inMemory: true, ports: "random" });
    stoppers.push(azurite.stop);
    // Signs the bridge's tokens with keys the app trusts, and hands the app its outbound tokens.
    const teams = await startTeamsEmulator({ appId: world.appId, tenantId: world.tenantId });
    stoppers.push(teams.stop);
    const slack = await startSlackEmulator({
      signingSecret: randomBytes(16).toString("hex"),
      clientId: "1000.2000",
      clientSecret: "dev-slack-client-secret",
    });
    stoppers.push(slack.stop);
    const oidc = await startOidcProvider({
      clients: [{ clientId: "triage-relay-dev", clientSecret: oidcClientSecret, redirectUris: [`http://localhost:${PORT}/api/link/callback`] }],
    });
    stoppers.push(oidc.stop);

    const serviceUrl = playgroundServiceUrl(PLAYGROUND_PORT);
    Object.assign(process.env, {
      ...emulatedAppSettings({
        storageConnectionString: azurite.connectionString,
        teams,
        slack,
        oidc: { issuer: oidc.issuer, clientId: "triage-relay-dev", clientSecret: oidcClientSecret },
        publicBaseUrl: `http://localhost:${PORT}`,
        linkSigningKey: randomBytes(32).toString("hex"),
        slackSigningSecret: randomBytes(16).toString("hex"),
        ingestToken,
      }),
      // The Playground's tenant, and its Bot Connector on loopback.
      TEAMS_ALLOWED_TENANTS: world.tenantId,
      TEAMS_SERVICE_URL_HOSTS: new URL(serviceUrl).hostname,
    });

    await buildIfStale(ROOT, console.log);
    const host = await startLocalHost({
      appPath: join(ROOT, "dist", "index.js"),
      port: PORT,
      hostJsonPath: join(ROOT, "host.json"),
      localSettingsPath: false,
    });
    stoppers.push(host.stop);
    const bridge = await startSigningBridge({
      appMessagesUrl: `${host.url}/api/messages`,
      serviceUrl,
      signToken: (activityServiceUrl) => teams.signChannelToken({ serviceUrl: activityServiceUrl }),
    });
    stoppers.push(bridge.stop);
    const playground = await startPlayground({
      appEndpoint: bridge.messagesUrl,
      port: PLAYGROUND_PORT,
      configPath: CONFIG,
      logFile: join(LOG_DIR, "m365agentsplayground.log"),
    });
    stoppers.push(playground.stop);

    const [general, ...otherChannels] = world.channels;
    const alertsTarget = otherChannels[0] ?? general!;
    console.log(`
Triage Relay is running in Microsoft 365 Agents Playground: ${playground.url}
  Open it, pick a conversation, and add the app: Mock an Activity ▸ Add application (in a channel or the
  group chat; the personal chat has it installed already). The welcome card shows the conversation id.

  App              ${host.url}   (health: ${host.url}/api/health)
  Signing bridge   ${bridge.messagesUrl}   the Playground posts here; activities reach the app signed
  Playground       ${playground.url}   its Bot Connector: ${playground.serviceUrl}   (config: ${CONFIG})
  Tenant           ${world.tenantId}   bot ${world.botId}, you are ${world.user.name} (${world.user.email})
  Azurite          ${azurite.queueEndpoint} (in memory: the Playground keeps no chats between runs either)

Conversations (alert targets):
${world.channels.map((channel) => `  ${world.team.name} › ${channel.name.padEnd(12)} ${channel.id}`).join("\n")}
  ${world.groupChat.name.padEnd(22)} ${world.groupChat.id}
  Personal chat          ${world.personalChatId}

Send an alert to a conversation the app is in (see README, "Try it in Microsoft 365 Agents Playground"):
  curl -H "Authorization: Bearer ${ingestToken}" --data @test/fixtures/ingest/alertmanager-firing.json \\
    "${host.url}/api/ingest/alertmanager?target=msteams:${alertsTarget.id}"
  or: AzureWebJobsStorage='${azurite.connectionString}' npx tsx dev/send-alert.ts --teams ${alertsTarget.id}
  Dev ingest token ${ingestToken}

Ctrl-C stops everything.`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stopAll();
    process.exit(1);
  }
}

void main();
