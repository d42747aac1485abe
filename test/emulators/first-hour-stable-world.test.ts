import { describe, expect, it } from "vitest";
import { World } from "../../dev/emulators/teams/world";
import { isTeamsConversationId, isTeamsUserId, isTenantId } from "../../shared/domain/ids";

const APP = "00000000-0000-4000-8000-00000000d3b0";
const TENANT = "00000000-0000-4000-8000-0000000d3a11";

/** What `npm start` builds on every start. */
function demoWorld(tenantId = TENANT) {
  const world = new World(APP, tenantId);
  const ana = world.addUser({ name: "Ana Lima", email: "ana@triage.dev" });
  const ben = world.addUser({ name: "Ben Okafor", email: "ben@triage.dev" });
  const team = world.addTeam({ name: "Checkout", members: [ana, ben] });
  const channel = world.addChannel(team.teamId, "incidents");
  return { ana, ben, team, channel, personal: world.personalConversation(ana).id };
}

describe("the Teams emulator's demo world across restarts", () => {
  it("has the same ids every time it is built the same way (Azurite keeps data that names them)", () => {
    expect(demoWorld()).toEqual(demoWorld());
  });

  it("ids are still distinct and well-formed", () => {
    const { ana, ben, team, channel } = demoWorld();
    expect(new Set([ana.id, ben.id]).size).toBe(2);
    expect(new Set([ana.aadObjectId, ben.aadObjectId]).size).toBe(2);
    expect(team.generalChannelId).not.toBe(channel.id);
    for (const id of [ana.id, ben.id]) expect(isTeamsUserId(id), id).toBe(true);
    for (const id of [ana.aadObjectId, ben.aadObjectId, team.aadGroupId]) expect(isTenantId(id), id).toBe(true);
    for (const id of [team.generalChannelId, channel.id]) expect(isTeamsConversationId(id), id).toBe(true);
  });

  it("another tenant gets other ids", () => {
    expect(demoWorld("11111111-1111-4111-8111-111111111111").team.teamId).not.toBe(demoWorld().team.teamId);
  });
});
