// Someone removed from a team keeps their automatic link only while Teams can't say whether they are in another team
// with the bot. When the app's own pacing holds back the member reads (the tenant's Teams budget spent by other work,
// as an alert storm's posts spend it), that says nothing about them: the check goes back on the member-sync queue for
// when a slot is free, instead of ending as "not known" with the link kept for good. The app's workflow runs in this
// process against Azurite and the Teams emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { takeDepartureCheck, type MemberLeftMessage } from "../../shared/identity/member-departure";
import { memberSyncQueueMessageSchema, takeMemberSyncPage } from "../../shared/identity/member-sync";
import { QUEUES } from "../../shared/storage/clients";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { teamsTenantLimiter } from "../../shared/teams/pacing";
import type { AppContext } from "../../shared/context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { decode, drain, messageCount, queueClient } from "../support/queues";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let run: AppContext;
let team: TeamsTeam;
let ana: TeamsUser;
let bo: TeamsUser;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "teams-held-back-member-left",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0b7", tenantId: "72f988bf-0000-4000-8000-000000000017" },
  });
  run = app.context();
  ana = app.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  bo = app.teams.addUser({ name: "Bo Chen", email: "bo@contoso.com" });
  team = app.teams.addTeam({ name: "Ops", members: [ana, bo] });
  await new TeamsInstallations(app.storage).save({
    tenantId: app.teams.tenantId,
    conversationId: team.generalChannelId,
    serviceUrl: app.teams.serviceUrl,
    conversationType: "channel",
    teamId: team.teamId,
    active: true,
    updatedAt: new Date().toISOString(),
  });
  // Both linked automatically from the roster, as when the bot was added to the team.
  expect(await takeMemberSyncPage(run, { tenantId: app.teams.tenantId, serviceUrl: app.teams.serviceUrl, teamId: team.teamId })).toBe(
    "Team members: 2 linked from this page; done",
  );
});
afterAll(async () => {
  await app?.stop();
});

/**
 * Other work of this instance keeps the tenant's Teams budget booked `aheadMs` ahead, as a storm's posts do; returns
 * what ends it, handing its slots back.
 */
function spendTenantBudget(tenantId: string, aheadMs: number): () => void {
  const key = tenantId.toLowerCase();
  const booked: number[] = [];
  const fill = () => {
    for (;;) {
      const at = teamsTenantLimiter.earliest(key, Date.now());
      if (at > Date.now() + aheadMs) return;
      teamsTenantLimiter.book(key, at);
      booked.push(at);
    }
  };
  fill();
  const timer = setInterval(fill, 100);
  return () => {
    clearInterval(timer);
    for (const at of booked) teamsTenantLimiter.unbook(key, at);
  };
}

const link = () => run.identities.get("msteams", app.teams.tenantId, bo.aadObjectId);

describe("a member who left a team, checked while the tenant's Teams budget is spent", () => {
  it("the check is queued again for when a slot is free (not ended as 'not known'), and then removes the automatic link", async () => {
    await drain(app.azurite.connectionString, QUEUES.memberSync);
    app.teams.memberRemovedFromTeam({ team, user: bo, withObjectId: true });
    const check: MemberLeftMessage = {
      kind: "member-left",
      tenantId: app.teams.tenantId,
      teamId: team.teamId,
      serviceUrl: app.teams.serviceUrl,
      member: { id: bo.id, aadObjectId: bo.aadObjectId },
    };

    const stopSpending = spendTenantBudget(app.teams.tenantId, 20_000);
    let said: string;
    try {
      said = await takeDepartureCheck(run, check);
    } finally {
      stopSpending();
    }
    expect(said).toMatch(
      /Teams: a member who left a team could not be checked yet \(the app's Teams budget had no slot for the read\): checked again in \d+s/,
    );
    expect((await link())?.how).toBe("auto");
    expect(await messageCount(app.azurite.connectionString, QUEUES.memberSync)).toBe(1);

    // Once its delay is over, the check taken off the queue as the host would: Teams now says they are gone.
    const queue = queueClient(app.azurite.connectionString, QUEUES.memberSync);
    const again = await waitFor(
      async () => {
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 30 });
        const item = receivedMessageItems[0];
        if (!item) return undefined;
        await queue.deleteMessage(item.messageId, item.popReceipt);
        return memberSyncQueueMessageSchema.parse(decode(item.messageText).body);
      },
      { timeoutMs: 40_000, intervalMs: 250, description: "the check queued again" },
    );
    expect(again).toMatchObject({ kind: "member-left", member: check.member, teamId: team.teamId });
    expect(await takeDepartureCheck(run, again as MemberLeftMessage)).toBe(
      "Teams: a member who left a team is in no team with the bot any more: their automatic link is removed",
    );
    expect(await link()).toBeUndefined();
  }, 150_000);
});
