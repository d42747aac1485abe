import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
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
});
