import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { alertTargetSchema } from "../../shared/domain/alert";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { logsOnceLogged, startHostProcess } from "../support/host-process";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let team: TeamsTeam;
let messagesUrl: string;

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Forgery", members: [ana] });
});
afterAll(async () => {
  await stack?.stop();
});

async function subscriptionsIn(conversationId: string) {
  return listSubscriptions(stack.storage, `msteams:${conversationId}`);
}

async function installed(): Promise<boolean> {
  return !!(await new TeamsInstallations(stack.storage).get(stack.teams.tenantId, team.generalChannelId));
}

describe("forged requests to /api/messages: 401, nothing stored, nothing sent", () => {
  const forgeries: [string, () => Promise<string | null>][] = [
    ["no Authorization header", async () => null],
    ["wrong audience", () => stack.teams.signChannelToken({ audience: "https://api.botframework.com" })],
    ["token for another app", () => stack.teams.signChannelToken({ audience: "11111111-2222-4333-8444-555555555555" })],
    ["wrong issuer", () => stack.teams.signChannelToken({ issuer: "https://sts.windows.net/attacker/" })],
    ["expired", () => stack.teams.signChannelToken({ expiresInSec: -3600 })],
    ["serviceurl claim for another service URL", () => stack.teams.signChannelToken({ serviceUrl: "http://127.0.0.1:1/teams/" })],
    ["signing key not endorsed for msteams", () => stack.teams.signChannelToken({ key: "notEndorsed" })],
    ["signed by an unknown key", () => stack.teams.signChannelToken({ key: "unpublished" })],
    ["HS256 with the public key as secret", () => stack.teams.signChannelToken({ alg: "HS256" })],
    ["alg: none", () => stack.teams.signChannelToken({ alg: "none" })],
    ["tampered payload", async () => stack.teams.tamper(await stack.teams.signChannelToken(), { aud: stack.teams.appId, tid: "x" })],
    ["correctly signed, but no exp claim", () => stack.teams.signChannelToken({ extraClaims: { exp: undefined } })],
    ["correctly signed, exp not a number", () => stack.teams.signChannelToken({ extraClaims: { exp: "4102444800" } })],
    ["not valid for another hour (nbf)", () => stack.teams.signChannelToken({ notBeforeSec: 3600 })],
  ];

  it.each(forgeries)("%s", async (_name, forge) => {
    stack.teams.clearCalls();
    const token = await forge();
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }), { token });
    expect(response.status).toBe(401);
    expect(response.text).toBe("");
    expect(await installed()).toBe(false);
    expect(stack.teams.calls.filter((c) => c.operation !== "token")).toEqual([]);
  });

  // The endpoint serves Teams only: the sender's channelId must not choose which endorsement is checked.
  const otherChannels: [string, string, "trusted" | "notEndorsed"][] = [
    ["channelId slack, key endorsed only for slack", "slack", "notEndorsed"],
    ["channelId emulator, key endorsed for msteams and emulator", "emulator", "trusted"],
  ];

  it.each(otherChannels)("%s", async (_name, channelId, key) => {
    stack.teams.clearCalls();
    const mark = stack.host.logs().length;
    const token = await stack.teams.signChannelToken({ key });
    const response = await stack.teams.post(messagesUrl, { ...stack.teams.botAddedToTeam({ team, from: ana }), channelId }, { token });
    expect(response.status).toBe(401);
    expect(await installed()).toBe(false);
    expect(stack.teams.calls.filter((c) => c.operation !== "token")).toEqual([]);
    expect(await logsOnceLogged(stack.host, "Teams request refused", mark)).toContain("channelId is not msteams");
  });

  it("a token without exp changes nothing: no subscription from a channel command", async () => {
    const token = await stack.teams.signChannelToken({ extraClaims: { exp: undefined } });
    const subscribe = stack.teams.message({ conversation: team, from: ana, text: "subscribe forged-project" });
    const response = await stack.teams.post(messagesUrl, subscribe, { token });
    expect(response.status).toBe(401);
    expect(await subscriptionsIn(team.generalChannelId)).toEqual([]);
  });

  it("the token library stays quiet: no key material or library dumps in the logs, only our one line per refusal", () => {
    const logs = stack.host.logs().join("\n");
    expect(logs).not.toMatch(/BEGIN (RSA )?PUBLIC KEY|Available keys|TokenExpiredError/);
    expect(logs).toMatch(/Teams request refused \(401\): .*signature/);
  });

  it("logs one line with the reason, never the token", async () => {
    const token = await stack.teams.signChannelToken({ expiresInSec: -3600 });
    const mark = stack.host.logs().length;
    await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }), { token });
    await logsOnceLogged(stack.host, "Teams request refused (401)", mark);
    expect(stack.host.logs().join("\n")).not.toContain(token);
  });

  it("a valid token is accepted (the matrix above fails for its reason, not for a broken setup)", async () => {
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(200);
    expect(await installed()).toBe(true);
    // The install reads the team's roster in the background; later tests count the calls the emulator records.
    await waitFor(() => stack.teams.calls.some((c) => c.operation === "pagedMembers"), { timeoutMs: 30_000 });
  });
});

