import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ErrorCode, LogLevel, WebClient, type Logger, type ModalView, type WebAPIPlatformError, type WebAPIRateLimitedError } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createManualClock, startSlackEmulator, type ManualClock, type SlackEmulator, type WorkspaceHandle } from "../../dev/emulators/slack";

const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";

const cardBlocks = [
  { type: "section", text: { type: "mrkdwn", text: "*CPU high* on web-1" } },
  {
    type: "actions",
    block_id: "issue:42",
    elements: [
      { type: "button", action_id: "ack", text: { type: "plain_text", text: "Acknowledge" }, value: "42" },
      {
        type: "static_select",
        action_id: "severity",
        placeholder: { type: "plain_text", text: "Severity" },
        options: [
          { text: { type: "plain_text", text: "High" }, value: "high" },
          { text: { type: "plain_text", text: "Low" }, value: "low" },
        ],
      },
    ],
  },
];

let clock: ManualClock;
let emu: SlackEmulator;
let ws: WorkspaceHandle;
let alerts: string;
let alice: string;

// WebClient logs Slack's `[ERROR] …` response_metadata messages itself, even for calls it then rejects.
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function client(token?: string): WebClient {
  return new WebClient(token, {
    slackApiUrl: emu.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    logger: silent,
  });
}

async function rejection<T = Error>(promise: Promise<unknown>): Promise<T> {
  try {
    await promise;
  } catch (error) {
    return error as T;
  }
  throw new Error("expected the call to fail");
}

function hmacHex(secret: string, base: string): string {
  return createHmac("sha256", secret).update(base).digest("hex");
}

beforeEach(async () => {
  clock = createManualClock(Date.now());
  emu = await startSlackEmulator({ signingSecret: SIGNING_SECRET, clientId: "111.222", clientSecret: "s3cret", clock });
  ws = emu.addWorkspace({ id: "T0ACME0001", name: "Acme Ops" });
  alerts = emu.addChannel(ws.teamId, { id: "C0ALERTS01", name: "alerts" }).id;
  alice = emu.addUser(ws.teamId, { id: "U0ALICE001", name: "alice", email: "alice@acme.test" }).id;
});

afterEach(async () => {
  await emu.stop();
});

