// The Teams emulator plays members leaving: removed from a team, or their account deleted from the tenant (they
// drop out of every team). It sends the conversationUpdate Teams sends (teamMemberRemoved, membersRemoved by `29:` id)
// in each team where the bot is installed, and member reads answer as Teams does for someone not in the conversation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTeamsEmulator, type TeamsEmulator, type TeamsUser } from "../../dev/emulators/teams/index.js";

const APP_ID = "00000000-0000-4000-8000-0000000de9a7";
const TENANT_ID = "11111111-1111-4111-8111-1111111de9a7";

let emulator: TeamsEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startTeamsEmulator({ appId: APP_ID, tenantId: TENANT_ID });
  const query = new URLSearchParams({ "api-version": "2019-08-01", resource: "https://api.botframework.com", client_id: APP_ID });
  const response = await fetch(`${emulator.identityEndpoint}?${query}`, { headers: { "x-identity-header": emulator.identityHeader } });
  token = ((await response.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await emulator?.stop();
});

async function connector(method: string, path: string, body?: unknown) {
  const response = await fetch(`${emulator.serviceUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as unknown };
}

const memberRead = (conversationId: string, user: TeamsUser) =>
  connector("GET", `v3/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(user.id)}`);

const NOT_A_MEMBER = { status: 404, body: { error: { code: "MemberNotFoundInConversation", message: expect.any(String) } } };

async function control(path: string, body: unknown) {
  const response = await fetch(`${emulator.url}/_emulator/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe("members leaving", () => {
  it("a member removed from a team: teamMemberRemoved names them by their 29: id, and member reads there answer 404 MemberNotFoundInConversation", async () => {
    const ana = emulator.addUser({ email: "ana@contoso.com", name: "Ana Lima" });
    const bo = emulator.addUser({ email: "bo@contoso.com", name: "Bo Berg" });
    const checkout = emulator.addTeam({ name: "Checkout", members: [ana, bo] });
    const ops = emulator.addTeam({ name: "Ops", members: [bo] });

    const removed = emulator.memberRemovedFromTeam({ team: checkout, user: bo });
    expect(removed).toMatchObject({
      type: "conversationUpdate",
      from: { id: ana.id },
      conversation: { id: checkout.generalChannelId, conversationType: "channel" },
      membersRemoved: [{ id: bo.id }],
      channelData: { eventType: "teamMemberRemoved", team: { id: checkout.teamId, name: "Checkout" }, tenant: { id: TENANT_ID } },
    });
    expect(removed.membersRemoved).toEqual([{ id: bo.id }]);
    expect(await memberRead(checkout.teamId, bo)).toEqual(NOT_A_MEMBER);
    expect(await memberRead(checkout.teamId, ana)).toMatchObject({ status: 200, body: { id: ana.id } });
    expect(await memberRead(ops.teamId, bo)).toMatchObject({ status: 200, body: { id: bo.id, email: "bo@contoso.com" } });
    expect(emulator.memberRemovedFromTeam({ team: ops, user: bo, withObjectId: true }).membersRemoved).toEqual([
      { id: bo.id, aadObjectId: bo.aadObjectId },
    ]);
    expect(() => emulator.memberRemovedFromTeam({ team: ops, user: bo })).toThrow(/not a member/);
  });

  it("a user who leaves the organisation: one teamMemberRemoved per team with the bot, then unknown everywhere", async () => {
    const cy = emulator.addUser({ email: "cy@contoso.com", name: "Cy Park" });
    const dee = emulator.addUser({ email: "dee@contoso.com", name: "Dee Ray" });
    const support = emulator.addTeam({ name: "Support", members: [dee, cy] });
    const alone = emulator.addTeam({ name: "Just Cy", members: [cy] });
    const withoutBot = emulator.addTeam({ name: "No bot", members: [cy, dee] });
    emulator.botRemovedFromTeam({ team: withoutBot });
    const chat = emulator.personalConversation(cy);

    const activities = emulator.userLeftOrganisation({ user: cy });
    expect(activities.map((a) => (a.channelData as { team: { id: string } }).team.id)).toEqual([support.teamId, alone.teamId]);
    for (const activity of activities) {
      expect(activity).toMatchObject({ membersRemoved: [{ id: cy.id }], channelData: { eventType: "teamMemberRemoved" } });
    }
    // The last one out of a team: the event comes from the account that is gone.
    expect(activities[1]!.from).toEqual({ id: cy.id, aadObjectId: cy.aadObjectId });

    expect(await memberRead(support.teamId, cy)).toEqual(NOT_A_MEMBER);
    expect(await memberRead(alone.teamId, cy)).toEqual(NOT_A_MEMBER);
    expect((await connector("POST", `v3/conversations/${encodeURIComponent(chat.id)}/activities`, { type: "message" })).status).toBe(404);
    const reopened = await connector("POST", "v3/conversations", {
      isGroup: false,
      bot: { id: emulator.botId },
      members: [{ id: cy.id }],
      tenantId: TENANT_ID,
    });
    expect(reopened.status).toBe(400);
    expect(emulator.snapshot().users.map((u) => u.email)).not.toContain("cy@contoso.com");
    expect(await memberRead(support.teamId, dee)).toMatchObject({ status: 200 });
  });

  it("over the control API: removal from a team, and leaving the organisation, answer the activities to post", async () => {
    const eve = emulator.addUser({ email: "eve@contoso.com", name: "Eve Moss" });
    const fay = emulator.addUser({ email: "fay@contoso.com", name: "Fay Holm" });
    const infra = emulator.addTeam({ name: "Infra", members: [eve, fay] });

    const fromTeam = await control("team-members/remove", { team: infra.teamId, user: "fay@contoso.com" });
    expect(fromTeam).toMatchObject({ status: 200, body: { activity: { membersRemoved: [{ id: fay.id }] } } });
    const left = await control("users/remove", { user: eve.aadObjectId, withObjectId: true });
    expect(left).toMatchObject({ status: 200, body: { activities: [{ membersRemoved: [{ id: eve.id, aadObjectId: eve.aadObjectId }] }] } });
    expect((await control("users/remove", { user: "nobody@contoso.com" })).status).toBe(400);
  });
});
