// The Teams emulator must speak Microsoft's protocol to the real client libraries: the token
// validation in botframework-connector, @azure/identity's managed identity client, and the
// Bot Connector REST client.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ManagedIdentityCredential } from "@azure/identity";
import {
  AuthenticationConfiguration,
  AuthenticationConstants,
  BotFrameworkAuthenticationFactory,
  ConnectorClient,
  PasswordServiceClientCredentialFactory,
  type BotFrameworkAuthentication,
} from "botframework-connector";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTeamsEmulator, type Activity, type TeamsEmulator, type TeamsTeam, type TeamsUser } from "../../dev/emulators/teams/index.js";

const APP_ID = "00000000-0000-4000-8000-00000000b07a";
const TENANT_ID = "11111111-1111-4111-8111-111111111111";
const BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default";
// CallerIdConstants.PublicAzureChannel lives in botframework-schema, which botframework-connector doesn't re-export.
const PUBLIC_AZURE_CHANNEL = "urn:botframework:azure";

type InboundActivity = Parameters<BotFrameworkAuthentication["authenticateRequest"]>[0];
/** The emulator's activities are loose records; the connector's type wants schema classes. */
const inbound = (activity: Activity) => activity as unknown as InboundActivity;

let emulator: TeamsEmulator;
let auth: BotFrameworkAuthentication;
let ana: TeamsUser;
let bo: TeamsUser;
let team: TeamsTeam;
let bot: { url: string; server: Server };
const savedEnv = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };

beforeAll(async () => {
  emulator = await startTeamsEmulator({ appId: APP_ID, tenantId: TENANT_ID });
  // MSAL caches the managed identity source (endpoint + header) process-wide on first use.
  process.env.IDENTITY_ENDPOINT = emulator.identityEndpoint;
  process.env.IDENTITY_HEADER = emulator.identityHeader;
  auth = BotFrameworkAuthenticationFactory.create(
    "",
    true,
    AuthenticationConstants.ToChannelFromBotLoginUrl,
    AuthenticationConstants.ToChannelFromBotOAuthScope,
    AuthenticationConstants.ToBotFromChannelTokenIssuer,
    AuthenticationConstants.OAuthUrl,
    emulator.openIdMetadataUrl,
    AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
    PUBLIC_AZURE_CHANNEL,
    new PasswordServiceClientCredentialFactory(APP_ID, "x"),
    new AuthenticationConfiguration(),
  );
  ana = emulator.addUser({ email: "ana@contoso.com", name: "Ana Lima" });
  bo = emulator.addUser({ email: "bo@contoso.com", name: "Bo Berg" });
  team = emulator.addTeam({ name: "Checkout", members: [ana, bo] });
  bot = await startBot(auth);
});

afterAll(async () => {
  Object.assign(process.env, savedEnv);
  for (const [name, value] of Object.entries(savedEnv)) if (value === undefined) delete process.env[name];
  await new Promise((resolve) => bot?.server.close(resolve));
  await emulator?.stop();
});

