// `npm start`: the whole app on this machine, with nothing from the internet.
//   Azurite (persistent, .azurite/) · Teams Bot Connector emulator · Slack emulator · local host on :7071
// Demo settings are generated once into .azurite/dev-settings.json so restarts keep their tokens and keys.
// One Ctrl-C stops everything.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { QueueClient } from "@azure/storage-queue";
import { QUEUES } from "../shared/storage/clients";
import { emulatedAppSettings } from "./app-settings";
import { startAzurite, type Azurite } from "./azurite";
import { startChatPage } from "./chat-page";
import { startOidcProvider } from "./emulators/oidc";
import { registerDiscordCommands } from "../shared/discord/register-commands";
import { startDiscordEmulator } from "./emulators/discord";
import { seedDevWorkspace } from "./emulators/slack/seed";
import { startSlackEmulator, type SlackEmulator } from "./emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "./emulators/teams";
import { buildIfStale } from "./host/build-if-stale";
import { startLocalHost, type LocalHost } from "./host/local-host";

const ROOT = resolve(__dirname, "..");
// The app on PORT (7071), the emulators on the next four ports; Azurite on its standard ports (so
// `UseDevelopmentStorage=true` and Storage Explorer find it), unless TRIAGE_DEV_AZURITE_PORTS=random.
const DATA_DIR = process.env.TRIAGE_DEV_DATA ?? join(ROOT, ".azurite");
const PORT = Number(process.env.PORT ?? 7071);
const TEAMS_PORT = PORT + 1;
const SLACK_PORT = PORT + 2;
const OIDC_PORT = PORT + 3;
const CHAT_PORT = PORT + 4;
const AZURITE_PORTS = process.env.TRIAGE_DEV_AZURITE_PORTS === "random" ? "random" : "default";

interface DevSecrets {
  linkSigningKey: string;
  slackSigningSecret: string;
  slackBotToken: string;
  oidcClientSecret: string;
  /** The dev token for POST /api/ingest/{source}. */
  ingestToken: string;
}

