import * as oidc from "openid-client";
import type { Config } from "../config";
import { oauthErrorCode } from "../http";

type OidcConfig = NonNullable<Config["oidc"]>;

export interface SignInStart {
  authorizationUrl: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/**
 * Who the sign-in vouches for. Never an email the provider hasn't verified: an `email` claim alone (or a
 * `preferred_username`) is whatever the account's owner typed, and with a multi-tenant Entra app that is
 * anyone's tenant ("nOAuth": https://www.descope.com/blog/post/noauth; Microsoft's guidance:
 * https://learn.microsoft.com/entra/identity-platform/migrate-off-email-claim-authorization).
 */
export interface SignedIn {
  /** Lower-cased; only when verified: `email_verified: true`, or Entra's `xms_edov: true`. */
  email?: string;
  name?: string;
  /** Microsoft Entra ID: the account's object id and tenant, its stable identity (always there for Entra). */
  entra?: { objectId: string; tenantId: string };
}

/** Why a sign-in can't be trusted: the page's words, and a rule name for the log (no email in it). */
export interface Refusal {
  reason: string;
  rule: string;
}

export const REFUSALS = {
  noEmail: { rule: "no-email", reason: "The sign-in didn't give us your email address, so we can't tell who you are." },
  emailNotVerified: {
    rule: "email-not-verified",
    reason: "Your sign-in provider says your email address isn't verified. Verify it with them, then open your link again.",
  },
  emailVerifiedMissing: {
    rule: "email-verified-missing",
    reason: "Your sign-in provider didn't say your email address is verified, and we link accounts only by a verified email address.",
  },
  entraNoAccount: { rule: "entra-no-oid-tid", reason: "The Microsoft sign-in didn't say which account and organisation you signed in with." },
} as const satisfies Record<string, Refusal>;

/**
 * What the ID token's claims let us trust. Any provider: an email with `email_verified: true`. Entra ID
 * (which never sends email_verified for work accounts): `oid` + `tid` are required, and the email counts
 * only with `xms_edov: true` (the tenant owns the email's domain); whether the tenant is one we serve is
 * the caller's question.
 */
export function trustedIdentity(claims: Record<string, unknown>, entra: boolean): { ok: true; signedIn: SignedIn } | { ok: false; refusal: Refusal } {
  const name = typeof claims.name === "string" ? claims.name : undefined;
  const email = typeof claims.email === "string" && claims.email.includes("@") ? claims.email.toLowerCase() : undefined;
  if (entra) {
    const { oid, tid } = claims;
    if (typeof oid !== "string" || typeof tid !== "string" || !oid || !tid) return { ok: false, refusal: REFUSALS.entraNoAccount };
    const verified = claims.email_verified === true || claims.xms_edov === true;
    return {
      ok: true,
      signedIn: {
        ...(email && verified ? { email } : {}),
        ...(name ? { name } : {}),
        entra: { objectId: oid.toLowerCase(), tenantId: tid.toLowerCase() },
      },
    };
  }
  if (!email) return { ok: false, refusal: REFUSALS.noEmail };
  if (claims.email_verified === false) return { ok: false, refusal: REFUSALS.emailNotVerified };
  if (claims.email_verified !== true) return { ok: false, refusal: REFUSALS.emailVerifiedMissing };
  return { ok: true, signedIn: { email, ...(name ? { name } : {}) } };
}

/** Microsoft's sign-in hosts (public, US Government, China); openid-client itself knows the first. */
const ENTRA_HOSTS = new Set(["login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn"]);

/** Entra ID by its host, or by the field only Entra's discovery document has (so the dev provider can play it). */
function isEntra(issuer: URL, metadata: Record<string, unknown>): boolean {
  return ENTRA_HOSTS.has(issuer.hostname) || typeof metadata.cloud_instance_name === "string";
}

const discovered = new Map<string, Promise<oidc.Configuration>>();

/** The provider's metadata, discovered once per process (a failed discovery is retried next time). */
function configuration(settings: OidcConfig): Promise<oidc.Configuration> {
  let config = discovered.get(settings.issuer);
  if (!config) {
    const issuer = new URL(settings.issuer);
    const loopback = issuer.hostname === "127.0.0.1" || issuer.hostname === "localhost";
    config = oidc.discovery(
      issuer,
      settings.clientId,
      undefined,
      settings.clientSecret ? oidc.ClientSecretPost(settings.clientSecret) : oidc.None(),
      // Plain http only for a provider on this machine (the dev provider); config refuses it elsewhere.
      loopback && issuer.protocol === "http:" ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
    config.catch(() => discovered.delete(settings.issuer));
    discovered.set(settings.issuer, config);
  }
  return config;
}

/**
 * How the token request failed, when the provider rather than the request is at fault: no connection, a timeout, or
 * a 5xx (a gateway's page or an OAuth error body). An OAuth error for the request itself (invalid_grant: the code is
 * used or forged) is not an outage.
 */
function providerOutage(error: unknown): string | undefined {
  if (error instanceof TypeError) return "could not be reached"; // fetch: refused, reset, DNS
  const failed = error as { name?: string; code?: string; status?: number; cause?: unknown };
  if (failed.name === "TimeoutError" || failed.name === "AbortError" || failed.code === "OAUTH_TIMEOUT") return "timed out";
  const status = typeof failed.status === "number" ? failed.status : (failed.cause as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 500 ? `answered ${status}` : undefined;
}

/** Authorization Code + PKCE (S256), with state and nonce kept by the caller for the callback. */
export async function startSignIn(settings: OidcConfig, redirectUri: string): Promise<SignInStart> {
  const config = await configuration(settings);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: "openid email profile",
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: "S256",
    state,
    nonce,
    prompt: "select_account",
  });
  return { authorizationUrl: url.toString(), state, nonce, codeVerifier };
}

export type SignInResult =
  | { ok: true; signedIn: SignedIn }
  | { ok: false; refusal: Refusal; status: 400 | 403 }
  /** The provider didn't answer (down, timing out, 5xx): nothing was refused, the person can try again. */
  | { ok: false; unavailable: string };

/** Checks state, exchanges the code with the PKCE verifier, verifies the ID token and its nonce. */
export async function finishSignIn(
  settings: OidcConfig,
  callbackUrl: URL,
  expected: { state: string; nonce: string; codeVerifier: string },
): Promise<SignInResult> {
  const providerError = oauthErrorCode(callbackUrl.searchParams.get("error"));
  if (providerError) {
    const reason = providerError === "access_denied" ? "The sign-in was cancelled." : `The sign-in failed (${providerError}).`;
    return { ok: false, status: 400, refusal: { reason, rule: `provider-error ${providerError}` } };
  }
  let config: oidc.Configuration;
  let claims: Record<string, unknown>;
  try {
    config = await configuration(settings);
  } catch (error) {
    return { ok: false, unavailable: `discovery failed: ${(error as Error).message}` };
  }
  try {
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims() ?? {};
  } catch (error) {
    const outage = providerOutage(error);
    if (outage) return { ok: false, unavailable: `the token endpoint ${outage}` };
    const code = (error as { code?: string }).code;
    return {
      ok: false,
      status: 400,
      refusal: { reason: `The sign-in could not be verified${code ? ` (${code})` : ""}.`, rule: `not-verified${code ? ` ${code}` : ""}` },
    };
  }
  const trusted = trustedIdentity(claims, isEntra(new URL(settings.issuer), config.serverMetadata()));
  return trusted.ok ? trusted : { ok: false, status: 403, refusal: trusted.refusal };
}