describe("Web API through the real @slack/web-api client", () => {
  it("posts and updates a message", async () => {
    const web = client(ws.botToken);
    const posted = await web.chat.postMessage({ channel: alerts, text: "CPU high on web-1", blocks: cardBlocks });

    expect(posted.ok).toBe(true);
    expect(posted.channel).toBe(alerts);
    expect(posted.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(posted.message?.bot_id).toBe(ws.botId);
    const stored = emu.message(alerts, posted.ts!)!;
    expect(stored.text).toBe("CPU high on web-1");
    expect(stored.blocks[0]!.block_id).toMatch(/^[A-Za-z0-9]{5}$/); // Slack fills in missing block ids
    expect(stored.blocks[1]!.block_id).toBe("issue:42");

    const updated = await web.chat.update({ channel: alerts, ts: posted.ts!, text: "Acknowledged by alice" });
    expect(updated.ts).toBe(posted.ts);
    expect(emu.message(alerts, posted.ts!)).toMatchObject({ text: "Acknowledged by alice", blocks: [], updates: 1 });
  });

  it("sees exactly what the client sends: form-encoded, JSON inside fields, token only in the header", async () => {
    const web = client();
    await web.chat.postMessage({ token: ws.botToken, channel: alerts, text: "hi", blocks: cardBlocks, unfurl_links: false });

    const [call] = emu.callsTo("chat.postMessage");
    expect(call).toMatchObject({ teamId: ws.teamId, ok: true, httpStatus: 200 });
    expect(call!.params).not.toHaveProperty("token");
    expect(call!.params.unfurl_links).toBe("false");
    expect(typeof call!.params.blocks).toBe("string");
    expect(JSON.parse(call!.params.blocks as string)).toEqual(cardBlocks);
  });

  it("accepts JSON bodies with a bearer token", async () => {
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "content-type": "application/json; charset=utf-8", authorization: `Bearer ${ws.botToken}` },
      body: JSON.stringify({ channel: alerts, text: "json", blocks: cardBlocks }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, channel: alerts });
  });

  it("only lets the bot edit its own messages", async () => {
    const web = client(ws.botToken);
    const human = emu.addMessage(alerts, { user: alice, text: "I'm on it" });

    const notMine = await rejection<WebAPIPlatformError>(web.chat.update({ channel: alerts, ts: human.ts, text: "x" }));
    expect(notMine.data.error).toBe("cant_update_message");
    const missing = await rejection<WebAPIPlatformError>(web.chat.update({ channel: alerts, ts: "1.000001", text: "x" }));
    expect(missing.data.error).toBe("message_not_found");
  });

  it("posts ephemerals only to channel members", async () => {
    const web = client(ws.botToken);
    const { message_ts } = await web.chat.postEphemeral({ channel: alerts, user: alice, text: "only you" });
    expect(emu.message(alerts, message_ts!)?.ephemeral).toEqual({ user: alice });

    const ops = emu.addChannel(ws.teamId, { name: "ops", members: [] }).id;
    const error = await rejection<WebAPIPlatformError>(web.chat.postEphemeral({ channel: ops, user: alice, text: "x" }));
    expect(error.data.error).toBe("user_not_in_channel");
  });

  it("rejects posts to channels the bot cannot use", async () => {
    const web = client(ws.botToken);
    const secret = emu.addChannel(ws.teamId, { name: "secret", isPrivate: true, botIsMember: false }).id;
    const old = emu.addChannel(ws.teamId, { name: "old", archived: true }).id;
    const errorOf = async (channel: string) => (await rejection<WebAPIPlatformError>(web.chat.postMessage({ channel, text: "x" }))).data.error;

    expect(await errorOf(secret)).toBe("channel_not_found");
    expect(await errorOf(old)).toBe("is_archived");
    expect(await errorOf("C0NOWHERE1")).toBe("channel_not_found");
  });

  it("answers not_in_channel for public channels when the app lacks chat:write.public", async () => {
    const narrow = emu.addWorkspace({ name: "Narrow", scopes: ["chat:write"] });
    const lobby = emu.addChannel(narrow.teamId, { name: "lobby", botIsMember: false }).id;
    const error = await rejection<WebAPIPlatformError>(client(narrow.botToken).chat.postMessage({ channel: lobby, text: "x" }));
    expect(error.data.error).toBe("not_in_channel");
  });

  it("reports missing scopes like Slack, with needed and provided", async () => {
    const narrow = emu.addWorkspace({ name: "Narrow", scopes: ["chat:write", "users:read"] });
    const error = await rejection<WebAPIPlatformError>(client(narrow.botToken).users.lookupByEmail({ email: "a@b.c" }));
    expect(error.data).toMatchObject({ error: "missing_scope", needed: "users:read.email", provided: "chat:write,users:read" });
  });

  it("validates blocks", async () => {
    const web = client(ws.botToken);
    const tooLong = [
      { type: "actions", elements: [{ type: "button", action_id: "a", text: { type: "plain_text", text: "A" }, value: "v".repeat(2001) }] },
    ];
    const error = await rejection<WebAPIPlatformError>(web.chat.postMessage({ channel: alerts, text: "x", blocks: tooLong }));
    expect(error.data.error).toBe("invalid_blocks");
    expect(error.data.response_metadata?.messages?.[0]).toContain("/blocks/0/elements/0/value");
    const empty = await rejection<WebAPIPlatformError>(web.chat.postMessage({ channel: alerts, text: "" }));
    expect(empty.data.error).toBe("no_text");
  });

  it("finds users by email and opens a stable DM", async () => {
    const web = client(ws.botToken);
    const found = await web.users.lookupByEmail({ email: "ALICE@acme.test" });
    expect(found.user).toMatchObject({ id: alice, team_id: ws.teamId, name: "alice", profile: { email: "alice@acme.test" } });
    const missing = await rejection<WebAPIPlatformError>(web.users.lookupByEmail({ email: "nobody@acme.test" }));
    expect(missing.data.error).toBe("users_not_found");

    const bob = emu.addUser(ws.teamId, { name: "bob" }).id;
    const info = await web.users.info({ user: bob });
    expect(info.user?.profile).not.toHaveProperty("email");

    const first = await web.conversations.open({ users: alice });
    const second = await web.conversations.open({ users: alice });
    expect(first.channel?.id).toMatch(/^D[A-Z0-9]{10}$/);
    expect(second).toMatchObject({ channel: { id: first.channel?.id }, already_open: true });

    const dm = await web.chat.postMessage({ channel: alice, text: "You were paged" });
    expect(dm.channel).toBe(first.channel?.id);
    await web.chat.postMessage({ channel: dm.channel!, text: "2" });
    await web.chat.postMessage({ channel: alice, text: "3" });
    const limited = await rejection<WebAPIRateLimitedError>(web.chat.postMessage({ channel: dm.channel!, text: "4" }));
    expect(limited.code).toBe(ErrorCode.RateLimitedError); // user id and DM id share one per-channel budget
  });

  it("covers the rest of the subset: delete, conversations.info/list, views.update, unknown methods", async () => {
    const web = client(ws.botToken);
    const { ts } = await web.chat.postMessage({ channel: "#alerts", text: "by name" });
    await expect(web.conversations.info({ channel: alerts })).resolves.toMatchObject({
      channel: { id: alerts, name: "alerts", is_member: true, is_archived: false },
    });
    const listed = await web.conversations.list({ types: "public_channel,private_channel" });
    expect(listed.channels?.map((c) => c.id)).toEqual([alerts]);

    await web.chat.delete({ channel: alerts, ts: ts! });
    expect(emu.messages(alerts)).toEqual([]);

    const trigger = emu.slashCommand({ teamId: ws.teamId, user: alice, channel: alerts, command: "/triage" }).trigger_id!;
    const loading: ModalView = { type: "modal", external_id: "ack-1", title: { type: "plain_text", text: "Loading…" }, blocks: [] };
    const opened = await web.views.open({ trigger_id: trigger, view: loading });
    const updated = await web.views.update({ external_id: "ack-1", view: { ...loading, title: { type: "plain_text", text: "Done" } } });
    expect(updated.view?.id).toBe(opened.view?.id);
    expect((await rejection<WebAPIPlatformError>(web.views.update({ external_id: "nope", view: loading }))).data.error).toBe("not_found");

    const unknown = await rejection<WebAPIPlatformError>(web.apiCall("chat.teleport"));
    expect(unknown.data).toMatchObject({ error: "unknown_method", req_method: "chat.teleport" });
  });
});

