// The app's settings when everything it talks to is emulated on this machine (npm start, e2e tests).
import type { DiscordEmulator } from "./emulators/discord";
import type { SlackEmulator } from "./emulators/slack";
import type { TeamsEmulator } from "./emulators/teams";

export interface EmulatedWorld {
  storageConnectionString: string;
  teams: TeamsEmulator;
  slack: SlackEmulator;
  oidc: { issuer: string; clientId: string; clientSecret: string };
  publicBaseUrl: string;
  linkSigningKey: string;
  slackSigningSecret: string;
  /** Single-workspace mode as well as the install flow. */
  slackBotToken?: string;
  /** Turns Discord on, talking to this emulator. */
  discord?: DiscordEmulator;
  /** Turns on POST /api/ingest/{source} with this token (≥ 32 characters). */
  ingestToken?: string;
}

export function emulatedAppSettings(world: EmulatedWorld): Record<string, string> {
  return {
    AzureWebJobsStorage: world.storageConnectionString,
    // The bot as a user-assigned managed identity, its tokens from the Teams emulator's identity endpoint.
    MicrosoftAppId: world.teams.appId,
    MicrosoftAppType: "UserAssignedMSI",
    MicrosoftAppTenantId: world.teams.tenantId,
    BOT_OPENID_METADATA_URL: world.teams.openIdMetadataUrl,
    IDENTITY_ENDPOINT: world.teams.identityEndpoint,
    IDENTITY_HEADER: world.teams.identityHeader,
    TEAMS_SERVICE_URL_HOSTS: "127.0.0.1",
    SLACK_SIGNING_SECRET: world.slackSigningSecret,
    SLACK_CLIENT_ID: world.slack.clientId,
    SLACK_CLIENT_SECRET: world.slack.clientSecret,
    ...(world.slackBotToken ? { SLACK_BOT_TOKEN: world.slackBotToken } : {}),
    SLACK_API_URL: world.slack.apiUrl,
    PUBLIC_BASE_URL: world.publicBaseUrl,
    LINK_SIGNING_KEY: world.linkSigningKey,
    OIDC_ISSUER: world.oidc.issuer,
    OIDC_CLIENT_ID: world.oidc.clientId,
    OIDC_CLIENT_SECRET: world.oidc.clientSecret,
    ...(world.ingestToken ? { INGEST_TOKENS: world.ingestToken } : {}),
    ...(world.discord
      ? {
          DISCORD_APPLICATION_ID: world.discord.applicationId,
          DISCORD_PUBLIC_KEY: world.discord.publicKey,
          DISCORD_BOT_TOKEN: world.discord.botToken,
          // The emulator's guilds are made as tests and the demo go: any of them.
          DISCORD_ALLOWED_GUILDS: "*",
          DISCORD_API_URL: world.discord.apiUrl,
        }
      : {}),
  };
}
