import { z } from "zod";
import { createPublicKey } from "node:crypto";

/**
 * Every setting the app reads, validated once. Names are the operators' contract (ARCHITECTURE.md):
 * Bot Framework's own names for the bot identity, SCREAMING_CASE for ours.
 */
const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? "")
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  );

const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", ""])
    .optional()
    .transform((value) => (value === undefined || value === "" ? fallback : ["true", "1", "yes"].includes(value)));

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value?.trim() ? value.trim() : undefined));

const httpUrl = z.url({ protocol: /^https?$/ });

/**
 * A secret anyone could guess: shorter than 32 characters, or one short pattern repeated ("changeme-changeme-…",
 * "aaaa…"), which no generated secret is.
 */
function guessable(value: string): string | undefined {
  if (value.length < 32) return "must be at least 32 characters (a generated secret: openssl rand -hex 32)";
  for (let period = 1; period <= value.length / 2; period++) {
    if (value.slice(period) === value.slice(0, value.length - period))
      return "is a short pattern repeated, not a generated secret (openssl rand -hex 32)";
  }
  return undefined;
}

/** A secret the app checks requests against: whoever guesses it can forge them. */
const checkedSecret = optionalText.superRefine((value, ctx) => {
  const weakness = value === undefined ? undefined : guessable(value);
  if (weakness) ctx.addIssue({ code: "custom", message: weakness });
});

const signingKey = z.string({ error: "required: at least 32 random bytes, base64 or hex" }).transform((value, ctx) => {
  const bytes = decodeKey(value.trim());
  if (!bytes || bytes.length < 32 || guessable(value.trim())) {
    ctx.addIssue({ code: "custom", message: "must be at least 32 random bytes, base64 or hex (openssl rand -hex 32)" });
    return z.NEVER;
  }
  return bytes;
});

const settingsSchema = z.object({
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__accountName: optionalText,
  AzureWebJobsStorage__credential: optionalText,
  AzureWebJobsStorage__clientId: optionalText,

  MicrosoftAppId: z
    .string({ error: "required: the bot's app id (an empty id would turn off request authentication)" })
    .trim()
    .min(1, "required: the bot's app id (an empty id would turn off request authentication)"),
  MicrosoftAppType: z.enum(["SingleTenant", "MultiTenant", "UserAssignedMSI"], { error: "must be SingleTenant, MultiTenant or UserAssignedMSI" }),
  MicrosoftAppPassword: optionalText,
  MicrosoftAppTenantId: optionalText,
  BOT_OPENID_METADATA_URL: httpUrl.optional(),
  TEAMS_ALLOWED_TENANTS: csv,
  TEAMS_SERVICE_URL_HOSTS: csv,

  SLACK_SIGNING_SECRET: checkedSecret,
  SLACK_CLIENT_ID: optionalText,
  SLACK_CLIENT_SECRET: optionalText,
  SLACK_BOT_TOKEN: optionalText,
  SLACK_API_URL: httpUrl.optional(),
  SLACK_ALLOWED_TEAMS: csv,
  SLACK_COMMAND: z
    .string()
    .regex(/^\/[a-z0-9_-]{1,31}$/, "a slash command such as /triage")
    .default("/triage"),

  PUBLIC_BASE_URL: httpUrl,
  LINK_SIGNING_KEY: signingKey,
  OIDC_ISSUER: httpUrl.optional(),
  OIDC_CLIENT_ID: optionalText,
  OIDC_CLIENT_SECRET: optionalText,
  IDENTITY_AUTO_LINK: bool(true),

  CARD_REFRESH_COALESCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  RENOTIFY_HOURS: z.coerce
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
  THREAD_BROADCAST_REGRESSIONS: bool(true),

  INGEST_TOKENS: csv.refine(
    (tokens) => tokens.every((token) => !guessable(token)),
    "every token must be a generated secret of at least 32 characters (openssl rand -hex 32)",
  ),
  SENTRY_CLIENT_SECRET: checkedSecret,

  DISCORD_APPLICATION_ID: optionalText.refine((id) => id === undefined || /^\d{17,20}$/.test(id), "a Discord snowflake (17-20 digits)"),
  DISCORD_PUBLIC_KEY: optionalText.refine(
    (key) => key === undefined || isEd25519PublicKey(key),
    "the portal's hex Ed25519 public key (64 hex characters)",
  ),
  DISCORD_BOT_TOKEN: optionalText.refine(
    (token) => token === undefined || /^[A-Za-z0-9._-]{30,}$/.test(token),
    "the bot's token from the developer portal",
  ),
  DISCORD_ALLOWED_GUILDS: csv.refine(
    (ids) => (ids.length === 1 && ids[0] === "*") || ids.every((id) => /^\d{17,20}$/.test(id)),
    "comma-separated guild ids (snowflakes), or * for any guild",
  ),
  DISCORD_API_URL: httpUrl.optional(),
});