/** A stand-in bot: answers 200 when botframework-connector accepts the request, else 401. */
async function startBot(authentication: BotFrameworkAuthentication): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const activity = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Activity;
    const status = await authentication.authenticateRequest(inbound(activity), req.headers.authorization ?? "").then(
      () => 200,
      () => 401,
    );
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ type: activity.type }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages`, server };
}

let connectorToken: Promise<string> | undefined;
function botFrameworkToken(): Promise<string> {
  connectorToken ??= new ManagedIdentityCredential({ clientId: APP_ID }).getToken(BOT_FRAMEWORK_SCOPE).then((t) => t.token);
  return connectorToken;
}

async function connector(method: string, path: string, body?: unknown, token?: string | null) {
  const bearer = token === undefined ? await botFrameworkToken() : token;
  const response = await fetch(`${emulator.serviceUrl}${path}`, {
    method,
    headers: { ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }), ...(body ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as any };
}

const activitiesPath = (conversationId: string) => `v3/conversations/${encodeURIComponent(conversationId)}/activities`;

/** botframework-connector logs PEMs and rejections with console.error. */
async function quietly<T>(run: () => Promise<T>): Promise<T> {
  const spy = vi.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    return await run();
  } finally {
    spy.mockRestore();
  }
}

describe("inbound channel tokens", () => {
  it("botframework-connector accepts a token from the trusted key", async () => {
    const activity = emulator.message({ conversation: team, from: ana, text: "status" });
    const result = await auth.authenticateRequest(inbound(activity), `Bearer ${await emulator.signChannelToken()}`);

    expect(result.claimsIdentity.isAuthenticated).toBe(true);
    expect(result.callerId).toBe(PUBLIC_AZURE_CHANNEL);
    expect(result.claimsIdentity.getClaimValue("aud")).toBe(APP_ID);
  });

  it.each([
    ["a key endorsed only for another channel", { key: "notEndorsed" }, /Could not validate endorsement/],
    ["a key missing from the JWKS", { key: "unpublished" }, /Signing Key could not be retrieved/],
    ["HS256 keyed with the trusted public key", { alg: "HS256" }, /invalid algorithm/],
    ["alg none", { alg: "none" }, /jwt signature is required/],
    ["another audience", { audience: "someone-else" }, /Invalid AppId/],
    ["another issuer", { issuer: "https://evil.example" }, /No valid identity/],
    ["expiry beyond the 5 min skew", { expiresInSec: -600 }, /expired/],
    ["a token not valid yet", { notBeforeSec: 3600 }, /not active/],
    ["a serviceurl claim for another host", { serviceUrl: "https://attacker.example/" }, /ServiceUrl claim do not match/],
  ] as const)("botframework-connector rejects %s", async (_case, options, reason) => {
    const activity = emulator.message({ conversation: team, from: ana, text: "status" });
    const token = await emulator.signChannelToken(options);

    await quietly(() => expect(auth.authenticateRequest(inbound(activity), `Bearer ${token}`)).rejects.toThrow(reason));
  });

  it("botframework-connector rejects a tampered payload", async () => {
    const activity = emulator.message({ conversation: team, from: ana, text: "status" });
    const token = emulator.tamper(await emulator.signChannelToken(), { aud: APP_ID, exp: 4_102_444_800 });

    await quietly(() => expect(auth.authenticateRequest(inbound(activity), `Bearer ${token}`)).rejects.toThrow(/signature/));
  });

  it("jose verifies channel tokens against the published metadata", async () => {
    const metadata = (await (await fetch(emulator.openIdMetadataUrl)).json()) as { issuer: string; jwks_uri: string };
    const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri));
    const options = { issuer: metadata.issuer, audience: APP_ID, algorithms: ["RS256"], clockTolerance: 300 };

    const { payload, protectedHeader } = await jwtVerify(await emulator.signChannelToken(), jwks, options);
    expect(payload).toMatchObject({ iss: "https://api.botframework.com", aud: APP_ID, serviceurl: emulator.serviceUrl });
    expect(protectedHeader).toMatchObject({ alg: "RS256", typ: "JWT", x5t: protectedHeader.kid });
    await expect(jwtVerify(await emulator.signChannelToken({ key: "unpublished" }), jwks, options)).rejects.toThrow();
  });

  it("plays a login.botframework.com outage: metadata or key set answer an error, or drop the connection, then recover", async () => {
    emulator.injectFault({ operation: "openIdMetadata", status: 503 });
    expect((await fetch(emulator.openIdMetadataUrl)).status).toBe(503);
    const { jwks_uri } = (await (await fetch(emulator.openIdMetadataUrl)).json()) as { jwks_uri: string };

    emulator.injectFault({ operation: "jwks", status: 500, disconnect: true });
    await expect(fetch(jwks_uri)).rejects.toThrow(/fetch failed/);
    const { keys } = (await (await fetch(jwks_uri)).json()) as { keys: { endorsements: string[] }[] };
    expect(keys.map((key) => key.endorsements)).toEqual([["msteams", "emulator"], ["slack"]]);
    expect(emulator.calls.filter((call) => call.operation === "openIdMetadata" || call.operation === "jwks")).toEqual([]);
  });

  it("post() sends an activity the way the channel does", async () => {
    const activity = emulator.message({ conversation: emulator.personalConversation(ana), from: ana, text: "hi" });

    expect(await emulator.post(bot.url, activity)).toMatchObject({ status: 200, body: { type: "message" } });
    expect((await quietly(() => emulator.post(bot.url, activity, { token: null }))).status).toBe(401);
  });
});

describe("managed identity endpoint", () => {
  it("serves ManagedIdentityCredential the App Service protocol, and MSAL caches the token", async () => {
    emulator.clearCalls();
    const first = await new ManagedIdentityCredential({ clientId: APP_ID }).getToken(BOT_FRAMEWORK_SCOPE);
    const second = await new ManagedIdentityCredential({ clientId: APP_ID }).getToken(BOT_FRAMEWORK_SCOPE);

    expect(second.token).toBe(first.token);
    expect(emulator.tokenRequests).toBe(1);
    expect(emulator.calls[0]).toMatchObject({
      method: "GET",
      operation: "token",
      status: 200,
      path: `/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fapi.botframework.com&client_id=${APP_ID}`,
    });
    expect(decodeJwt(first.token)).toMatchObject({ aud: "https://api.botframework.com", appid: APP_ID, tid: TENANT_ID });
    expect(first.expiresOnTimestamp).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });

  it("refuses a missing or wrong X-IDENTITY-HEADER and unknown client ids", async () => {
    const url = `${emulator.identityEndpoint}?api-version=2019-08-01&resource=https%3A%2F%2Fapi.botframework.com&client_id=${APP_ID}`;
    expect((await fetch(url)).status).toBe(400);
    expect((await fetch(url, { headers: { "x-identity-header": "guess" } })).status).toBe(401);
    const otherClient = url.replace(APP_ID, "22222222-2222-4222-8222-222222222222");
    expect((await fetch(otherClient, { headers: { "x-identity-header": emulator.identityHeader } })).status).toBe(400);
  });
});

describe("Bot Connector REST", () => {
  it("records a send with a managed identity token, then a PUT updates it", async () => {
    emulator.clearCalls();
    const token = await botFrameworkToken();
    const sent = await connector("POST", activitiesPath(team.generalChannelId), { type: "message", text: "v1" });
    expect(sent.status).toBe(201);
    const activityId = sent.body.id as string;

    const updated = await connector("PUT", `${activitiesPath(team.generalChannelId)}/${activityId}`, { type: "message", text: "v2" });

    expect(updated).toMatchObject({ status: 200, body: { id: activityId } });
    expect(emulator.messages(team.generalChannelId)).toEqual([
      { conversationId: team.generalChannelId, activityId, activity: { type: "message", text: "v2", id: activityId }, updates: 1 },
    ]);
    expect(emulator.calls.map(({ operation, conversationId, activityId: id, status }) => ({ operation, conversationId, id, status }))).toEqual([
      { operation: "send", conversationId: team.generalChannelId, id: undefined, status: 201 },
      { operation: "update", conversationId: team.generalChannelId, id: activityId, status: 200 },
    ]);
    expect(JSON.stringify(emulator.calls)).not.toContain(token);
  });

  it("answers 404 for unknown conversations and activities, 401 without a Bot Framework token", async () => {
    expect((await connector("POST", activitiesPath("19:nope@thread.tacv2"), { type: "message" })).body).toMatchObject({
      error: { code: "ConversationNotFound" },
    });
    expect((await connector("PUT", `${activitiesPath(team.generalChannelId)}/123`, { type: "message" })).status).toBe(404);
    expect((await connector("POST", activitiesPath(team.generalChannelId), { type: "message" }, null)).body).toEqual({
      error: { code: "Unauthorized", message: expect.any(String) },
    });
    const graphToken = await new ManagedIdentityCredential({ clientId: APP_ID }).getToken("https://graph.microsoft.com/.default");
    expect((await connector("POST", activitiesPath(team.generalChannelId), { type: "message" }, graphToken.token)).status).toBe(401);
  });

  it("works with ConnectorClient: proactive 1:1, members, paging", async () => {
    const token = await botFrameworkToken();
    const client = new ConnectorClient(
      {
        async signRequest(request) {
          request.headers.set("authorization", `Bearer ${token}`);
          return request;
        },
      },
      { baseUri: emulator.serviceUrl },
    );

    const conversation = await client.conversations.createConversation({
      isGroup: false,
      bot: { id: emulator.botId, name: "Triage Relay" },
      members: [{ id: ana.id, name: ana.name }],
      tenantId: TENANT_ID,
      channelData: { tenant: { id: TENANT_ID } },
    });
    expect(conversation.id).toBe(emulator.personalConversation(ana).id);
    expect(conversation.id).toMatch(/^a:/);
    const { id } = await client.conversations.sendToConversation(conversation.id, { type: "message", text: "hello" });
    await client.conversations.updateActivity(conversation.id, id, { type: "message", text: "hello again" });
    expect(emulator.messages(conversation.id)).toMatchObject([{ activityId: id, activity: { text: "hello again" }, updates: 1 }]);

    const member = await client.conversations.getConversationMember(team.generalChannelId, ana.userPrincipalName);
    expect(member).toMatchObject({ id: ana.id, aadObjectId: ana.aadObjectId, email: ana.email, userRole: "user", tenantId: TENANT_ID });
    // The typings require continuationToken even for the first page.
    const firstPage = { pageSize: 1 } as { pageSize: number; continuationToken: string };
    const page = await client.conversations.getConversationPagedMembers(team.generalChannelId, firstPage);
    const rest = await client.conversations.getConversationPagedMembers(team.generalChannelId, {
      pageSize: 1,
      continuationToken: page.continuationToken ?? "",
    });
    expect([...page.members, ...rest.members].map((m) => m.id)).toEqual([ana.id, bo.id]);
    expect(rest.continuationToken).toBeUndefined();
    await expect(client.conversations.getConversationMember(team.generalChannelId, "stranger@contoso.com")).rejects.toMatchObject({
      statusCode: 404,
      code: "MemberNotFoundInConversation",
    });
  });

  it("keeps channel threads: replies go to the thread, invokes name it", async () => {
    const root = (await connector("POST", activitiesPath(team.generalChannelId), { type: "message", text: "root" })).body.id as string;
    const thread = `${team.generalChannelId};messageid=${root}`;
    const card = (await connector("POST", activitiesPath(thread), { type: "message", text: "card" })).body.id as string;

    expect(emulator.messages(thread).find((m) => m.activityId === card)?.threadId).toBe(root);
    const invoke = emulator.invokeAction({ conversation: team, from: bo, replyToId: card, verb: "resolve", data: { issueId: "i1" } });
    expect(invoke).toMatchObject({
      type: "invoke",
      name: "adaptiveCard/action",
      replyToId: card,
      conversation: { id: thread, conversationType: "channel", tenantId: TENANT_ID, isGroup: true },
      value: { action: { type: "Action.Execute", verb: "resolve", data: { issueId: "i1" } }, trigger: "manual" },
      channelData: { team: { id: team.teamId }, channel: { id: team.generalChannelId }, tenant: { id: TENANT_ID } },
    });
  });
});

describe("faults and limits", () => {
  it("fires an injected fault N times, then answers normally", async () => {
    emulator.clearCalls();
    emulator.injectFault({ operation: "send", status: 429, retryAfterSec: 1, times: 2 });

    const first = await connector("POST", activitiesPath(team.generalChannelId), { type: "message" });
    expect(first.headers.get("retry-after")).toBe("1");
    expect(first.body).toMatchObject({ error: { code: "Throttled" } });
    await connector("POST", activitiesPath(team.generalChannelId), { type: "message" });
    await connector("POST", activitiesPath(team.generalChannelId), { type: "message" });
    expect(emulator.calls.map((c) => c.status)).toEqual([429, 429, 201]);
  });

  it("scopes faults to a conversation and clears them", async () => {
    const chat = emulator.addGroupChat({ members: [ana, bo] });
    emulator.injectFault({ conversationId: team.generalChannelId, status: 403, code: "BotNotInConversationRoster", times: 5 });

    expect((await connector("POST", activitiesPath(chat.id), { type: "message" })).status).toBe(201);
    expect((await connector("POST", activitiesPath(`${team.generalChannelId};messageid=1`), { type: "message" })).body).toEqual({
      error: { code: "BotNotInConversationRoster", message: expect.any(String) },
    });
    emulator.clearFaults();
    expect((await connector("POST", activitiesPath(team.generalChannelId), { type: "message" })).status).toBe(201);
  });

  it("answers MessageWritesBlocked in Microsoft's documented envelope, and slow responses on demand", async () => {
    const personal = emulator.personalConversation(bo);
    emulator.injectFault({ conversationId: personal.id, status: 403, code: "MessageWritesBlocked" });
    const blocked = await connector("POST", activitiesPath(personal.id), { type: "message" });
    expect(blocked.status).toBe(403);
    expect(blocked.body.errorCode).toBe(209);
    expect(JSON.parse(blocked.body.message)).toMatchObject({ subCode: "MessageWritesBlocked" });

    emulator.injectFault({ operation: "getMember", status: 200, delayMs: 150 });
    const started = Date.now();
    expect((await connector("GET", `v3/conversations/${encodeURIComponent(personal.id)}/members/${bo.aadObjectId}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("ConnectorClient retries a 429 that carries Retry-After, and not a 412", async () => {
    const token = await botFrameworkToken();
    const client = new ConnectorClient(
      { signRequest: async (request) => (request.headers.set("authorization", `Bearer ${token}`), request) },
      { baseUri: emulator.serviceUrl },
    );
    emulator.injectFault({ operation: "send", status: 429, retryAfterSec: 0 });
    await expect(client.conversations.sendToConversation(team.generalChannelId, { type: "message" })).resolves.toHaveProperty("id");

    emulator.injectFault({ operation: "send", status: 412 });
    await expect(client.conversations.sendToConversation(team.generalChannelId, { type: "message" })).rejects.toMatchObject({
      statusCode: 412,
    });
  });

  it("enforces Teams' per-conversation send limit when asked", async () => {
    const chat = emulator.addGroupChat({ members: [ana] });
    emulator.enforceRateLimits(true);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await connector("POST", activitiesPath(chat.id), { type: "message" })).status);
      expect(statuses).toEqual([201, 201, 201, 201, 201, 201, 201, 429]);
      expect((await connector("POST", activitiesPath(team.generalChannelId), { type: "message" })).status).toBe(201);
    } finally {
      emulator.enforceRateLimits(false);
    }
  });
});