describe("rate limits", () => {
  it("throttles chat.postMessage per channel; the client throws a rate-limited error with retryAfter", async () => {
    const web = client(ws.botToken);
    for (let i = 0; i < 3; i++) await web.chat.postMessage({ channel: alerts, text: `burst ${i}` });

    const error = await rejection<WebAPIRateLimitedError>(web.chat.postMessage({ channel: alerts, text: "one too many" }));
    expect(error.code).toBe(ErrorCode.RateLimitedError);
    expect(error.retryAfter).toBe(1);
    expect(emu.callsTo("chat.postMessage").at(-1)).toMatchObject({ ok: false, error: "ratelimited", httpStatus: 429 });

    const other = emu.addChannel(ws.teamId, { name: "other" }).id;
    await expect(web.chat.postMessage({ channel: other, text: "other channel" })).resolves.toMatchObject({ ok: true });

    clock.advance(1_000);
    await expect(web.chat.postMessage({ channel: alerts, text: "after a second" })).resolves.toMatchObject({ ok: true });
  });

  it("applies tier 3 to chat.update per workspace", async () => {
    const web = client(ws.botToken);
    const { ts } = await web.chat.postMessage({ channel: alerts, text: "card" });
    for (let i = 0; i < 50; i++) await web.chat.update({ channel: alerts, ts: ts!, text: `v${i}` });

    const error = await rejection<WebAPIRateLimitedError>(web.chat.update({ channel: alerts, ts: ts!, text: "v50" }));
    expect(error.code).toBe(ErrorCode.RateLimitedError);
    expect(error.retryAfter).toBe(2); // one call per 1.2 s, rounded up
  });

  it("can be switched off", async () => {
    const relaxed = await startSlackEmulator({ signingSecret: SIGNING_SECRET, enforceRateLimits: false });
    try {
      const team = relaxed.addWorkspace({ name: "Relaxed" });
      const channel = relaxed.addChannel(team.teamId, { name: "c" }).id;
      const web = new WebClient(team.botToken, { slackApiUrl: relaxed.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
      for (let i = 0; i < 10; i++) await web.chat.postMessage({ channel, text: `${i}` });
      expect(relaxed.messages(channel)).toHaveLength(10);
    } finally {
      await relaxed.stop();
    }
  });
});

describe("fault injection", () => {
  it("turns an injected error into a platform error, once", async () => {
    const web = client(ws.botToken);
    emu.injectError({ method: "chat.postMessage", channel: alerts, error: "channel_not_found" });

    const error = await rejection<WebAPIPlatformError>(web.chat.postMessage({ channel: alerts, text: "x" }));
    expect(error.code).toBe(ErrorCode.PlatformError);
    expect(error.data.error).toBe("channel_not_found");
    await expect(web.chat.postMessage({ channel: alerts, text: "x" })).resolves.toMatchObject({ ok: true });
  });

  it("serves injected 429s and 5xx", async () => {
    const web = client(ws.botToken);
    emu.injectError({ method: "chat.update", error: "ratelimited", retryAfterSec: 7 });
    emu.injectError({ method: "chat.postMessage", httpStatus: 503, times: 2 });

    const limited = await rejection<WebAPIRateLimitedError>(web.chat.update({ channel: alerts, ts: "1.1", text: "x" }));
    expect(limited.retryAfter).toBe(7);
    const outage = await rejection<{ code: string; statusCode: number }>(web.chat.postMessage({ channel: alerts, text: "x" }));
    expect(outage).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    expect(emu.callsTo("chat.postMessage")[0]).toMatchObject({ ok: false, httpStatus: 503 });

    emu.clearFaults();
    await expect(web.chat.postMessage({ channel: alerts, text: "x" })).resolves.toMatchObject({ ok: true });
  });

  it("delays answers", async () => {
    emu.injectError({ method: "auth.test", delayMs: 80 });
    const started = performance.now();
    await expect(client(ws.botToken).auth.test()).resolves.toMatchObject({ ok: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
  });
});

describe("tokens", () => {
  it("distinguishes missing, unknown, revoked and expired tokens", async () => {
    const errorOf = async (web: WebClient) => (await rejection<WebAPIPlatformError>(web.auth.test())).data.error;
    const other = emu.addWorkspace({ name: "Other" });

    expect(await errorOf(client())).toBe("not_authed");
    expect(await errorOf(client("xoxb-0-0-nope"))).toBe("invalid_auth");
    await expect(client(ws.botToken).auth.test()).resolves.toMatchObject({ team_id: ws.teamId, user_id: ws.botUserId });

    emu.revokeTokens(ws.teamId);
    expect(await errorOf(client(ws.botToken))).toBe("token_revoked");
    emu.expireToken(other.botToken);
    expect(await errorOf(client(other.botToken))).toBe("token_expired");
  });

  it("expires rotating tokens after 12 hours", async () => {
    const rotating = emu.addWorkspace({ name: "Rotating", rotation: true });
    expect(rotating.botToken).toMatch(/^xoxe\.xoxb-/);
    expect(rotating.refreshToken).toMatch(/^xoxe-1-/);
    await expect(client(rotating.botToken).auth.test()).resolves.toMatchObject({ ok: true });

    clock.advance(43_200_000);
    const error = await rejection<WebAPIPlatformError>(client(rotating.botToken).auth.test());
    expect(error.data.error).toBe("token_expired");
  });
});

describe("OAuth v2", () => {
  async function authorizeUrl(params: Record<string, string>): Promise<URL> {
    const res = await fetch(`${emu.url}/oauth/v2/authorize?${new URLSearchParams(params)}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    return new URL(res.headers.get("location")!);
  }

  it("installs through the authorize redirect and oauth.v2.access", async () => {
    const installer = emu.addUser(ws.teamId, { name: "admin" }).id;
    emu.setAuthorizeAs({ teamId: ws.teamId, userId: installer });
    const redirectUri = "https://relay.example/slack/oauth_redirect";
    const back = await authorizeUrl({ client_id: "111.222", scope: "chat:write,commands", redirect_uri: redirectUri, state: "st-1" });
    expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
    expect(back.searchParams.get("state")).toBe("st-1");
    const code = back.searchParams.get("code")!;

    const install = await client().oauth.v2.access({ client_id: "111.222", client_secret: "s3cret", code, redirect_uri: redirectUri });
    expect(install).toMatchObject({
      ok: true,
      token_type: "bot",
      scope: "chat:write,commands",
      bot_user_id: ws.botUserId,
      app_id: emu.appId,
      team: { id: ws.teamId, name: "Acme Ops" },
      enterprise: null,
      authed_user: { id: installer },
      is_enterprise_install: false,
    });
    expect(install.access_token).toBe(ws.botToken); // reinstalling a non-rotating app keeps its token
    expect(install).not.toHaveProperty("refresh_token");

    const reused = await rejection<WebAPIPlatformError>(client().oauth.v2.access({ client_id: "111.222", client_secret: "s3cret", code }));
    expect(reused.data.error).toBe("invalid_code");
  });

  it("checks client credentials, from form fields or HTTP Basic", async () => {
    const code = (await authorizeUrl({ client_id: "111.222", redirect_uri: "https://r.example/cb" })).searchParams.get("code")!;
    const wrong = await rejection<WebAPIPlatformError>(client().oauth.v2.access({ client_id: "111.222", client_secret: "nope", code }));
    expect(wrong.data.error).toBe("bad_client_secret");

    const res = await fetch(`${emu.apiUrl}oauth.v2.access`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("111.222:s3cret").toString("base64")}`,
      },
      body: new URLSearchParams({ code }).toString(),
    });
    expect(await res.json()).toMatchObject({ ok: true, team: { id: ws.teamId } });
    const exchanges = emu.callsTo("oauth.v2.access");
    expect(exchanges.every((c) => !("client_secret" in c.params))).toBe(true);
    expect(exchanges.at(-1)).toMatchObject({ ok: true, teamId: ws.teamId });
  });

  it("redirects with access_denied when the user cancels", async () => {
    emu.setAuthorizeDenied(true);
    const back = await authorizeUrl({ client_id: "111.222", redirect_uri: "https://r.example/cb", state: "st-2" });
    expect(Object.fromEntries(back.searchParams)).toEqual({ error: "access_denied", state: "st-2" });
  });

  it("rotates tokens: refresh tokens are single-use, the old access token lives until it expires", async () => {
    const rotating = emu.addWorkspace({ name: "Rotating", rotation: true });
    const admin = emu.addUser(rotating.teamId, { name: "admin" }).id;
    emu.setAuthorizeAs({ teamId: rotating.teamId, userId: admin });
    const code = (await authorizeUrl({ client_id: "111.222", redirect_uri: "https://r.example/cb" })).searchParams.get("code")!;
    const credentials = { client_id: "111.222", client_secret: "s3cret" };

    const install = await client().oauth.v2.access({ ...credentials, code });
    expect(install.access_token).toMatch(/^xoxe\.xoxb-/);
    expect(install.refresh_token).toMatch(/^xoxe-1-/);
    expect(install.expires_in).toBe(43_200);

    clock.advance(60_000);
    const refreshed = await client().oauth.v2.access({ ...credentials, grant_type: "refresh_token", refresh_token: install.refresh_token! });
    expect(refreshed.access_token).not.toBe(install.access_token);
    expect(refreshed.refresh_token).not.toBe(install.refresh_token);
    expect(refreshed.expires_in).toBe(43_200);

    const reuse = await rejection<WebAPIPlatformError>(
      client().oauth.v2.access({ ...credentials, grant_type: "refresh_token", refresh_token: install.refresh_token! }),
    );
    expect(reuse.data.error).toBe("invalid_refresh_token");

    await expect(client(install.access_token).auth.test()).resolves.toMatchObject({ ok: true });
    clock.advance(43_200_000 - 60_000);
    expect((await rejection<WebAPIPlatformError>(client(install.access_token).auth.test())).data.error).toBe("token_expired");
    await expect(client(refreshed.access_token).auth.test()).resolves.toMatchObject({ ok: true });
  });
});

describe("requests to the app", () => {
  interface Captured {
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }
  let app: Server;
  let appUrl: string;
  let received: Captured[];

  beforeEach(async () => {
    received = [];
    app = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ received: true }));
      });
    });
    await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/api/slack`;
  });

  afterEach(async () => {
    await new Promise((resolve) => app.close(resolve));
  });

  function assertSignedBySlack(request: Captured): void {
    const timestamp = request.headers["x-slack-request-timestamp"] as string;
    expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(5);
    expect(request.headers["x-slack-signature"]).toBe(`v0=${hmacHex(SIGNING_SECRET, `v0:${timestamp}:${request.body}`)}`);
  }

  it("signs like Slack: v0 = hex HMAC-SHA256 of v0:timestamp:body", () => {
    // Slack's documented example (https://api.slack.com/authentication/verifying-requests-from-slack).
    const body =
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    expect(emu.signature(body, { timestamp: 1531420618 })).toEqual({
      "x-slack-request-timestamp": "1531420618",
      "x-slack-signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    });
    expect(emu.signature("x", { timestamp: 1, secret: "other" })["x-slack-signature"]).toBe(`v0=${hmacHex("other", "v0:1:x")}`);
  });

  it("sends block_actions as a signed form with one payload field", async () => {
    const web = client(ws.botToken);
    const { ts } = await web.chat.postMessage({ channel: alerts, text: "CPU high", blocks: cardBlocks });
    const payload = emu.blockActions({
      teamId: ws.teamId,
      user: alice,
      channel: alerts,
      messageTs: ts!,
      actions: [{ action_id: "ack" }, { action_id: "severity", selected_option: { value: "high" } }],
    });

    const result = await emu.sendInteraction(appUrl, payload);
    expect(result).toMatchObject({ status: 200, json: { received: true }, timedOut: false });

    const [request] = received;
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    assertSignedBySlack(request!);
    const form = new URLSearchParams(request!.body);
    expect([...form.keys()]).toEqual(["payload"]);
    const sent = JSON.parse(form.get("payload")!);
    expect(sent).toMatchObject({
      type: "block_actions",
      team: { id: ws.teamId, domain: "acme-ops" },
      user: { id: alice, username: "alice", team_id: ws.teamId },
      api_app_id: emu.appId,
      container: { type: "message", message_ts: ts, channel_id: alerts, is_ephemeral: false },
      channel: { id: alerts, name: "alerts" },
      message: { ts, text: "CPU high", blocks: emu.message(alerts, ts!)!.blocks },
      actions: [
        { type: "button", action_id: "ack", block_id: "issue:42", value: "42" },
        {
          type: "static_select",
          action_id: "severity",
          block_id: "issue:42",
          selected_option: { value: "high", text: { type: "plain_text", text: "High" } },
        },
      ],
    });
    expect(sent.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    expect(sent.response_url).toMatch(new RegExp(`^${emu.url}/response/`));
    expect(sent.actions[0].action_ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it("lets the tamper and replay matrix through untouched", async () => {
    await emu.sendInteraction(appUrl, { type: "block_actions" }, { timestamp: 1_000_000_000, headers: { "x-slack-signature": null } });
    await emu.sendInteraction(appUrl, { type: "block_actions" }, { rawBody: "payload=%7B%7D", signedBody: "payload=%7B%22a%22%3A1%7D" });
    expect(received[0]!.headers["x-slack-request-timestamp"]).toBe("1000000000");
    expect(received[0]!.headers).not.toHaveProperty("x-slack-signature");
    expect(received[1]!.body).toBe("payload=%7B%7D");
    const ts = received[1]!.headers["x-slack-request-timestamp"];
    expect(received[1]!.headers["x-slack-signature"]).toBe(`v0=${hmacHex(SIGNING_SECRET, `v0:${ts}:payload=%7B%22a%22%3A1%7D`)}`);
  });

  it("gives up like Slack when the app does not answer within 3 seconds", async () => {
    const slow = createServer(() => {});
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
      const result = await emu.sendInteraction(url, {}, { timeoutMs: 50 });
      expect(result).toMatchObject({ status: 0, timedOut: true });
    } finally {
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it("sends slash commands as form fields with a response_url and trigger_id", async () => {
    const fields = emu.slashCommand({ teamId: ws.teamId, user: alice, channel: alerts, command: "/triage", text: "link me" });
    await emu.sendCommand(appUrl, fields);

    const [request] = received;
    assertSignedBySlack(request!);
    expect(request!.body).toContain("command=%2Ftriage&text=link+me");
    expect(Object.fromEntries(new URLSearchParams(request!.body))).toMatchObject({
      team_id: ws.teamId,
      team_domain: "acme-ops",
      channel_id: alerts,
      channel_name: "alerts",
      user_id: alice,
      user_name: "alice",
      command: "/triage",
      text: "link me",
      api_app_id: emu.appId,
      is_enterprise_install: "false",
      response_url: expect.stringMatching(/\/response\//),
      trigger_id: expect.any(String),
    });
  });

  it("sends events as signed JSON, with retry headers and url_verification", async () => {
    const envelope = emu.eventCallback({ teamId: ws.teamId, event: { type: "app_uninstalled" } });
    await emu.sendEvent(appUrl, envelope, { retryNum: 1, retryReason: "http_timeout" });
    const verification = await emu.sendUrlVerification(appUrl);

    const [event, challenge] = received;
    assertSignedBySlack(event!);
    expect(event!.headers["content-type"]).toBe("application/json");
    expect(event!.headers["x-slack-retry-num"]).toBe("1");
    expect(event!.headers["x-slack-retry-reason"]).toBe("http_timeout");
    expect(JSON.parse(event!.body)).toMatchObject({
      type: "event_callback",
      team_id: ws.teamId,
      api_app_id: emu.appId,
      event_id: expect.stringMatching(/^Ev/),
      event_time: expect.any(Number),
      event: { type: "app_uninstalled" },
    });
    expect(JSON.parse(challenge!.body)).toMatchObject({ type: "url_verification", challenge: verification.challenge });
  });
});

describe("trigger_id and response_url", () => {
  async function postCard(): Promise<string> {
    return (await client(ws.botToken).chat.postMessage({ channel: alerts, text: "CPU high", blocks: cardBlocks })).ts!;
  }
  const modal: ModalView = { type: "modal", title: { type: "plain_text", text: "Snooze" }, blocks: [] };

  it("opens a modal once per trigger_id, within 3 seconds", async () => {
    const web = client(ws.botToken);
    const ts = await postCard();
    const click = () => emu.blockActions({ teamId: ws.teamId, user: alice, channel: alerts, messageTs: ts, actions: [{ action_id: "ack" }] });

    const { trigger_id } = click();
    const opened = await web.views.open({ trigger_id, view: modal });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), type: "modal", team_id: ws.teamId });
    expect(emu.views()[0]).toMatchObject({ userId: alice });
    const again = await rejection<WebAPIPlatformError>(web.views.open({ trigger_id, view: modal }));
    expect(again.data.error).toBe("trigger_exchanged");

    const late = click().trigger_id;
    clock.advance(3_001);
    expect((await rejection<WebAPIPlatformError>(web.views.open({ trigger_id: late, view: modal }))).data.error).toBe("expired_trigger_id");
    expect((await rejection<WebAPIPlatformError>(web.views.open({ trigger_id: "1.2.3", view: modal }))).data.error).toBe("invalid_arguments");
  });

  it("applies replace_original to the clicked message and stores ephemeral replies", async () => {
    const ts = await postCard();
    const { response_url } = emu.blockActions({ teamId: ws.teamId, user: alice, channel: alerts, messageTs: ts, actions: [{ action_id: "ack" }] });

    const replaced = await fetch(response_url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        replace_original: true,
        text: "Acknowledged by alice",
        blocks: [{ type: "section", text: { type: "mrkdwn", text: "✅ Acknowledged" } }],
      }),
    });
    expect(replaced.status).toBe(200);
    expect(emu.message(alerts, ts)).toMatchObject({ text: "Acknowledged by alice", updates: 1 });
    expect(emu.message(alerts, ts)!.blocks).toHaveLength(1);

    await fetch(response_url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ response_type: "ephemeral", replace_original: false, text: "Link your account first" }),
    });
    expect(emu.messages(alerts).at(-1)).toMatchObject({ text: "Link your account first", ephemeral: { user: alice } });
    expect(emu.responses.map((r) => r.status)).toEqual([200, 200]);
    expect(emu.responses[0]!.responseUrlId).toBe(response_url.split("/").at(-1));
  });

  it("accepts five posts within 30 minutes", async () => {
    const ts = await postCard();
    const click = () => emu.blockActions({ teamId: ws.teamId, user: alice, channel: alerts, messageTs: ts, actions: [{ action_id: "ack" }] });
    const post = (url: string) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ replace_original: true, text: "x" }) });

    const { response_url } = click();
    const stale = click().response_url;
    for (let i = 0; i < 5; i++) expect((await post(response_url)).status).toBe(200);
    const sixth = await post(response_url);
    expect([sixth.status, await sixth.text()]).toEqual([404, "used_url"]);

    clock.advance(30 * 60_000 + 1);
    const expired = await post(stale);
    expect([expired.status, await expired.text()]).toEqual([404, "expired_url"]);
  });
});
