// A Teams member linked automatically (by the email Teams returned for them) whose email then changes in Entra:
// the link follows the new address — when the team's roster is read again, and when they click once the link is
// over a day old — so DMs to the new address reach them and "Assign to me" names it. Before, the link kept the
// old address for good. A link someone made themselves, or undid, is never changed. The emulator has no rename:
// each person is in the emulator as they are after the change, and their link as it was recorded before it.
// The app's workflows run in this process against Azurite and the Teams emulator.
import { setTimeout as sleep } from "node:timers/promises";
import { InvocationContext } from "@azure/functions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsEmulator, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { AppContext } from "../../shared/context";
import { conversationFor } from "../../shared/delivery/teams-sender";
import { recordAutoLink } from "../../shared/identity/auto-link";
import { takeMemberSyncPage } from "../../shared/identity/member-sync";
import { respondToTeamsActivity } from "../../shared/inbound/teams/respond";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { teamsActivitySchema } from "../../shared/teams/activity";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { action, cardOf } from "../e2e/card-helpers";
import { anAlert } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInTeamsChannels } from "../support/installations";
import { drain } from "../support/queues";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let teams: TeamsEmulator;
let ctx: AppContext;
const DAY_MS = 24 * 60 * 60 * 1000;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "teams-email-change",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c2b1", tenantId: "72f988bf-0000-4000-8000-000000000c2b" },
  });
  teams = app.teams;
  ctx = app.context();
}, 60_000);
afterEach(() => {
  teams.clearFaults();
});
afterAll(async () => {
  await app?.stop();
});

/** A fresh repository per read: one repository remembers what it read for a few seconds. */
const identities = () => new IdentityRepository(app.direct);
const linkOf = async (user: TeamsUser) => (await identities().lookup("msteams", teams.tenantId, user.aadObjectId)).identity;

/** The automatic link an earlier roster read or click recorded for the user, under the address they had then. */
async function linkedEarlierAs(user: TeamsUser, email: string, linkedAt: Date): Promise<void> {
  await recordAutoLink(
    { identities: identities(), now: () => linkedAt },
    { provider: "msteams", scope: teams.tenantId, chatUserId: user.aadObjectId, teamsUserId: user.id },
    { email, name: user.name },
  );
}

/** Where a card sent to the person by email would go, or why it could not. */
async function dmTo(email: string): Promise<string> {
  const reference = await conversationFor(ctx, { provider: "msteams", userEmail: email }, 1);
  return "kind" in reference ? `dead: ${reference.reason}` : reference.conversationId;
}

/** Someone in Teams, in a team whose General channel has the bot (Teams answers member reads only for members). */
async function aMember(name: string, email: string): Promise<{ user: TeamsUser; team: TeamsTeam }> {
  const user = teams.addUser({ name, email });
  const team = teams.addTeam({ name: `${name}'s team`, members: [user] });
  await installInTeamsChannels(app.direct, teams, [team.generalChannelId]);
  return { user, team };
}

