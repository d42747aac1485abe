import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import { z } from "zod";
import type { Config } from "../config";

/** Bot Framework's channel token issuer (AuthenticationConstants.ToBotFromChannelTokenIssuer). */
const CHANNEL_ISSUER = "https://api.botframework.com";
/** AuthenticationConstants.ToBotFromChannelOpenIdMetadataUrl */
export const BOT_FRAMEWORK_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration";
/** This endpoint serves Teams only: every activity must come from, and every signing key be endorsed for, this channel. */
const TEAMS_CHANNEL = "msteams";
const ALGORITHMS = ["RS256", "RS384", "RS512"];
const CLOCK_SKEW_SECONDS = 300;

/** How long fetched keys are used before they are fetched again (Microsoft: cache ~24 h). */
const KEYS_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/** At most one refresh this often while keys are held: an unknown `kid` must not turn into a fetch per request. */
const REFRESH_COOLDOWN_MS = 5 * 60 * 1000;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * `status` 401: the request is not from Bot Framework (or not for us). 503: we could not tell, because
 * Bot Framework's signing keys could not be fetched; that is an outage on the way to Microsoft, not a forgery.
 * `notice`: something worth a log line whatever the outcome (a key refresh that failed).
 */
export type AuthResult = ({ ok: true } | { ok: false; status: 401 | 503; reason: string }) & { notice?: string };

export interface TeamsActivityForAuth {
  channelId?: unknown;
  serviceUrl?: unknown;
  [key: string]: unknown;
}

/**
 * Checks a Bot Framework channel token the way Microsoft specifies, with jose: RS256/384/512 signature by a
 * published key endorsed for `msteams`, issuer, audience = our app id, a numeric `exp` (required) and `nbf`
 * (when present) with 5 min skew, and `serviceurl` = the activity's service URL. Nothing here throws:
 * every failure is a reason.
 *
 * (botframework-connector did this before; it enforces `exp` only when present, follows the sender's
 * `channelId` for endorsements, stops serving its keys when a refresh fails, and console.errors PEMs.)
 */
export class TeamsRequestAuthenticator {
  private readonly signingKeys: BotFrameworkSigningKeys;

  constructor(
    private readonly bot: Config["bot"],
    options: SigningKeyOptions = {},
  ) {
    if (!bot.appId.trim()) throw new Error("MicrosoftAppId is empty: refusing to run Teams without request authentication");
    this.signingKeys = new BotFrameworkSigningKeys(bot.openIdMetadataUrl ?? BOT_FRAMEWORK_OPENID_METADATA_URL, options);
  }

  async authenticate(activity: TeamsActivityForAuth, authorization: string | null): Promise<AuthResult> {
    if (activity.channelId !== TEAMS_CHANNEL) return refused(`channelId is not ${TEAMS_CHANNEL}`);
    if (!authorization?.startsWith("Bearer ")) return refused("no bearer token");
    const token = authorization.slice("Bearer ".length).trim();
    const unverified = readToken(token);
    if (typeof unverified === "string") return refused(unverified);
    if (typeof activity.serviceUrl !== "string") return refused("activity has no serviceUrl");
    const claimed = unverified.claims.serviceurl;
    if (typeof claimed !== "string" || normaliseServiceUrl(claimed) !== normaliseServiceUrl(activity.serviceUrl)) {
      return refused("serviceurl claim does not match the activity");
    }

    const lookup = await this.signingKeys.find(unverified.kid);
    const notice = lookup.notice ? { notice: lookup.notice } : {};
    if (lookup.kind === "unavailable")
      return { ok: false, status: 503, reason: `Bot Framework signing keys unavailable: ${lookup.reason}`, ...notice };
    if (lookup.kind === "unknown") return { ...refused("signing key is not published"), ...notice };
    if (!lookup.key.endorsements.includes(TEAMS_CHANNEL)) return { ...refused(`signing key is not endorsed for ${TEAMS_CHANNEL}`), ...notice };
    try {
      const key = await importJWK(lookup.key.jwk, unverified.alg);
      await jwtVerify(token, key, {
        issuer: CHANNEL_ISSUER,
        audience: this.bot.appId,
        algorithms: [unverified.alg],
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp"],
      });
    } catch (error) {
      return { ...refused(shortReason(error)), ...notice };
    }
    return { ok: true, ...notice };
  }
}

function refused(reason: string): AuthResult & { ok: false } {
  return { ok: false, status: 401, reason };
}

/**
 * Reads (without trusting) the token's header and claims, so that tokens that could never pass are refused
 * before any key is looked up (and a forged `kid` can't make us fetch anything).
 */
