import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
import { deriveKey } from "../../shared/identity/keys";
import { issueLinkToken, verifyLinkToken, type LinkRequest } from "../../shared/storage/link-tokens";
import { signInAs, TestBrowser } from "../support/browser";
import { logsOnceLogged } from "../support/host-process";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let key: Uint8Array;
let request: LinkRequest;

beforeAll(async () => {
  stack = await startStack();
  key = deriveKey(Buffer.from(stack.env.LINK_SIGNING_KEY!, "hex"), "link-token");
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  request = {
    provider: "msteams",
    scope: stack.teams.tenantId,
    chatUserId: ana.aadObjectId,
    teamsUserId: ana.id,
    confirm: { kind: "teams", serviceUrl: stack.teams.serviceUrl, conversationId: stack.teams.personalConversation(ana).id },
  };
});
afterAll(async () => {
  await stack?.stop();
});

const linkUrl = (token: string) => `${stack.api}/link?token=${encodeURIComponent(token)}`;
const linked = () => new IdentityRepository(stack.storage).get("msteams", stack.teams.tenantId, request.chatUserId);

async function open(token: string) {
  return new TestBrowser().get(linkUrl(token));
}

describe("link tokens: the page says why, and nothing is linked", () => {
  it("expired", async () => {
    const page = await open(await issueLinkToken(key, request, new Date(Date.now() - 16 * 60_000)));
    expect(page.status).toBe(410);
    expect(page.text).toMatch(/This link has expired/);
    expect(await linked()).toBeUndefined();
  });

  it("bad signature (made with another key)", async () => {
    const page = await open(await issueLinkToken(deriveKey(new Uint8Array(32).fill(9), "link-token"), request));
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/This link isn.*t valid/);
  });

  it("a token made for another purpose with the same secret does not verify", async () => {
    const page = await open(await issueLinkToken(deriveKey(Buffer.from(stack.env.LINK_SIGNING_KEY!, "hex"), "link-session"), request));
    expect(page.text).toMatch(/This link isn.*t valid/);
  });

  it("altered claims (bits of the encrypted token flipped)", async () => {
    const parts = (await issueLinkToken(key, request)).split(".");
    const ciphertext = Buffer.from(parts[3]!, "base64url");
    ciphertext[5] = ciphertext[5]! ^ 0xff;
    parts[3] = ciphertext.toString("base64url");
    const page = await open(parts.join("."));
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/altered/);
    expect(await linked()).toBeUndefined();
  });

  it("a token for another tenant", async () => {
    const page = await open(await issueLinkToken(key, { ...request, scope: "99999999-9999-4999-8999-999999999999" }));
    expect(page.status).toBe(403);
    expect(page.text).toMatch(/another organisation/);
  });

  it("reused: works once, then says it was used", async () => {
    const token = await issueLinkToken(key, request);
    const browser = new TestBrowser();
    const confirm = await signInAs(browser, await browser.get(linkUrl(token)), "ana@triage.dev");
    expect(await linked()).toBeUndefined(); // nothing until confirmed
    const done = await browser.submitForm(confirm);
    expect(done.status).toBe(200);
    expect(await linked()).toMatchObject({ person: { email: "ana@triage.dev" }, how: "explicit" });
    await new IdentityRepository(stack.storage).unlink("msteams", stack.teams.tenantId, request.chatUserId);

    const again = await new TestBrowser().get(linkUrl(token));
    expect(again.status).toBe(410);
    expect(again.text).toMatch(/already used/);
    expect(await linked()).toBeUndefined();
  });
});

