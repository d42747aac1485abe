// When Bot Framework's OpenID metadata or keys can't be fetched, /api/messages can't tell a real request
// from a forgery: that is an outage (503, its own log line), not bad authentication (401).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { logsOnceLogged } from "../support/host-process";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let team: TeamsTeam;
let messagesUrl: string;

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Outage", members: [ana] });
});
afterAll(async () => {
  await stack?.stop();
});

async function installed(): Promise<boolean> {
  return !!(await new TeamsInstallations(stack.storage).get(stack.teams.tenantId, team.generalChannelId));
}

describe("Bot Framework's signing keys can't be fetched (before any were)", () => {
  it("the metadata answers 503: the request gets 503, a log line that says outage, nothing stored", async () => {
    stack.teams.injectFault({ operation: "openIdMetadata", status: 503 });
    const mark = stack.host.logs().length;
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(503);
    const logs = await logsOnceLogged(stack.host, "Teams request not checked (503)", mark);
    expect(logs).toContain("Teams request not checked (503): Bot Framework signing keys unavailable: OpenID metadata answered 503");
    expect(logs).not.toContain("Teams request refused (401)");
    expect(await installed()).toBe(false);
  });

  it("the key set's connection drops: 503 again, saying so", async () => {
    stack.teams.injectFault({ operation: "jwks", status: 503, disconnect: true });
    const mark = stack.host.logs().length;
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(503);
    expect(await logsOnceLogged(stack.host, "Teams request not checked (503)", mark)).toMatch(
      /Teams request not checked \(503\): Bot Framework signing keys unavailable: JWKS unreachable/,
    );
    expect(await installed()).toBe(false);
  });

  it("once Microsoft answers again, the very next request is checked and accepted", async () => {
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(200);
    expect(await installed()).toBe(true);
  });
});

describe("with the keys in hand", () => {
  it("an outage does not stop valid requests, and a forgery is still a 401", async () => {
    stack.teams.injectFault({ operation: "openIdMetadata", status: 503, times: 100 });
    try {
      const valid = await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team, from: ana, text: "help" }));
      expect(valid.status).toBe(200);
      const forged = await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team, from: ana, text: "help" }), {
        token: await stack.teams.signChannelToken({ key: "unpublished" }),
      });
      expect(forged.status).toBe(401);
    } finally {
      stack.teams.clearFaults();
    }
  });
});
