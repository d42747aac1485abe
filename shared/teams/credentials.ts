import type { TokenCredential } from "@azure/identity";
import type { Config } from "../config";
import { lazyCredential } from "../lazy-credential";

export const BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default";
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/**
 * The bot's own identity for calls to the Bot Connector. A user-assigned managed identity is asked for
 * exactly (not DefaultAzureCredential's chain); password bots use their tenant, or Bot Framework's
 * legacy `botframework.com` tenant when multi-tenant.
 */
export function botCredential(bot: Config["bot"]): TokenCredential {
  return lazyCredential((identity) => createBotCredential(identity, bot));
}

export function createBotCredential(identity: typeof import("@azure/identity"), bot: Config["bot"]): TokenCredential {
  if (bot.appType === "UserAssignedMSI") return new identity.ManagedIdentityCredential({ clientId: bot.appId });
  const tenant = bot.appType === "SingleTenant" ? bot.tenantId! : (bot.tenantId ?? "botframework.com");
  return new identity.ClientSecretCredential(tenant, bot.appId, bot.password!);
}

/** Caches the Bot Framework token until five minutes before it expires; one fetch at a time. */
export class BotTokenProvider {
  private cached?: { token: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly credential: TokenCredential,
    private readonly now: () => number = Date.now,
  ) {}

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt - REFRESH_BEFORE_EXPIRY_MS > this.now()) return this.cached.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** After a 401 from the connector: the token may have been revoked early. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    const result = await this.credential.getToken(BOT_FRAMEWORK_SCOPE);
    if (!result) throw new Error("no Bot Framework token was issued");
    this.cached = { token: result.token, expiresAt: result.expiresOnTimestamp };
    return result.token;
  }
}