describe("the OIDC callback refuses what doesn't match", () => {
  /** Runs the sign-in up to the provider's redirect back to us, without following it. */
  async function upToCallback(browser: TestBrowser, token: string, tamperAuthorization?: (url: URL) => void) {
    const toProvider = await browser.get(linkUrl(token), { stopBefore: (next) => !next.pathname.startsWith("/api/link") });
    const authorization = new URL(toProvider.headers.get("location")!);
    tamperAuthorization?.(authorization);
    const login = await browser.get(authorization.toString());
    const back = await signInAs(browser, login, "ben@triage.dev", { stopBefore: (next) => next.pathname === "/api/link/callback" });
    return new URL(back.headers.get("location")!);
  }

  it("a wrong state", async () => {
    const browser = new TestBrowser();
    const callback = await upToCallback(browser, await issueLinkToken(key, request));
    callback.searchParams.set("state", "not-the-state-we-sent");
    const page = await browser.get(callback.toString());
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/You.*re not linked/);
    expect(await linked()).toBeUndefined();
  });

  it("a wrong nonce in the ID token", async () => {
    const browser = new TestBrowser();
    const callback = await upToCallback(browser, await issueLinkToken(key, request), (url) => url.searchParams.set("nonce", "someone-elses-nonce"));
    const page = await browser.get(callback.toString());
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/could not be verified/);
    expect(await linked()).toBeUndefined();
  });

  it("a callback opened in another browser (no session): the log says why", async () => {
    const callback = await upToCallback(new TestBrowser(), await issueLinkToken(key, request));
    const mark = stack.host.logs().length;
    const page = await new TestBrowser().get(callback.toString());
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/another browser/);
    expect(await logsOnceLogged(stack.host, "Link refused", mark)).toMatch(/WARN .*Link refused \(400\): no link session cookie/);
    expect(await linked()).toBeUndefined();
  });

  it("a cancelled sign-in", async () => {
    const browser = new TestBrowser();
    const callback = await upToCallback(browser, await issueLinkToken(key, request));
    const cancelled = new URL(callback);
    cancelled.search = `?error=access_denied&state=${callback.searchParams.get("state")}`;
    const page = await browser.get(cancelled.toString());
    expect(page.text).toMatch(/cancelled/);
    expect(await linked()).toBeUndefined();
  });

  it("a provider error carrying more than an error code: the log keeps one line, without the extra text", async () => {
    const browser = new TestBrowser();
    const callback = await upToCallback(browser, await issueLinkToken(key, request));
    const forged = new URL(callback);
    forged.search = `?error=${encodeURIComponent("server_error\nLink: user linked as boss@contoso.com")}&state=${callback.searchParams.get("state")}`;
    const logsBefore = stack.host.logs().length;
    const page = await browser.get(forged.toString());
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/The sign-in failed \(server_error\?Link/);
    const logs = await logsOnceLogged(stack.host, "sign-in refused", logsBefore);
    expect(logs).toContain("sign-in refused (provider-error server_error?Link");
    expect(logs).not.toMatch(/^Link: user linked/m);
    expect(logs).not.toContain("boss@contoso.com");
    expect(await linked()).toBeUndefined();
  });
});

describe("the sign-in provider is down when the person comes back", () => {
  it("its token endpoint answers 503: the page says unavailable (503), the log says outage, and the same link works afterwards", async () => {
    const browser = new TestBrowser();
    const token = await issueLinkToken(key, request);
    const toProvider = await browser.get(linkUrl(token), { stopBefore: (next) => !next.pathname.startsWith("/api/link") });
    const login = await browser.get(toProvider.headers.get("location")!);
    const back = await signInAs(browser, login, "ana@triage.dev", { stopBefore: (next) => next.pathname === "/api/link/callback" });
    const mark = stack.host.logs().length;
    stack.oidc.failTokenRequests(503);
    let page;
    try {
      page = await browser.get(back.headers.get("location")!);
    } finally {
      stack.oidc.failTokenRequests(undefined);
    }
    expect(page.status).toBe(503);
    expect(page.text).toMatch(/Sign-in is unavailable right now/);
    const logs = await logsOnceLogged(stack.host, "Link: sign-in provider unavailable", mark);
    expect(logs).toContain("Link: sign-in provider unavailable: the token endpoint answered 503");
    expect(logs).not.toContain("sign-in refused");
    expect(await linked()).toBeUndefined();

    const retry = new TestBrowser();
    const confirm = await signInAs(retry, await retry.get(linkUrl(token)), "ana@triage.dev");
    const done = await retry.submitForm(confirm);
    // The page, not this process's read of the link: an unlink above is trusted here for a few seconds.
    expect(done.status).toBe(200);
    expect(done.text).toMatch(/linked as ana@triage\.dev/);
    await new IdentityRepository(stack.storage).unlink("msteams", stack.teams.tenantId, request.chatUserId);
  });
});