/** Every app setting the app reads (local.settings.example.json lists them all). */
export const SETTING_NAMES = Object.keys(settingsSchema.shape);

type Problem = { setting: string; message: string };

/** Rules that tie settings together; read from the raw values so they are reported with every other problem. */
function crossChecks(env: Record<string, string | undefined>): Problem[] {
  const problems: Problem[] = [];
  const has = (name: string) => !!env[name]?.trim();
  const problem = (setting: string, message: string) => problems.push({ setting, message });
  if (!has("AzureWebJobsStorage") && !has("AzureWebJobsStorage__accountName")) {
    problem("AzureWebJobsStorage", "required: a connection string, or AzureWebJobsStorage__accountName for a managed identity");
  }
  const appType = env.MicrosoftAppType?.trim();
  if ((appType === "SingleTenant" || appType === "MultiTenant") && !has("MicrosoftAppPassword")) {
    problem("MicrosoftAppPassword", `required when MicrosoftAppType is ${appType}`);
  }
  if ((appType === "SingleTenant" || appType === "UserAssignedMSI") && !has("MicrosoftAppTenantId")) {
    problem("MicrosoftAppTenantId", `required when MicrosoftAppType is ${appType}`);
  }
  if (appType === "MultiTenant" && !has("TEAMS_ALLOWED_TENANTS") && !has("MicrosoftAppTenantId")) {
    problem("TEAMS_ALLOWED_TENANTS", "required for a MultiTenant bot without MicrosoftAppTenantId: which tenants may use it");
  }
  if ((has("SLACK_CLIENT_ID") || has("SLACK_CLIENT_SECRET") || has("SLACK_BOT_TOKEN")) && !has("SLACK_SIGNING_SECRET")) {
    problem("SLACK_SIGNING_SECRET", "required when Slack is configured");
  }
  if (has("SLACK_CLIENT_ID") && !has("SLACK_CLIENT_SECRET")) problem("SLACK_CLIENT_SECRET", "required with SLACK_CLIENT_ID");
  if (has("DISCORD_PUBLIC_KEY")) {
    if (!has("DISCORD_APPLICATION_ID")) problem("DISCORD_APPLICATION_ID", "required when DISCORD_PUBLIC_KEY is set");
    if (!has("DISCORD_BOT_TOKEN")) problem("DISCORD_BOT_TOKEN", "required when DISCORD_PUBLIC_KEY is set");
    // A Discord bot is public unless its owner turns that off: anyone could add it and subscribe to the alerts.
    if (!has("DISCORD_ALLOWED_GUILDS"))
      problem("DISCORD_ALLOWED_GUILDS", "required when DISCORD_PUBLIC_KEY is set: the guild ids to serve, or * for any guild");
  }
  if (has("OIDC_ISSUER") && !has("OIDC_CLIENT_ID")) problem("OIDC_CLIENT_ID", "required with OIDC_ISSUER");
  // Our own address, and the services the app sends tokens and secrets to or takes signing keys from: plain http
  // only to this machine (the dev emulators).
  for (const setting of ["PUBLIC_BASE_URL", "BOT_OPENID_METADATA_URL", "SLACK_API_URL", "DISCORD_API_URL", "OIDC_ISSUER"]) {
    const value = env[setting]?.trim();
    if (!value || !URL.canParse(value)) continue;
    const url = new URL(value);
    if (url.protocol === "http:" && !isLoopback(url.hostname)) problem(setting, "must be https unless it is localhost");
  }
  return problems;
}