/** A new issue with its card posted in the team's General channel. */
async function postedCard(issueId: string, team: TeamsTeam) {
  const alert = anAlert({
    alertId: `${issueId}-1`,
    issue: { id: issueId },
    targets: [{ provider: "msteams", conversationId: team.generalChannelId }],
  });
  await takeAlert(app.storage, alert, JSON.stringify(alert));
  for (const message of await drain(app.azurite.connectionString, "deliveries")) {
    const read = readDeliveryMessage(message.body);
    if (read.ok) await deliverBatch(ctx, read.batch);
  }
  const posted = teams.messages(team.generalChannelId).find((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`));
  if (!posted) throw new Error(`no card posted for ${issueId}`);
  return posted;
}

async function fromTeams(activity: Activity) {
  return respondToTeamsActivity(ctx, teamsActivitySchema.parse(activity), new InvocationContext());
}

/** `from` clicks "Assign to me" on the issue's card (Action.Execute); the issue's assignee afterwards. */
async function assignsThemselves(issueId: string, { user: from, team }: { user: TeamsUser; team: TeamsTeam }): Promise<string | undefined> {
  const posted = await postedCard(issueId, team);
  const button = action(cardOf(posted.activity), "Assign to me");
  const response = await fromTeams(
    teams.invokeAction({ conversation: team.generalChannelId, from, replyToId: posted.activityId, verb: button.verb!, data: button.data }),
  );
  expect(response.status).toBe(200);
  return (await new IssueRepository(app.direct).get(issueId))?.issue.assignee?.email;
}

const memberReads = () => teams.calls.filter((call) => call.operation === "getMember").length;

describe("a Teams member's email changes after they were linked automatically", () => {
  it("the team's roster is read again: the link follows the new address, and explicit links and unlinks stay as they are", async () => {
    const ana = teams.addUser({ name: "Ana Souza", email: "ana.souza@contoso.com" });
    const ben = teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
    const cleo = teams.addUser({ name: "Cleo Park", email: "cleo@contoso.com" });
    const dan = teams.addUser({ name: "Dan Reyes", email: "dan@contoso.com" });
    const roster = teams.addTeam({ name: "Roster", members: [ana, ben, cleo, dan] });
    await installInTeamsChannels(app.direct, teams, [roster.generalChannelId]);
    await linkedEarlierAs(ana, "ana.lima@contoso.com", new Date());
    await identities().link({
      provider: "msteams",
      scope: teams.tenantId,
      chatUserId: ben.aadObjectId,
      person: { email: "ben.okafor@fabrikam.com" },
      how: "explicit",
      linkedAt: new Date().toISOString(),
    });
    await identities().unlink("msteams", teams.tenantId, cleo.aadObjectId);
    expect(await dmTo("ana.souza@contoso.com")).toMatch(/^dead: no Teams user with this email/);

    const said = await takeMemberSyncPage(ctx, { tenantId: teams.tenantId, serviceUrl: teams.serviceUrl, teamId: roster.teamId });

    expect(await linkOf(ana)).toMatchObject({ how: "auto", person: { email: "ana.souza@contoso.com", name: "Ana Souza" } });
    expect(said).toBe("Team members: 1 linked, 1 updated from this page; done");
    expect(await identities().findByEmail("ana.lima@contoso.com", "msteams")).toEqual([]);
    expect(await dmTo("ana.souza@contoso.com")).toBe(teams.personalConversation(ana).id);
    expect(await linkOf(ben)).toMatchObject({ how: "explicit", person: { email: "ben.okafor@fabrikam.com" } });
    expect((await identities().lookup("msteams", teams.tenantId, cleo.aadObjectId)).optedOut).toBe(true);
    expect(await linkOf(dan)).toMatchObject({ how: "auto", person: { email: "dan@contoso.com" } });
  });

  it("a click by someone whose automatic link is over a day old reads their email again: the action is theirs under the new address", async () => {
    const erin = await aMember("Erin Vale", "erin.vale@contoso.com");
    await linkedEarlierAs(erin.user, "erin.moss@contoso.com", new Date(Date.now() - 2 * DAY_MS));

    expect(await assignsThemselves("email-change-old-link", erin)).toBe("erin.vale@contoso.com");
    expect(await linkOf(erin.user)).toMatchObject({ how: "auto", person: { email: "erin.vale@contoso.com" } });
    expect(await dmTo("erin.vale@contoso.com")).toBe(teams.personalConversation(erin.user).id);

    // Read again just now: the next click asks Teams nothing.
    const before = memberReads();
    expect(await assignsThemselves("email-change-old-link-again", erin)).toBe("erin.vale@contoso.com");
    expect(memberReads()).toBe(before);
  });

  it("a click by someone whose automatic link is recent asks Teams nothing", async () => {
    const finn = await aMember("Finn Holt", "finn.holt@contoso.com");
    await linkedEarlierAs(finn.user, "finn@contoso.com", new Date(Date.now() - DAY_MS / 2));
    const before = memberReads();

    expect(await assignsThemselves("email-change-recent-link", finn)).toBe("finn@contoso.com");
    expect(memberReads()).toBe(before);
  });

  it("Teams fails the read of an old link (503): the click still goes through, as the person linked", async () => {
    const gus = await aMember("Gus Lee", "gus.lee@contoso.com");
    await linkedEarlierAs(gus.user, "gus@contoso.com", new Date(Date.now() - 2 * DAY_MS));
    teams.injectFault({ operation: "getMember", status: 503, times: Infinity });

    expect(await assignsThemselves("email-change-read-fails", gus)).toBe("gus@contoso.com");
    expect(await linkOf(gus.user)).toMatchObject({ person: { email: "gus@contoso.com" } });
  });

  it("a sign-in or an unlink made on another instance after this one read the links is kept by the roster read", async () => {
    const ivy = teams.addUser({ name: "Ivy Chen", email: "ivy.chen@contoso.com" });
    const jon = teams.addUser({ name: "Jon Berg", email: "jon.berg@contoso.com" });
    const roster = teams.addTeam({ name: "Raced roster", members: [ivy, jon] });
    await installInTeamsChannels(app.direct, teams, [roster.generalChannelId]);
    await linkedEarlierAs(ivy, "ivy@contoso.com", new Date());
    await linkedEarlierAs(jon, "jon@contoso.com", new Date());
    // This instance reads their links (a click, the Assign menu) and trusts what it read for a few seconds.
    const thisInstance = new IdentityRepository(ctx.storage);
    for (const user of [ivy, jon]) expect((await thisInstance.lookup("msteams", teams.tenantId, user.aadObjectId)).identity).toBeDefined();
    // Meanwhile, on another instance: Ivy signs in as her Fabrikam account, Jon unlinks himself.
    await identities().link({
      provider: "msteams",
      scope: teams.tenantId,
      chatUserId: ivy.aadObjectId,
      person: { email: "ivy@fabrikam.com" },
      how: "explicit",
      linkedAt: new Date().toISOString(),
    });
    await identities().unlink("msteams", teams.tenantId, jon.aadObjectId);

    const said = await takeMemberSyncPage(ctx, { tenantId: teams.tenantId, serviceUrl: teams.serviceUrl, teamId: roster.teamId });

    expect(await linkOf(ivy)).toMatchObject({ how: "explicit", person: { email: "ivy@fabrikam.com" } });
    expect(await identities().findByEmail("ivy@fabrikam.com", "msteams")).toHaveLength(1);
    expect((await identities().lookup("msteams", teams.tenantId, jon.aadObjectId)).optedOut).toBe(true);
    expect(said).toBe("Team members: 0 linked from this page; done");
  });

  it("a sign-in made on another instance while a click's read of an old link is still out is kept", async () => {
    const kim = await aMember("Kim Novak", "kim.novak@contoso.com");
    await linkedEarlierAs(kim.user, "kim@contoso.com", new Date(Date.now() - 2 * DAY_MS));
    // Teams answers the read after the click stopped waiting for it (2 s): the read finishes behind the click.
    teams.injectFault({ operation: "getMember", status: 200, delayMs: 3000 });
    const before = memberReads();

    expect(await assignsThemselves("email-change-raced-sign-in", kim)).toBe("kim@contoso.com");
    await identities().link({
      provider: "msteams",
      scope: teams.tenantId,
      chatUserId: kim.user.aadObjectId,
      person: { email: "kim@fabrikam.com" },
      how: "explicit",
      linkedAt: new Date().toISOString(),
    });
    await waitFor(() => memberReads() > before, { description: "Teams answered the member read" });

    // What the read brings in lands within moments of its answer: the link must still be the sign-in's a while later.
    await sleep(1000);
    expect(await linkOf(kim.user)).toMatchObject({ how: "explicit", person: { email: "kim@fabrikam.com" } });
    expect(await identities().findByEmail("kim@fabrikam.com", "msteams")).toHaveLength(1);
  });

  it("someone who signed in, or unlinked, and then adds the app to their own chat again keeps what they chose", async () => {
    const lea = teams.addUser({ name: "Lea Roth", email: "lea.roth@contoso.com" });
    const max = teams.addUser({ name: "Max Hale", email: "max.hale@contoso.com" });
    await identities().link({
      provider: "msteams",
      scope: teams.tenantId,
      chatUserId: lea.aadObjectId,
      person: { email: "lea@fabrikam.com" },
      how: "explicit",
      linkedAt: new Date().toISOString(),
    });
    await identities().unlink("msteams", teams.tenantId, max.aadObjectId);

    for (const user of [lea, max]) await fromTeams(teams.personalInstall({ user }));

    expect(await linkOf(lea)).toMatchObject({ how: "explicit", person: { email: "lea@fabrikam.com" } });
    expect((await identities().lookup("msteams", teams.tenantId, max.aadObjectId)).optedOut).toBe(true);
  });

  it("an explicit link is never read again, however old", async () => {
    const hana = await aMember("Hana Ito", "hana.ito@contoso.com");
    await identities().link({
      provider: "msteams",
      scope: teams.tenantId,
      chatUserId: hana.user.aadObjectId,
      person: { email: "hana@fabrikam.com" },
      how: "explicit",
      linkedAt: new Date(Date.now() - 30 * DAY_MS).toISOString(),
    });
    const before = memberReads();

    expect(await assignsThemselves("email-change-explicit", hana)).toBe("hana@fabrikam.com");
    expect(memberReads()).toBe(before);
  });
});