describe("lifecycle events", () => {
  it("builds Teams-shaped events and applies them to the world", async () => {
    const ops = emulator.addTeam({ name: "Ops", members: [bo] });
    const added = emulator.botAddedToTeam({ team: ops });
    expect(added).toMatchObject({
      type: "conversationUpdate",
      channelId: "msteams",
      serviceUrl: emulator.serviceUrl,
      recipient: { id: `28:${APP_ID}` },
      from: { id: bo.id, aadObjectId: bo.aadObjectId },
      membersAdded: [{ id: `28:${APP_ID}` }],
      conversation: { id: ops.generalChannelId, conversationType: "channel", tenantId: TENANT_ID },
      channelData: { eventType: "teamMemberAdded", team: { id: ops.teamId, name: "Ops" }, tenant: { id: TENANT_ID } },
    });
    expect(ops.generalChannelId).toMatch(/^19:[0-9a-f]{32}@thread\.tacv2$/);

    emulator.botRemovedFromTeam({ team: ops });
    expect((await connector("POST", activitiesPath(ops.generalChannelId), { type: "message" })).status).toBe(403);
    emulator.botAddedToTeam({ team: ops });
    expect((await connector("POST", activitiesPath(ops.generalChannelId), { type: "message" })).status).toBe(201);
    emulator.teamDeleted({ team: ops });
    expect((await connector("POST", activitiesPath(ops.generalChannelId), { type: "message" })).status).toBe(404);

    const install = emulator.personalInstall({ user: ana });
    expect(install).toMatchObject({ type: "conversationUpdate", conversation: { conversationType: "personal", id: expect.stringMatching(/^a:/) } });
    emulator.installationUpdate({ action: "remove", conversation: emulator.personalConversation(ana) });
    const blocked = await connector("POST", activitiesPath(emulator.personalConversation(ana).id), { type: "message" });
    expect(blocked.body.errorCode).toBe(209);
    emulator.installationUpdate({ action: "add", conversation: emulator.personalConversation(ana) });
  });

  it("renames teams and channels, and reports new channels", () => {
    const design = emulator.addTeam({ name: "Design", members: [ana] });
    const channel = emulator.addChannel(design, "Alerts");

    expect(emulator.channelCreated({ channel }).channelData).toMatchObject({
      eventType: "channelCreated",
      channel: { id: channel.id, name: "Alerts" },
      team: { id: design.teamId },
    });
    expect(emulator.channelRenamed({ channel, name: "Pages" }).channelData).toMatchObject({ channel: { name: "Pages" } });
    expect(emulator.teamRenamed({ team: design, name: "Product" }).channelData).toMatchObject({
      eventType: "teamRenamed",
      team: { name: "Product" },
    });
    // The General channel has no name in Teams' channel list.
    expect(emulator.team(design).channels).toEqual([
      { id: design.generalChannelId, teamId: design.teamId },
      { id: channel.id, name: "Pages", teamId: design.teamId },
    ]);
  });

  it("@mentions the bot in channel messages", () => {
    const message = emulator.message({ conversation: team, from: ana, text: "link me" });
    expect(message).toMatchObject({
      type: "message",
      text: "<at>Triage Relay</at> link me",
      from: { id: ana.id, name: ana.name, aadObjectId: ana.aadObjectId },
      conversation: { id: `${team.generalChannelId};messageid=${message.id}` },
    });
    expect(message.entities).toContainEqual({
      type: "mention",
      text: "<at>Triage Relay</at>",
      mentioned: { id: `28:${APP_ID}`, name: "Triage Relay" },
    });
  });
});

