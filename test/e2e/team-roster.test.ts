import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
import { messageCount } from "../support/queues";
import { logsOnceLogged } from "../support/host-process";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("adding the bot to a team links its members by email", () => {
  it("reads the roster 500 members a page in the background, and the install is answered at once", async () => {
    const members = Array.from({ length: 520 }, (_, n) => stack.teams.addUser({ name: `Member ${n}`, email: `member${n}@contoso.com` }));
    const team = stack.teams.addTeam({ name: "Everyone", members });
    const response = await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: members[0]! }));
    expect(response.status).toBe(200);

    // A fresh repository per read: one repository caches what it read.
    const linkedPeople = async () => (await new IdentityRepository(stack.storage).people("msteams", stack.teams.tenantId, 1000)).length;
    await waitFor(async () => ((await linkedPeople()) === 520 ? true : undefined), { timeoutMs: 30_000 });
    const pages = stack.teams.calls.filter((c) => c.operation === "pagedMembers");
    expect(pages).toHaveLength(2);
    expect(pages[0]!.path).toContain("pageSize=500");
    expect(pages[1]!.path).toContain("continuationToken=");
    expect(await new IdentityRepository(stack.storage).findByEmail("member519@contoso.com", "msteams")).toEqual([
      expect.objectContaining({ how: "auto", teamsUserId: members[519]!.id }),
    ]);
  }, 60_000);

  it("Teams throttles the roster read (429, more times than the queue retries): the page is read again when Teams says, and every member linked", async () => {
    const members = Array.from({ length: 30 }, (_, n) => stack.teams.addUser({ name: `Busy ${n}`, email: `busy${n}@fabrikam.com` }));
    const team = stack.teams.addTeam({ name: "Busy", members });
    stack.teams.injectFault({ operation: "pagedMembers", conversationId: team.teamId, status: 429, retryAfterSec: 1, times: 7 });
    const mark = stack.host.logs().length;
    expect((await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: members[0]! }))).status).toBe(200);
    const linked = async () => (await new IdentityRepository(stack.storage).findByEmail("busy29@fabrikam.com", "msteams")).length;
    await waitFor(async () => ((await linked()) === 1 ? true : undefined), { timeoutMs: 45_000 });
    expect(stack.teams.calls.filter((c) => c.operation === "pagedMembers" && c.conversationId === team.teamId).length).toBeGreaterThanOrEqual(8);
    expect(await logsOnceLogged(stack.host, "the page is read again in", mark)).toContain("Teams throttled the roster read");
    expect(await messageCount(stack.azurite.connectionString, "member-sync-poison")).toBe(0);
  }, 60_000);

  it("the bot was removed before its roster is read (403): the read stops, saying so, and is not retried", async () => {
    const members = [stack.teams.addUser({ name: "Gone", email: "gone@fabrikam.com" })];
    const team = stack.teams.addTeam({ name: "Gone", members });
    stack.teams.injectFault({ operation: "pagedMembers", conversationId: team.teamId, status: 403, times: 1 });
    const mark = stack.host.logs().length;
    expect((await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: members[0]! }))).status).toBe(200);
    expect(await logsOnceLogged(stack.host, "roster read stopped", mark)).toContain(
      "roster read stopped (Teams answered 403 BotNotInConversationRoster)",
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(stack.teams.calls.filter((c) => c.operation === "pagedMembers" && c.conversationId === team.teamId)).toHaveLength(1);
    expect(await messageCount(stack.azurite.connectionString, "member-sync-poison")).toBe(0);
  }, 60_000);
});