describe("who may talk to the bot", () => {
  it("a tenant that is not allowed gets 403 and nothing is stored", async () => {
    const outsider = stack.teams.botAddedToTeam({ team, from: ana });
    const foreignTenant = "99999999-9999-4999-8999-999999999999";
    (outsider.channelData as { tenant: { id: string } }).tenant.id = foreignTenant;
    (outsider.conversation as { tenantId?: string }).tenantId = foreignTenant;
    const response = await stack.teams.post(messagesUrl, outsider);
    expect(response.status).toBe(403);
    expect(await new TeamsInstallations(stack.storage).anyInTenant(foreignTenant)).toBeUndefined();
  });

  it("a service URL on a host that is not allowlisted: refused before any token is sent there", async () => {
    const evil = "http://evil.localhost:9/teams/";
    const activity = { ...stack.teams.botAddedToTeam({ team, from: ana }), serviceUrl: evil };
    const token = await stack.teams.signChannelToken({ serviceUrl: evil });
    const mark = stack.host.logs().length;
    const response = await stack.teams.post(messagesUrl, activity, { token });
    expect(response.status).toBe(403);
    expect(await logsOnceLogged(stack.host, "Teams request refused (403)", mark)).toMatch(/service URL host not allowed/);
  });

  it("an empty MicrosoftAppId refuses to start, naming the setting", async () => {
    await expect(startHostProcess({ env: { ...stack.env, MicrosoftAppId: "" }, startTimeoutMs: 15_000 })).rejects.toThrow(/MicrosoftAppId: required/);
  });
});

/** Tests edit activities freely, including into shapes no honest channel sends. */
type Editable = Activity & Record<string, any>;

describe("ids that would become storage keys are checked at the edge: 400 with the reason in the log, never 500", () => {
  const long = (prefix: string) => `${prefix}${"x".repeat(1000)}`;
  type Edit = (activity: Editable) => void;
  const cases: [string, string, Edit][] = [
    ["a 1,000+-character personal conversation id", "conversation.id", (a) => (a.conversation.id = long("a:"))],
    ["a conversation id with a space", "conversation.id", (a) => (a.conversation.id = "a:1 2")],
    ["a tenant id that is not a GUID", "conversation.tenantId", (a) => (a.conversation.tenantId = long("t"))],
    ["a sender id of 1,000+ characters", "from.id", (a) => (a.from.id = long("29:"))],
    ["an Entra object id that is not a GUID", "from.aadObjectId", (a) => (a.from.aadObjectId = "../../etc")],
    ["a reply-to activity id with a control character", "replyToId", (a) => (a.replyToId = "123\u0000")],
    ["an activity id of 1,000+ characters", "id", (a) => (a.id = long("1"))],
  ];

  it.each(cases)("%s", async (_name, path, edit) => {
    const chat = stack.teams.personalConversation(ana);
    const activity = stack.teams.message({ conversation: chat, from: ana, text: "status" }) as Editable;
    edit(activity);
    stack.teams.clearCalls();
    const mark = stack.host.logs().length;
    const response = await stack.teams.post(messagesUrl, activity);
    expect(response.status).toBe(400);
    expect(await logsOnceLogged(stack.host, "Teams request refused (400)", mark)).toContain(
      `Teams request refused (400): activity malformed at ${path}`,
    );
    expect(stack.teams.calls.filter((c) => c.operation !== "token")).toEqual([]);
  });

  it("a channel id in channelData that deliveries would refuse: 400, nothing subscribed", async () => {
    const subscribe = stack.teams.message({ conversation: team, from: ana, text: "subscribe id-check" }) as Editable;
    subscribe.channelData.channel.id = "19:general#x?y@thread.tacv2 ";
    const mark = stack.host.logs().length;
    const response = await stack.teams.post(messagesUrl, subscribe);
    expect(response.status).toBe(400);
    expect(await logsOnceLogged(stack.host, "Teams request refused (400)", mark)).toContain("activity malformed at channelData.channel.id");
  });

  it("a thread id whose channel part is empty (19:;messageid=…) is refused, so subscribe can't store it", async () => {
    const subscribe = stack.teams.message({ conversation: team, from: ana, text: "subscribe id-check" }) as Editable;
    subscribe.conversation.id = "19:;messageid=1712345678901";
    delete subscribe.channelData.channel;
    const response = await stack.teams.post(messagesUrl, subscribe);
    expect(response.status).toBe(400);
    expect(await listSubscriptions(stack.storage, "msteams:19:")).toEqual([]);
  });

  it("a well-formed channel subscribe still works and stores the channel id deliveries accept", async () => {
    const response = await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team, from: ana, text: "subscribe id-check" }));
    expect(response.status).toBe(200);
    const [subscription] = await subscriptionsIn(team.generalChannelId);
    expect(subscription?.target).toEqual({ provider: "msteams", conversationId: team.generalChannelId });
    expect(alertTargetSchema.safeParse(subscription?.target).success).toBe(true);
  });
});