function readToken(token: string): string | { alg: string; kid: string; claims: JWTPayload } {
  try {
    const header = decodeProtectedHeader(token);
    if (!header.alg || !ALGORITHMS.includes(header.alg)) return `algorithm ${String(header.alg ?? "missing").slice(0, 20)} not allowed`;
    if (typeof header.kid !== "string" || !header.kid) return "token names no signing key";
    const claims = decodeJwt(token);
    if (claims.iss !== CHANNEL_ISSUER) return "issuer is not the Bot Framework channel";
    if (typeof claims.exp !== "number") return "token has no numeric exp claim";
    return { alg: header.alg, kid: header.kid, claims };
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

// ---------------------------------------------------------------------------------------------------------
// Bot Framework's signing keys

export interface SigningKeyOptions {
  /** Epoch milliseconds; tests move it. */
  now?: () => number;
}

interface SigningKey {
  jwk: JWK;
  endorsements: string[];
}

export type KeyLookup = (
  | { kind: "found"; key: SigningKey }
  /** Not among freshly fetched keys: a forger's `kid`. */
  | { kind: "unknown" }
  /** No usable keys and they could not be fetched. */
  | { kind: "unavailable"; reason: string }
) & { notice?: string };

const metadataSchema = z.looseObject({ jwks_uri: z.url() });
const jwksSchema = z.looseObject({
  keys: z.array(
    z.looseObject({
      kid: z.string().optional(),
      kty: z.string(),
      n: z.string().optional(),
      e: z.string().optional(),
      endorsements: z.array(z.string()).optional(),
    }),
  ),
});

/**
 * The keys published through Bot Framework's OpenID metadata, fetched on first use, kept 24 h, fetched
 * again early (at most every 5 min) when a token names a key we don't have. A refresh that fails keeps the
 * keys we have serving (Microsoft rotates keys rarely and announces them ahead); only with no keys at all
 * is a request unanswerable (503).
 */
export class BotFrameworkSigningKeys {
  private keys = new Map<string, SigningKey>();
  private fetchedAt: number | undefined;
  private lastAttempt: number | undefined;
  private lastFailure: string | undefined;
  private refreshing: Promise<string | undefined> | undefined;

  constructor(
    private readonly metadataUrl: string,
    private readonly options: SigningKeyOptions = {},
  ) {}

  async find(kid: string): Promise<KeyLookup> {
    let notice: string | undefined;
    if (this.shouldRefresh(kid)) {
      const failure = await this.refresh();
      if (failure && this.fetchedAt !== undefined) {
        notice = `Bot Framework signing key refresh failed (${failure}); still using the keys fetched at ${new Date(this.fetchedAt).toISOString()}`;
      }
    }
    const withNotice = notice ? { notice } : {};
    const key = this.keys.get(kid);
    if (key) return { kind: "found", key, ...withNotice };
    if (this.fetchedAt === undefined) return { kind: "unavailable", reason: this.lastFailure ?? "not fetched yet" };
    // We hold keys, but the last attempt to learn about new ones failed: this kid may be a rotation we missed.
    if (this.lastFailure !== undefined) return { kind: "unavailable", reason: this.lastFailure, ...withNotice };
    return { kind: "unknown", ...withNotice };
  }

  private shouldRefresh(kid: string): boolean {
    if (this.fetchedAt === undefined) return true;
    const now = this.now();
    const coolingDown = this.lastAttempt !== undefined && now - this.lastAttempt < REFRESH_COOLDOWN_MS;
    if (coolingDown) return false;
    return now - this.fetchedAt >= KEYS_MAX_AGE_MS || !this.keys.has(kid);
  }

  /** One fetch at a time; resolves to why it failed, or undefined. Never throws. */
  private refresh(): Promise<string | undefined> {
    this.refreshing ??= this.download()
      .then((keys) => {
        this.keys = keys;
        this.fetchedAt = this.now();
        this.lastFailure = undefined;
        return undefined;
      })
      .catch((error: unknown) => {
        this.lastFailure = failureReason(error);
        return this.lastFailure;
      })
      .finally(() => {
        this.lastAttempt = this.now();
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  private async download(): Promise<Map<string, SigningKey>> {
    const metadata = metadataSchema.safeParse(await getJson(this.metadataUrl, "OpenID metadata"));
    if (!metadata.success) throw new Error("OpenID metadata has no jwks_uri");
    const jwks = jwksSchema.safeParse(await getJson(metadata.data.jwks_uri, "JWKS"));
    if (!jwks.success) throw new Error("JWKS is not a key set");
    const keys = new Map<string, SigningKey>();
    for (const { kid, kty, n, e, endorsements } of jwks.data.keys) {
      // RSA only, like every key Bot Framework publishes.
      if (kid && kty === "RSA" && n && e) keys.set(kid, { jwk: { kty, n, e }, endorsements: endorsements ?? [] });
    }
    if (keys.size === 0) throw new Error("JWKS has no RSA keys");
    return keys;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

class FetchFailure extends Error {}

async function getJson(url: string, what: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (error) {
    throw new FetchFailure(`${what} unreachable: ${networkReason(error)}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new FetchFailure(`${what} answered ${response.status}`);
  }
  try {
    return await response.json();
  } catch {
    throw new FetchFailure(`${what} is not JSON`);
  }
}

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError") return `no answer within ${FETCH_TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  return shortReason(error);
}

function failureReason(error: unknown): string {
  return error instanceof FetchFailure ? error.message : shortReason(error);
}
