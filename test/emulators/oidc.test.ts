// The dev OIDC provider must run openid-client's real Authorization Code + PKCE flow, as Entra ID does,
// driven through its HTML login page by the test browser.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  ClientSecretBasic,
  discovery,
  fetchUserInfo,
  None,
  randomNonce,
  randomPKCECodeVerifier,
  randomState,
  type ClientAuth,
  type Configuration,
} from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PEOPLE, startOidcProvider, type OidcProvider } from "../../dev/emulators/oidc/index.js";
import { signInAs, TestBrowser, type BrowserResponse } from "../support/browser.js";

const CONFIDENTIAL = { clientId: "relay-web", clientSecret: "relay-web-secret" };
const PUBLIC = { clientId: "relay-public" };
const CY = { email: "cy@triage.dev", name: "Cy Park", password: "correct horse" };

let provider: OidcProvider;
let app: { server: Server; callbackUrl: string };

beforeAll(async () => {
  app = await startCallbackApp();
  provider = await startOidcProvider({
    clients: [
      { ...CONFIDENTIAL, redirectUris: [app.callbackUrl] },
      { ...PUBLIC, redirectUris: [app.callbackUrl] },
    ],
    people: [...DEMO_PEOPLE, CY],
  });
});

afterAll(async () => {
  await provider?.stop();
  await new Promise((resolve) => app?.server.close(resolve));
});

interface SignInStart {
  config: Configuration;
  authorizationUrl: URL;
  checks: { pkceCodeVerifier: string; expectedState: string; expectedNonce: string };
}

interface Client {
  clientId: string;
  clientSecret?: string;
  auth?: ClientAuth;
}

