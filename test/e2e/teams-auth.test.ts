import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { TeamsInstallations } from "../../shared/storage/installations";
import { startHostProcess } from "../support/host-process";
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

  it("logs one line with the reason, never the token", async () => {
    const token = await stack.teams.signChannelToken({ expiresInSec: -3600 });
    await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }), { token });
    const refusals = stack.host.logs().filter((line) => line.includes("Teams request refused (401)"));
    expect(refusals.length).toBeGreaterThan(0);
    expect(stack.host.logs().join("\n")).not.toContain(token);
  });

  it("a valid token is accepted (the matrix above fails for its reason, not for a broken setup)", async () => {
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(200);
    expect(await installed()).toBe(true);
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
    const response = await stack.teams.post(messagesUrl, activity, { token });
    expect(response.status).toBe(403);
    expect(stack.host.logs().join("\n")).toMatch(/service URL host not allowed/);
  });

  it("an empty MicrosoftAppId refuses to start, naming the setting", async () => {
    await expect(startHostProcess({ env: { ...stack.env, MicrosoftAppId: "" }, startTimeoutMs: 15_000 })).rejects.toThrow(/MicrosoftAppId: required/);
  });
});
