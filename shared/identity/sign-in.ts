import * as oidc from "openid-client";
import type { Config } from "../config";

type OidcConfig = NonNullable<Config["oidc"]>;

export interface SignInStart {
  authorizationUrl: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface SignedInPerson {
  email: string;
  name?: string;
  /** Entra: the user's object id and tenant, when the provider says. */
  objectId?: string;
  tenantId?: string;
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

export type SignInResult = { ok: true; person: SignedInPerson } | { ok: false; reason: string };

/** Checks state, exchanges the code with the PKCE verifier, verifies the ID token and its nonce. */
export async function finishSignIn(
  settings: OidcConfig,
  callbackUrl: URL,
  expected: { state: string; nonce: string; codeVerifier: string },
): Promise<SignInResult> {
  const providerError = callbackUrl.searchParams.get("error");
  if (providerError) return { ok: false, reason: providerError === "access_denied" ? "The sign-in was cancelled." : `The sign-in failed (${providerError.slice(0, 60)}).` };
  try {
    const config = await configuration(settings);
    const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: expected.codeVerifier,
      expectedState: expected.state,
      expectedNonce: expected.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    const email = (typeof claims?.email === "string" ? claims.email : typeof claims?.preferred_username === "string" ? claims.preferred_username : "").toLowerCase();
    if (!email.includes("@")) return { ok: false, reason: "The sign-in didn't tell us your email address." };
    if (claims?.email_verified === false) return { ok: false, reason: "Your email address isn't verified with the sign-in provider." };
    return {
      ok: true,
      person: {
        email,
        ...(typeof claims?.name === "string" ? { name: claims.name } : {}),
        ...(typeof claims?.oid === "string" ? { objectId: claims.oid } : {}),
        ...(typeof claims?.tid === "string" ? { tenantId: claims.tid } : {}),
      },
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, reason: `The sign-in could not be verified${code ? ` (${code})` : ""}.` };
  }
}