async function startSignIn({ clientId, clientSecret, auth }: Client, extra: Record<string, string> = {}): Promise<SignInStart> {
  const config = await discovery(new URL(provider.issuer), clientId, clientSecret, auth, { execute: [allowInsecureRequests] });
  const pkceCodeVerifier = randomPKCECodeVerifier();
  const expectedState = randomState();
  const expectedNonce = randomNonce();
  const authorizationUrl = buildAuthorizationUrl(config, {
    redirect_uri: app.callbackUrl,
    scope: "openid email profile",
    code_challenge: await calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: "S256",
    state: expectedState,
    nonce: expectedNonce,
    ...extra,
  });
  return { config, authorizationUrl, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

async function openLoginPage(browser: TestBrowser, start: SignInStart): Promise<BrowserResponse> {
  const page = await browser.get(start.authorizationUrl);
  expect(page.status).toBe(200);
  expect(new URL(page.url).pathname).toMatch(/^\/interaction\/[\w-]+$/);
  return page;
}

const toCallback = (next: URL) => next.href.startsWith(app.callbackUrl);

describe("dev OIDC provider", () => {
  it("publishes discovery for the code flow with PKCE, RS256 ID tokens and secret or public client auth", async () => {
    const metadata = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: provider.issuer,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid", "email", "profile"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    });
  });

  it.each<[string, Client]>([
    ["client_secret_post (openid-client's default)", CONFIDENTIAL],
    ["client_secret_basic", { clientId: CONFIDENTIAL.clientId, auth: ClientSecretBasic(CONFIDENTIAL.clientSecret) }],
    ["none (public client)", { clientId: PUBLIC.clientId, auth: None() }],
  ])("signs Ben in end to end with %s; the ID token names him", async (_auth, client) => {
    const { clientId } = client;
    const start = await startSignIn(client);
    const browser = new TestBrowser();
    const loginPage = await openLoginPage(browser, start);
    expect(loginPage.text).toContain("Ben Okafor");
    expect(loginPage.text).toContain("Ana Lima");

    const callback = await signInAs(browser, loginPage, "ben@triage.dev");
    expect(callback.status).toBe(200);
    expect(callback.url.startsWith(app.callbackUrl)).toBe(true);

    const tokens = await authorizationCodeGrant(start.config, new URL(callback.url), start.checks);
    const ben = provider.people.find((person) => person.email === "ben@triage.dev")!;
    expect(tokens.claims()).toMatchObject({
      iss: provider.issuer,
      aud: clientId,
      sub: ben.sub,
      nonce: start.checks.expectedNonce,
      email: "ben@triage.dev",
      email_verified: true,
      name: "Ben Okafor",
      preferred_username: "ben@triage.dev",
    });
    const header = JSON.parse(Buffer.from(tokens.id_token!.split(".")[0]!, "base64url").toString()) as { alg: string };
    expect(header.alg).toBe("RS256");
    expect(await fetchUserInfo(start.config, tokens.access_token, ben.sub)).toMatchObject({ email: "ben@triage.dev" });
    expect(provider.signIns.at(-1)).toMatchObject({ email: "ben@triage.dev", clientId });
  });

  it("keeps the session: the next sign-in in the same browser skips the login page, consent included", async () => {
    const browser = new TestBrowser();
    const first = await startSignIn(CONFIDENTIAL);
    await signInAs(browser, await openLoginPage(browser, first), "ana@triage.dev");
    const signInsBefore = provider.signIns.length;

    // Another client: no grant yet, so oidc-provider asks for consent, which the provider gives itself.
    const second = await startSignIn(PUBLIC);
    const callback = await browser.get(second.authorizationUrl);
    expect(callback.url.startsWith(app.callbackUrl)).toBe(true);
    expect(callback.redirects.some((url) => new URL(url).pathname.startsWith("/interaction/"))).toBe(true);
    const tokens = await authorizationCodeGrant(second.config, new URL(callback.url), second.checks);
    expect(tokens.claims()).toMatchObject({ email: "ana@triage.dev", aud: PUBLIC.clientId });
    expect(provider.signIns).toHaveLength(signInsBefore);
  });

  it("shows the account picker for prompt=select_account (as the app asks Entra) even when signed in", async () => {
    const browser = new TestBrowser();
    const first = await startSignIn(CONFIDENTIAL, { prompt: "select_account" });
    await signInAs(browser, await openLoginPage(browser, first), "ana@triage.dev");

    const again = await startSignIn(CONFIDENTIAL, { prompt: "select_account" });
    const sameAgain = await signInAs(browser, await openLoginPage(browser, again), "ana@triage.dev");
    const ana = await authorizationCodeGrant(again.config, new URL(sameAgain.url), again.checks);
    expect(ana.claims()?.email).toBe("ana@triage.dev");

    // Someone else: oidc-provider ends Ana's session first, through a page that posts itself.
    const other = await startSignIn(CONFIDENTIAL, { prompt: "select_account" });
    const switched = await signInAs(browser, await openLoginPage(browser, other), "ben@triage.dev");
    expect(switched.url.startsWith(app.callbackUrl)).toBe(true);
    expect(switched.redirects.map((url) => new URL(url).pathname)).toContain("/session/end/confirm");
    const ben = await authorizationCodeGrant(other.config, new URL(switched.url), other.checks);
    expect(ben.claims()?.email).toBe("ben@triage.dev");
  });

  it("shows the login page again with an error for an unknown email, and still signs in after", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const browser = new TestBrowser();
    const loginPage = await openLoginPage(browser, start);

    const again = await signInAs(browser, loginPage, "nobody@triage.dev");
    expect(again.status).toBe(200);
    expect(again.url).toBe(`${loginPage.url}/login`);
    expect(again.text).toContain("No account for nobody@triage.dev.");

    const callback = await signInAs(browser, again, "ana@triage.dev");
    const tokens = await authorizationCodeGrant(start.config, new URL(callback.url), start.checks);
    expect(tokens.claims()?.email).toBe("ana@triage.dev");
  });

  it("checks the password of people who have one", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const browser = new TestBrowser();
    const loginPage = await openLoginPage(browser, start);
    expect(loginPage.text).toContain('aria-label="Password for Cy Park"');

    for (const password of [undefined, "wrong"]) {
      const again = await signInAs(browser, loginPage, CY.email, { password });
      expect(again.text).toContain("Wrong password.");
      expect(again.url.startsWith(app.callbackUrl)).toBe(false);
    }

    const callback = await signInAs(browser, loginPage, CY.email, { password: CY.password });
    const tokens = await authorizationCodeGrant(start.config, new URL(callback.url), start.checks);
    expect(tokens.claims()).toMatchObject({ email: CY.email, name: CY.name });
  });

  it("sends access_denied back to the app on cancel", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const browser = new TestBrowser();
    const loginPage = await openLoginPage(browser, start);

    const redirect = await browser.submitForm(loginPage, { formAction: `${loginPage.url}/abort`, stopBefore: toCallback });
    const location = new URL(redirect.headers.get("location")!, redirect.url);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe(start.checks.expectedState);
    await expect(authorizationCodeGrant(start.config, location, start.checks)).rejects.toMatchObject({ error: "access_denied" });
  });

  it("gets the ID token rejected by openid-client when the nonce is not the one sent", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const browser = new TestBrowser();
    const callback = await signInAs(browser, await openLoginPage(browser, start), "ben@triage.dev");

    const checks = { ...start.checks, expectedNonce: randomNonce() };
    await expect(authorizationCodeGrant(start.config, new URL(callback.url), checks)).rejects.toMatchObject({
      code: "OAUTH_JWT_CLAIM_COMPARISON_FAILED",
      cause: { message: 'unexpected ID Token "nonce" claim value' },
    });
  });

  it("requires PKCE: no code_challenge is an invalid_request, a wrong verifier an invalid_grant", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const withoutPkce = new URL(start.authorizationUrl);
    withoutPkce.searchParams.delete("code_challenge");
    withoutPkce.searchParams.delete("code_challenge_method");
    const refused = await new TestBrowser().get(withoutPkce, { stopBefore: toCallback });
    const location = new URL(refused.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("error_description")).toMatch(/requires PKCE/);

    const browser = new TestBrowser();
    const callback = await signInAs(browser, await openLoginPage(browser, start), "ben@triage.dev");
    const checks = { ...start.checks, pkceCodeVerifier: randomPKCECodeVerifier() };
    await expect(authorizationCodeGrant(start.config, new URL(callback.url), checks)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("never redirects to an unregistered redirect_uri", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const elsewhere = new URL(start.authorizationUrl);
    elsewhere.searchParams.set("redirect_uri", "http://127.0.0.1:9/steal");
    const page = await new TestBrowser().get(elsewhere);
    expect(page.status).toBe(400);
    expect(page.redirects).toEqual([]);
    expect(page.text).toContain("redirect_uri");
  });

  it("answers a login page opened without its interaction cookie with an expired page", async () => {
    const start = await startSignIn(CONFIDENTIAL);
    const loginPage = await openLoginPage(new TestBrowser(), start);
    const elsewhere = await new TestBrowser().get(loginPage.url);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.text).toContain("This sign-in has expired");
  });

  it("issues the claims a person is given: some left out (null), some changed, Entra's added", async () => {
    const eve = provider.addPerson({
      email: "eve@triage.dev",
      name: "Eve Moss",
      claims: {
        email: null,
        email_verified: null,
        preferred_username: "ana@triage.dev",
        oid: "0f4c1d0e-1111-4000-8000-00000000e0e0",
        tid: "5e3a9c11-2222-4000-8000-00000000e0e0",
        xms_edov: false,
      },
    });
    const start = await startSignIn(CONFIDENTIAL);
    const browser = new TestBrowser();
    const loginPage = await openLoginPage(browser, start);
    expect(loginPage.text).toContain("Eve Moss");
    const callback = await signInAs(browser, loginPage, "eve@triage.dev");
    const claims = (await authorizationCodeGrant(start.config, new URL(callback.url), start.checks)).claims()!;
    expect(claims).toMatchObject({
      sub: eve.sub,
      name: "Eve Moss",
      preferred_username: "ana@triage.dev",
      oid: "0f4c1d0e-1111-4000-8000-00000000e0e0",
      tid: "5e3a9c11-2222-4000-8000-00000000e0e0",
      xms_edov: false,
    });
    expect(claims).not.toHaveProperty("email");
    expect(claims).not.toHaveProperty("email_verified");
  });

  it("entra: publishes Entra's discovery fields; a client added after start signs in", async () => {
    const entra = await startOidcProvider({ clients: [], entra: true });
    try {
      const metadata = (await (await fetch(`${entra.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({ issuer: entra.issuer, cloud_instance_name: "microsoftonline.com", msgraph_host: "graph.microsoft.com" });

      await entra.addClient({ ...CONFIDENTIAL, redirectUris: [app.callbackUrl] });
      const config = await discovery(new URL(entra.issuer), CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret, undefined, {
        execute: [allowInsecureRequests],
      });
      const checks = { pkceCodeVerifier: randomPKCECodeVerifier(), expectedState: randomState(), expectedNonce: randomNonce() };
      const authorizationUrl = buildAuthorizationUrl(config, {
        redirect_uri: app.callbackUrl,
        scope: "openid email profile",
        code_challenge: await calculatePKCECodeChallenge(checks.pkceCodeVerifier),
        code_challenge_method: "S256",
        state: checks.expectedState,
        nonce: checks.expectedNonce,
      });
      const browser = new TestBrowser();
      const callback = await signInAs(browser, await browser.get(authorizationUrl), "ana@triage.dev");
      expect((await authorizationCodeGrant(config, new URL(callback.url), checks)).claims()).toMatchObject({ email: "ana@triage.dev" });
    } finally {
      await entra.stop();
    }
    const plain = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(plain).not.toHaveProperty("cloud_instance_name");
  });

  it("defaults to Ana and Ben, with stable subjects", async () => {
    const other = await startOidcProvider({ clients: [{ ...PUBLIC, redirectUris: [app.callbackUrl] }] });
    try {
      expect(other.people.map(({ email, name }) => ({ email, name }))).toEqual([
        { email: "ana@triage.dev", name: "Ana Lima" },
        { email: "ben@triage.dev", name: "Ben Okafor" },
      ]);
      expect(other.people.map((person) => person.sub)).toEqual(provider.people.slice(0, 2).map((person) => person.sub));
    } finally {
      await other.stop();
    }
  });
});

/** Plays the app's callback page; the tests read `code` and `state` from the browser's final URL. */
async function startCallbackApp(): Promise<{ server: Server; callbackUrl: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<p>Signed in.</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, callbackUrl: `http://127.0.0.1:${port}/auth/callback` };
}