async function main(): Promise<void> {
  const secrets = devSecrets();
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
  };
  process.once("SIGINT", () => void stopAll().then(() => process.exit(0)));
  process.once("SIGTERM", () => void stopAll().then(() => process.exit(0)));

  try {
    const azurite: Azurite = await startAzurite({ location: DATA_DIR, ports: AZURITE_PORTS }).catch((error: Error) => {
      throw /EADDRINUSE|address already in use/i.test(error.message)
        ? new Error(
            "Azurite's ports (10000-10002) are taken, probably by another Azurite. Stop it, or run with " +
              "TRIAGE_DEV_AZURITE_PORTS=random (then use the AzureWebJobsStorage printed below for dev/send-alert.ts).",
          )
        : error;
    });
    stoppers.push(azurite.stop);
    const teams: TeamsEmulator = await startTeamsEmulator({
      port: TEAMS_PORT,
      appId: "00000000-0000-4000-8000-00000000d3b0",
      tenantId: "00000000-0000-4000-8000-0000000d3a11",
    });
    stoppers.push(teams.stop);
    const slack: SlackEmulator = await startSlackEmulator({
      port: SLACK_PORT,
      signingSecret: secrets.slackSigningSecret,
      clientId: "1000.2000",
      clientSecret: "dev-slack-client-secret",
    });
    stoppers.push(slack.stop);
    const workspace = seedDevWorkspace(slack, { botToken: secrets.slackBotToken });
    const discord = await startDiscordEmulator();
    stoppers.push(() => discord.stop());
    const discordGuild = discord.addGuild("Checkout", ["alerts"]);
    discord.addUser("ana", "Ana Lima");
    discord.addUser("ben", "Ben Okafor");
    await registerDiscordCommands({ applicationId: discord.applicationId, botToken: discord.botToken, apiUrl: discord.apiUrl });
    const oidc = await startOidcProvider({
      port: OIDC_PORT,
      clients: [
        { clientId: "triage-relay-dev", clientSecret: secrets.oidcClientSecret, redirectUris: [`http://localhost:${PORT}/api/link/callback`] },
      ],
    });
    stoppers.push(oidc.stop);
    const ana = teams.addUser({ name: "Ana Lima", email: "ana@triage.dev" });
    const ben = teams.addUser({ name: "Ben Okafor", email: "ben@triage.dev" });
    const team = teams.addTeam({ name: "Checkout", members: [ana, ben] });

    const overridden = applyDemoSettings(
      emulatedAppSettings({
        storageConnectionString: azurite.connectionString,
        teams,
        slack,
        discord,
        oidc: { issuer: oidc.issuer, clientId: "triage-relay-dev", clientSecret: secrets.oidcClientSecret },
        publicBaseUrl: `http://localhost:${PORT}`,
        linkSigningKey: secrets.linkSigningKey,
        slackSigningSecret: secrets.slackSigningSecret,
        slackBotToken: secrets.slackBotToken,
        ingestToken: secrets.ingestToken,
      }),
    );
    if (overridden.length > 0) console.log(`Your environment overrides these demo settings: ${overridden.join(", ")}`);

    await buildIfStale(ROOT, console.log);
    await createQueues(process.env.AzureWebJobsStorage!);
    const host: LocalHost = await startLocalHost({
      appPath: join(ROOT, "dist", "index.js"),
      port: PORT,
      hostJsonPath: join(ROOT, "host.json"),
      localSettingsPath: false,
    });
    stoppers.push(host.stop);

    // Install the bot in the demo team, as Teams would when someone adds it.
    await teams.post(`${host.url}/api/messages`, teams.botAddedToTeam({ team, from: ana }));

    const chat = await startChatPage({
      port: CHAT_PORT,
      teams,
      slack,
      discord,
      appUrl: host.url,
      people: {
        slack: [
          {
            teamId: workspace.workspace.teamId,
            name: workspace.workspace.name,
            users: { "Alice Oncall": workspace.users.alice, "Bob Builder": workspace.users.bob },
            channels: { alerts: workspace.channels.alerts, oncall: workspace.channels.oncall, "ops-private": workspace.channels.privateOps },
          },
        ],
      },
    });
    stoppers.push(chat.stop);

    console.log(`
Triage Relay is running on http://localhost:${PORT}  (health: http://localhost:${PORT}/api/health)
  Dev chat page    ${chat.url}   every conversation, live: click cards as a demo user, send test alerts
  Teams emulator   ${teams.url}   demo team "Checkout", General channel ${team.generalChannelId}
  Slack emulator   ${slack.url}   workspace ${workspace.workspace.teamId}, #alerts ${workspace.channels.alerts}
  Discord emulator ${discord.apiUrl}   guild "Checkout" ${discordGuild.guild.id}, #alerts ${discordGuild.channels[0]!.id}
  Sign-in (OIDC)   ${oidc.issuer}   demo people ana@triage.dev, ben@triage.dev (no password)
  Azurite          ${azurite.queueEndpoint} (data in .azurite/)

Send a test alert (see README, "Send a test alert"):
  ${AZURITE_PORTS === "random" ? `AzureWebJobsStorage='${azurite.connectionString}' ` : ""}npx tsx dev/send-alert.ts --teams ${team.generalChannelId} --slack ${workspace.workspace.teamId}/${workspace.channels.alerts}

Or as a monitoring tool would (see README, "Connect your monitoring"):
  Ingest URL       http://localhost:${PORT}/api/ingest/{alertmanager|grafana|azure-monitor|sentry|alerts}
  Dev ingest token ${secrets.ingestToken}   (Authorization: Bearer …, or ?token=…)
  curl -H "Authorization: Bearer ${secrets.ingestToken}" --data @test/fixtures/ingest/alertmanager-firing.json \\
    "http://localhost:${PORT}/api/ingest/alertmanager?target=msteams:${team.generalChannelId}"

Ctrl-C stops everything.`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stopAll();
    process.exit(1);
  }
}

/**
 * The demo settings, except where the caller's environment already sets one (e.g. TEAMS_SERVICE_URL_HOSTS
 * to try another Teams client): theirs wins, as with local.settings.json. Returns the names kept.
 */
function applyDemoSettings(demo: Record<string, string>): string[] {
  const kept: string[] = [];
  for (const [name, value] of Object.entries(demo)) {
    if (process.env[name]?.trim()) kept.push(name);
    else process.env[name] = value;
  }
  return kept;
}

/** The app's queues and their poison queues, made before the host listens: a fresh Azurite has none. */
async function createQueues(connectionString: string): Promise<void> {
  const names = Object.values(QUEUES).flatMap((name) => [name, `${name}-poison`]);
  await Promise.all(names.map((name) => new QueueClient(connectionString, name).createIfNotExists()));
}

/** Generated once and kept beside the Azurite data: restarts keep the same keys and tokens. */
function devSecrets(): DevSecrets {
  const file = join(DATA_DIR, "dev-settings.json");
  const saved: Partial<DevSecrets> = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<DevSecrets>) : {};
  if (saved.linkSigningKey && saved.slackSigningSecret && saved.slackBotToken && saved.oidcClientSecret && saved.ingestToken)
    return saved as DevSecrets;
  mkdirSync(DATA_DIR, { recursive: true });
  // Keep what an earlier version saved; generate only what is missing (the ingest token came later).
  const secrets: DevSecrets = {
    linkSigningKey: saved.linkSigningKey ?? randomBytes(32).toString("hex"),
    slackSigningSecret: saved.slackSigningSecret ?? randomBytes(16).toString("hex"),
    slackBotToken: saved.slackBotToken ?? `xoxb-dev-${randomBytes(12).toString("hex")}`,
    oidcClientSecret: saved.oidcClientSecret ?? randomBytes(16).toString("hex"),
    ingestToken: saved.ingestToken ?? `dev-ingest-${randomBytes(24).toString("hex")}`,
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

void main();
