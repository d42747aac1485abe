// A Teams outage while the bot reads a team's roster (the member-sync queue, after the bot is added to a team):
// the page is read again after a backoff through the queue, as Teams asks for 412 and 5xx, instead of failing
// the message into member-sync-poison within seconds and leaving the team out of every Assign menu. The app's
// workflow runs in this process against Azurite and the Teams emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { memberSyncMessageSchema, takeMemberSyncPage, type MemberSyncMessage } from "../../shared/identity/member-sync";
import { QUEUES } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import type { AppContext } from "../../shared/context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { decode, drain, messageCount, queueClient } from "../support/queues";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let run: AppContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "member-sync-outage",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0b3", tenantId: "72f988bf-0000-4000-8000-000000000013" },
  });
  run = app.context();
});
afterAll(async () => {
  await app?.stop();
});

/** A team of three with email addresses, and the first page of its roster to read (what adding the bot queues). */
function aTeam(name: string): { team: TeamsTeam; members: TeamsUser[]; first: MemberSyncMessage } {
  const members = [1, 2, 3].map((n) => app.teams.addUser({ name: `${name} ${n}`, email: `${name}${n}@contoso.com` }));
  const team = app.teams.addTeam({ name, members });
  return { team, members, first: { tenantId: app.teams.tenantId, serviceUrl: app.teams.serviceUrl, teamId: team.teamId } };
}

const linked = async (members: TeamsUser[]) =>
  (await Promise.all(members.map((member) => new IdentityRepository(app.storage).findByEmail(member.email, "msteams")))).filter(
    (found) => found.length,
  ).length;

/** The page the workflow queued again, taken off the member-sync queue once it is visible, as the host would. */
async function nextQueuedPage(): Promise<MemberSyncMessage> {
  const queue = queueClient(app.azurite.connectionString, QUEUES.memberSync);
  return waitFor(
    async () => {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 });
      const item = receivedMessageItems[0];
      if (!item) return undefined;
      await queue.deleteMessage(item.messageId, item.popReceipt);
      return memberSyncMessageSchema.parse(decode(item.messageText).body);
    },
    { timeoutMs: 10_000, intervalMs: 100, description: "the page queued again" },
  );
}

describe("reading a team's roster while Teams fails", () => {
  it.each([
    ["503", { status: 503 as const }],
    ["412", { status: 412 as const }],
    ["a dropped connection", { status: 500 as const, disconnect: true }],
  ])("%s once: the page is queued again after a backoff, then read, and every member linked", async (_, fault) => {
    await drain(app.azurite.connectionString, QUEUES.memberSync);
    const { team, members, first } = aTeam(`outage${fault.status}${"disconnect" in fault ? "x" : ""}`);
    app.teams.injectFault({ operation: "pagedMembers", conversationId: team.teamId, ...fault, times: 1 });

    const said = await takeMemberSyncPage(run, first);
    expect(said).toMatch(/^Team members: the roster read failed \(.+\); the page is read again in \d+s$/);
    expect(await linked(members)).toBe(0);
    const again = await nextQueuedPage();
    expect(again).toMatchObject({ ...first, attempt: 2 });

    expect(await takeMemberSyncPage(run, again)).toBe("Team members: 3 linked from this page; done");
    expect(await linked(members)).toBe(3);
    expect(await messageCount(app.azurite.connectionString, QUEUES.memberSync)).toBe(0);
  });

  it("still failing at the last attempt: the read stops, saying why, and nothing more is queued", async () => {
    await drain(app.azurite.connectionString, QUEUES.memberSync);
    const { team, members, first } = aTeam("down");
    app.teams.injectFault({ operation: "pagedMembers", conversationId: team.teamId, status: 503, times: Infinity });
    try {
      const said = await takeMemberSyncPage(run, { ...first, attempt: 8 });
      expect(said).toBe(
        "Team members: gave up reading the roster after 8 attempts (Teams answered 503 ServiceUnavailable); members not linked yet are linked when they first use the bot",
      );
      expect(await linked(members)).toBe(0);
      expect(await messageCount(app.azurite.connectionString, QUEUES.memberSync)).toBe(0);
    } finally {
      app.teams.clearFaults();
    }
  });
});