describe("confirming the link", () => {
  it("shows who is being linked, and a confirmation posted from elsewhere (no matching cookie or token) links nothing", async () => {
    const named = { ...request, chatUserName: "Ana Lima" };
    const browser = new TestBrowser();
    const confirm = await signInAs(browser, await browser.get(linkUrl(await issueLinkToken(key, named))), "ben@triage.dev");
    expect(confirm.text).toContain("Link the Teams user “Ana Lima” to you");

    const mark = stack.host.logs().length;
    const forged = await new TestBrowser().post(`${stack.api}/link/confirm`, { csrf: "guess" });
    expect(forged.status).toBe(400);
    const wrongToken = await browser.submitForm(confirm, { fields: { csrf: "not-the-token" } });
    expect(wrongToken.status).toBe(400);
    expect(await linked()).toBeUndefined();

    const logs = await logsOnceLogged(stack.host, /Link refused.*CSRF/, mark);
    expect(logs).toMatch(/WARN .*Link refused \(400\): no link session cookie/);
    expect(logs).toMatch(/WARN .*Link refused \(400\): the form's CSRF value doesn't match the session's/);
    expect(logs).not.toMatch(/not-the-token|ben@triage\.dev|triage_link_session=/);
  });

  it("a confirmation posted before the sign-in (the browser holds the first step's cookie, the form is empty) is refused, and the link still works", async () => {
    const token = await issueLinkToken(key, request);
    const early = new TestBrowser();
    await early.get(linkUrl(token), { stopBefore: (next) => !next.pathname.startsWith("/api/link") });
    expect(Object.keys(early.cookies(`${stack.api}/link/confirm`))).toEqual(["triage_link_session"]);
    const mark = stack.host.logs().length;

    const refused = await early.post(`${stack.api}/link/confirm`, {});
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/can.*t be matched to a sign-in/);
    expect(await logsOnceLogged(stack.host, "Link refused", mark)).toMatch(/WARN .*Link refused \(400\): link session is from another step/);
    expect(await linked()).toBeUndefined();
    expect(await verifyLinkToken(key, token, stack.storage)).toMatchObject({ ok: true });

    const browser = new TestBrowser();
    const confirm = await signInAs(browser, await browser.get(linkUrl(token)), "ana@triage.dev");
    const done = await browser.submitForm(confirm);
    expect(done.status).toBe(200);
    expect(done.text).toMatch(/linked as ana@triage\.dev/);
    await new IdentityRepository(stack.storage).unlink("msteams", stack.teams.tenantId, request.chatUserId);
  });

  it("an oversized confirmation is refused (413) and the log says why, without the body", async () => {
    const mark = stack.host.logs().length;
    const page = await new TestBrowser().post(`${stack.api}/link/confirm`, { csrf: "x".repeat(5000) });
    expect(page.status).toBe(413);
    const logs = await logsOnceLogged(stack.host, "Link refused", mark);
    expect(logs).toMatch(/WARN .*Link refused \(413\): confirmation body over 4096 bytes/);
    expect(logs).not.toContain("xxxxxxxx");
  });
});

describe("what a link reveals", () => {
  it("a link token is opaque: no user id or response_url readable in the URL", async () => {
    const slackRequest: LinkRequest = {
      provider: "slack",
      scope: "T0SECRET",
      chatUserId: "U0SECRET",
      confirm: { kind: "slack", userId: "U0SECRET", responseUrl: "https://hooks.slack.com/actions/T0SECRET/secret" },
    };
    const token = await issueLinkToken(key, slackRequest);
    const readable = token
      .split(".")
      .map((part) => Buffer.from(part, "base64url").toString("latin1"))
      .join(" ");
    expect(readable).not.toMatch(/U0SECRET|hooks\.slack\.com|T0SECRET/);
  });
});
