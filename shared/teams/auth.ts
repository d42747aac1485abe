import type { BotFrameworkAuthentication, ServiceClientCredentials } from "botframework-connector";
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import type { Config } from "../config";

/** Bot Framework's channel token issuer (AuthenticationConstants.ToBotFromChannelTokenIssuer). */
const CHANNEL_ISSUER = "https://api.botframework.com";
const ALLOWED_ALGORITHMS = new Set(["RS256", "RS384", "RS512"]);
const PUBLIC_AZURE_CHANNEL_CALLER_ID = "urn:botframework:azure";

export type AuthResult = { ok: true } | { ok: false; reason: string };

export interface TeamsActivityForAuth {
  channelId?: string;
  serviceUrl?: string;
  [key: string]: unknown;
}

/**
 * botframework-connector takes ~0.2 s to load: it is loaded on the first Teams request, not when an
 * instance starts (the Slack and queue functions, which share instances with it, never need it).
 */
async function channelAuthentication(bot: Config["bot"]): Promise<BotFrameworkAuthentication> {
  const { AuthenticationConfiguration, AuthenticationConstants, BotFrameworkAuthenticationFactory, ServiceClientCredentialsFactory } =
    await import("botframework-connector");

  /**
   * Validates only; never used to build outbound clients. It says exactly which app id is ours and
   * never reports authentication as disabled, so an empty or wrong id can't silently turn checks off.
   */
  class OurAppIdOnly extends ServiceClientCredentialsFactory {
    constructor(private readonly appId: string) {
      super();
    }
    override async isValidAppId(appId: string): Promise<boolean> {
      return appId === this.appId;
    }
    override async isAuthenticationDisabled(): Promise<boolean> {
      return false;
    }
    override async createCredentials(): Promise<ServiceClientCredentials> {
      throw new Error("inbound validation only");
    }
  }

  return BotFrameworkAuthenticationFactory.create(
    "",
    true,
    AuthenticationConstants.ToChannelFromBotLoginUrl,
    AuthenticationConstants.ToChannelFromBotOAuthScope,
    CHANNEL_ISSUER,
    AuthenticationConstants.OAuthUrl,
    bot.openIdMetadataUrl ?? AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl,
    AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
    PUBLIC_AZURE_CHANNEL_CALLER_ID,
    new OurAppIdOnly(bot.appId),
    new AuthenticationConfiguration(),
  );
}

/**
 * Checks a Bot Framework channel token the way Microsoft specifies: issuer, audience (our app id),
 * RS signature from the published keys, expiry with 5 min skew, `serviceurl` claim = activity serviceUrl,
 * and the signing key endorsed for the activity's channel. Any failure is a 401 reason, never a throw.
 */
export class TeamsRequestAuthenticator {
  private auth?: Promise<BotFrameworkAuthentication>;

  constructor(private readonly bot: Config["bot"]) {
    if (!bot.appId.trim()) throw new Error("MicrosoftAppId is empty: refusing to run Teams without request authentication");
  }

  async authenticate(activity: TeamsActivityForAuth, authorization: string | null): Promise<AuthResult> {
    if (!authorization?.startsWith("Bearer ")) return { ok: false, reason: "no bearer token" };
    if (typeof activity !== "object" || activity === null) return { ok: false, reason: "no activity" };
    const token = authorization.slice("Bearer ".length).trim();
    const precheck = precheckToken(token);
    if (typeof precheck === "string") return { ok: false, reason: precheck };
    if (typeof activity.serviceUrl !== "string") return { ok: false, reason: "activity has no serviceUrl" };
    if (typeof activity.channelId !== "string") return { ok: false, reason: "activity has no channelId" };
    const claimed = precheck.serviceurl;
    if (typeof claimed !== "string" || normaliseServiceUrl(claimed) !== normaliseServiceUrl(activity.serviceUrl)) {
      return { ok: false, reason: "serviceurl claim does not match the activity" };
    }
    try {
      // The library compares the claim and the activity as exact strings; they already match up to the slash.
      this.auth ??= channelAuthentication(this.bot).catch((error: unknown) => {
        this.auth = undefined;
        throw error;
      });
      const result = await (await this.auth).authenticateRequest({ ...activity, serviceUrl: claimed } as never, authorization);
      if (!result.claimsIdentity?.isAuthenticated) return { ok: false, reason: "token not authenticated" };
      return { ok: true };
    } catch (error) {
      // The library throws with and without status codes; every failure is the caller's 401.
      return { ok: false, reason: shortReason(error) };
    }
  }
}

/**
 * Reads (without trusting) the token's header and claims. Only Bot Framework channel tokens reach the
 * bot: the library would also try emulator and skill validation paths, which a Teams bot never needs.
 */
function precheckToken(token: string): string | JWTPayload {
  try {
    const header = decodeProtectedHeader(token);
    if (!header.alg || !ALLOWED_ALGORITHMS.has(header.alg)) return `algorithm ${header.alg ?? "missing"} not allowed`;
    const claims = decodeJwt(token);
    if (claims.iss !== CHANNEL_ISSUER) return "issuer is not the Bot Framework channel";
    return claims;
  } catch {
    return "malformed token";
  }
}

/** The `serviceurl` claim and stored service URLs are compared with exactly one trailing slash. */
export function normaliseServiceUrl(serviceUrl: string): string {
  return serviceUrl.replace(/\/*$/, "/");
}

function shortReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 200);
}