describe("control API", () => {
  it("manages the world, faults and activities over HTTP", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${emulator.url}/_emulator/${path}`, {
        method,
        headers: body ? { "content-type": "application/json" } : {},
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
    };

    const cy = await call("POST", "users", { email: "cy@contoso.com", name: "Cy Doe" });
    expect(cy).toMatchObject({ status: 201, body: { id: expect.stringMatching(/^29:/), userPrincipalName: "cy@contoso.com" } });
    const infra = await call("POST", "teams", { name: "Infra", members: ["cy@contoso.com"] });
    expect(infra.status).toBe(201);
    expect((await call("POST", "faults", { operation: "send", status: 503 })).status).toBe(204);
    expect((await call("POST", "faults", { status: 418 })).status).toBe(400);
    expect((await connector("POST", activitiesPath(infra.body.generalChannelId), { type: "message" })).status).toBe(503);
    expect((await call("GET", "calls")).body.at(-1)).toMatchObject({ operation: "send", status: 503 });

    const activity = emulator.message({ conversation: infra.body.generalChannelId, from: cy.body.id, text: "hi" });
    expect(await call("POST", "activities", { botEndpoint: bot.url, activity })).toMatchObject({ status: 200, body: { status: 200 } });
    expect((await call("POST", "activities", { botEndpoint: "https://example.com/api/messages", activity })).status).toBe(400);
    expect((await call("GET", `messages?conversationId=${encodeURIComponent(team.generalChannelId)}`)).body.length).toBeGreaterThan(0);
  });
});