export type Settings = z.output<typeof settingsSchema>;

export const MICROSOFT_TEAMS_SERVICE_HOSTS = ["smba.trafficmanager.net", "smba.infra.gcc.teams.microsoft.com", "smba.infra.gov.teams.microsoft.us"];

export interface Config {
  storage: { kind: "connectionString"; connectionString: string } | { kind: "identity"; accountName: string; clientId?: string };
  bot: {
    appId: string;
    appType: "SingleTenant" | "MultiTenant" | "UserAssignedMSI";
    password?: string;
    tenantId?: string;
    openIdMetadataUrl?: string;
    allowedTenants: string[];
    serviceUrlHosts: string[];
  };
  slack?: {
    signingSecret: string;
    clientId?: string;
    clientSecret?: string;
    botToken?: string;
    apiUrl: string;
    command: string;
    /** Workspace (or Enterprise Grid org) ids allowed to use the app; empty = any workspace that installs it. */
    allowedTeams: string[];
  };
  publicBaseUrl: string;
  linkSigningKey: Uint8Array;
  oidc?: { issuer: string; clientId: string; clientSecret?: string };
  autoLink: boolean;
  cardRefreshCoalesceSeconds: number;
  renotifyHours: number;
  /** A regression of a fatal or error issue is also shown in the channel (Slack `reply_broadcast`), not only in the card's thread. */
  threadBroadcastRegressions: boolean;
  /** Absent when DISCORD_PUBLIC_KEY is unset: the Discord route answers 404 and Discord targets are dead. */
  discord?: {
    applicationId: string;
    /** Hex Ed25519 public key (verified at start-up to be one). */
    publicKey: string;
    botToken: string;
    /** Guild ids allowed to use the app; empty = any guild that installs it (DISCORD_ALLOWED_GUILDS=*). */
    allowedGuilds: string[];
    apiUrl: string;
  };
  /** Absent when INGEST_TOKENS is unset: the ingest routes answer 404. */
  ingest?: { tokens: string[]; sentryClientSecret?: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super("Triage Relay cannot start: fix these settings.\n" + problems.map((p) => `  - ${p.setting}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
  }
}

/** Reads and validates every setting. Never echoes a value: error messages name settings only. */
export function loadConfig(given: Record<string, string | undefined> = process.env): Config {
  const env = withoutEmptyValues(given);
  const placeholders = placeholderProblems(env);
  const parsed = settingsSchema.safeParse(env);
  const problems: Problem[] = parsed.success
    ? []
    : parsed.error.issues
        .map((issue) => ({
          setting: String(issue.path[0] ?? "settings"),
          message: issue.code === "invalid_type" && issue.input === undefined ? requiredMessage(issue.message) : issue.message,
        }))
        .filter((problem) => !placeholders.some((p) => p.setting === problem.setting));
  problems.unshift(...placeholders);
  problems.push(...crossChecks(env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const s = parsed.data;
  return {
    storage: s.AzureWebJobsStorage
      ? { kind: "connectionString", connectionString: s.AzureWebJobsStorage }
      : { kind: "identity", accountName: s.AzureWebJobsStorage__accountName!, clientId: s.AzureWebJobsStorage__clientId },
    bot: {
      appId: s.MicrosoftAppId,
      appType: s.MicrosoftAppType,
      password: s.MicrosoftAppPassword,
      tenantId: s.MicrosoftAppTenantId,
      openIdMetadataUrl: s.BOT_OPENID_METADATA_URL,
      // Tenant ids are GUIDs, compared in lower case whatever case they were typed in.
      allowedTenants: (s.TEAMS_ALLOWED_TENANTS.length > 0 ? s.TEAMS_ALLOWED_TENANTS : s.MicrosoftAppTenantId ? [s.MicrosoftAppTenantId] : []).map(
        (id) => id.toLowerCase(),
      ),
      serviceUrlHosts: s.TEAMS_SERVICE_URL_HOSTS.length > 0 ? s.TEAMS_SERVICE_URL_HOSTS.map((h) => h.toLowerCase()) : MICROSOFT_TEAMS_SERVICE_HOSTS,
    },
    slack: s.SLACK_SIGNING_SECRET
      ? {
          signingSecret: s.SLACK_SIGNING_SECRET,
          clientId: s.SLACK_CLIENT_ID,
          clientSecret: s.SLACK_CLIENT_SECRET,
          botToken: s.SLACK_BOT_TOKEN,
          apiUrl: s.SLACK_API_URL ?? "https://slack.com/api/",
          command: s.SLACK_COMMAND,
          allowedTeams: s.SLACK_ALLOWED_TEAMS,
        }
      : undefined,
    publicBaseUrl: s.PUBLIC_BASE_URL.replace(/\/+$/, ""),
    linkSigningKey: s.LINK_SIGNING_KEY,
    oidc: s.OIDC_ISSUER && s.OIDC_CLIENT_ID ? { issuer: s.OIDC_ISSUER, clientId: s.OIDC_CLIENT_ID, clientSecret: s.OIDC_CLIENT_SECRET } : undefined,
    autoLink: s.IDENTITY_AUTO_LINK,
    cardRefreshCoalesceSeconds: s.CARD_REFRESH_COALESCE_SECONDS,
    renotifyHours: s.RENOTIFY_HOURS,
    threadBroadcastRegressions: s.THREAD_BROADCAST_REGRESSIONS,
    discord: s.DISCORD_PUBLIC_KEY
      ? {
          applicationId: s.DISCORD_APPLICATION_ID!,
          publicKey: s.DISCORD_PUBLIC_KEY.toLowerCase(),
          botToken: s.DISCORD_BOT_TOKEN!,
          allowedGuilds: s.DISCORD_ALLOWED_GUILDS.filter((id) => id !== "*"),
          apiUrl: (s.DISCORD_API_URL ?? "https://discord.com/api/v10").replace(/\/+$/, ""),
        }
      : undefined,
    ingest: s.INGEST_TOKENS.length > 0 ? { tokens: s.INGEST_TOKENS, sentryClientSecret: s.SENTRY_CLIENT_SECRET } : undefined,
  };
}

let cached: Config | undefined;

/** The process-wide configuration, read on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}

/** An empty value means unset, for every setting (local.settings.json lists them all, most empty). */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value?.trim() === "" ? undefined : value]));
}

/**
 * A value still reading like local.settings.example.json's `<bot app id …>`, or a Key Vault reference the platform
 * could not resolve (App Service then passes the reference's own text: a secret anyone can read in the template).
 */
function placeholderProblems(env: Record<string, string | undefined>): Problem[] {
  return Object.keys(settingsSchema.shape).flatMap((setting) => {
    const value = env[setting] ?? "";
    if (/^\s*<[^<>]*>\s*$/.test(value))
      return [{ setting, message: "still the example's <…> placeholder: put the real value in, or leave it empty if it's optional" }];
    if (/^\s*@Microsoft\.KeyVault\(/i.test(value))
      return [{ setting, message: "a Key Vault reference the platform could not resolve: give the app's identity access to the secret" }];
    return [];
  });
}

function requiredMessage(message: string): string {
  return message.startsWith("required") ? message : "required";
}

function decodeKey(value: string): Uint8Array | undefined {
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return Buffer.from(value, "base64");
  return undefined;
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]";
}

/** The developer portal's public key: 32 bytes of hex that make an Ed25519 point. */
function isEd25519PublicKey(hex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  try {
    createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
    return true;
  } catch {
    return false;
  }
}
