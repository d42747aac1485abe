// A Teams member who leaves a team, or the organisation, stops being offered in the Assign menu once they are in no
// team of the tenant where the bot is installed: Teams tells the bot (conversationUpdate teamMemberRemoved, in each
// team with the bot), the bot answers at once and, a few seconds later (off the member-sync queue, once the other
// teams' removals have landed), asks Teams team by team whether they are still in one, and only then removes their
// automatic link. Before, automatic links only ever grew: people kept assigning issues to a departed colleague.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { StorageClients } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { signInAs, TestBrowser } from "../support/browser";
import { logsOnceLogged } from "../support/host-process";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText, executeActions } from "./card-helpers";
import { alertCardInTeams, startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let ben: TeamsUser;
let cleo: TeamsUser;
let checkout: TeamsTeam;
let cards = 0;

beforeAll(async () => {
  stack = await startStack();
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  cleo = stack.teams.addUser({ name: "Cleo Diaz", email: "cleo@contoso.com" });
  checkout = stack.teams.addTeam({ name: "Checkout", members: [ana, ben, cleo] });
  await installIn(checkout, [ana, ben, cleo]);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** The bot is added to the team, and its roster read (in the background) links these members. */
async function installIn(team: TeamsTeam, members: TeamsUser[]): Promise<void> {
  expect((await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team }))).status).toBe(200);
  await waitFor(
    async () => {
      const linked = (await freshIdentities().people("msteams", stack.teams.tenantId)).map((person) => person.email);
      return members.every((member) => linked.includes(member.email));
    },
    { timeoutMs: 30_000, description: `the members of ${team.name} linked` },
  );
}

async function post(activities: Activity[]): Promise<void> {
  for (const activity of activities) expect((await stack.teams.post(`${stack.api}/messages`, activity)).status).toBe(200);
}

/** A new issue's card, posted in the team's General channel. */
async function nextCard(team: TeamsTeam) {
  cards++;
  const issueId = `left-issue-${cards}`;
  const posted = await alertCardInTeams(stack, team.generalChannelId, { alertId: `left-${cards}`, issueId });
  return { issueId, posted, card: cardOf(posted.activity) };
}

/** The emails a new issue's card in the team offers under Assign ▸ (not "Assign to me"). */
async function assignMenuOfNextCard(team: TeamsTeam): Promise<string[]> {
  return assignMenu((await nextCard(team)).card);
}

function assignMenu(card: unknown): string[] {
  return executeActions(card)
    .map((button) => (button.data as { payload?: { action?: { type?: string; assignee?: string } } }).payload?.action)
    .filter((action) => action?.type === "assign" && action.assignee !== "me")
    .map((action) => action!.assignee!);
}

/** Links as stored now: the repository remembers what it read for a few seconds, per storage client. */
const freshIdentities = () =>
  new IdentityRepository(new StorageClients({ kind: "connectionString", connectionString: stack.azurite.connectionString }));
const linkOf = async (user: TeamsUser) => freshIdentities().lookup("msteams", stack.teams.tenantId, user.aadObjectId);

/** What the check of a member who left a team decided, logged from `mark` on (the log names nobody). */
const DEPARTURE_OUTCOME = /member who left a team.*(kept|removed|nothing to check|left as it is)/;

/** The first `count` decisions logged after `mark`, once they are all there. */
async function departureOutcomes(mark: number, count = 1): Promise<string[]> {
  return waitFor(
    () => {
      const outcomes = stack.host
        .logs()
        .slice(mark)
        .filter((line) => DEPARTURE_OUTCOME.test(line));
      return outcomes.length >= count && outcomes.slice(0, count);
    },
    { timeoutMs: 60_000, description: `${count} decision(s) about a member who left a team` },
  );
}

async function linkRemoved(user: TeamsUser): Promise<void> {
  await waitFor(async () => (await linkOf(user)).identity === undefined, { timeoutMs: 60_000, description: `${user.name}'s link removed` });
}

/** A member read asking about `user`, per conversation asked. */
function teamsAskedAbout(user: TeamsUser, fromCall: number): Set<string> {
  const reads = stack.teams.calls
    .slice(fromCall)
    .filter((call) => call.operation === "getMember" && call.path.endsWith(`/members/${encodeURIComponent(user.id)}`));
  return new Set(reads.map((call) => call.conversationId!));
}

describe("a Teams member who leaves", () => {
  it("leaves the organisation (in no other team with the bot): the next card no longer offers them, and their link is gone", async () => {
    const before = await nextCard(checkout);
    expect(assignMenu(before.card)).toEqual(expect.arrayContaining(["ana@contoso.com", "ben@contoso.com", "cleo@contoso.com"]));
    const assignCleo = action(cardOf(before.posted.activity), "Cleo Diaz");
    const click = stack.teams.invokeAction({
      conversation: checkout.generalChannelId,
      from: ana,
      replyToId: before.posted.activityId,
      verb: assignCleo.verb!,
      data: assignCleo.data,
    });
    expect((await stack.teams.post(`${stack.api}/messages`, click)).status).toBe(200);

    await post(stack.teams.userLeftOrganisation({ user: cleo }));

    await linkRemoved(cleo);
    const offered = await assignMenuOfNextCard(checkout);
    expect(offered).toContain("ana@contoso.com");
    expect(offered).toContain("ben@contoso.com");
    expect(offered).not.toContain("cleo@contoso.com");
    expect(await linkOf(cleo)).toEqual({ optedOut: false });
    // What was assigned to them stays so.
    expect((await new IssueRepository(stack.storage).get(before.issueId))!.issue.assignee).toMatchObject({ email: "cleo@contoso.com" });
  }, 90_000);

  it("removed from one team but still in another with the bot: still offered; removed from that one too: no longer", async () => {
    const payments = stack.teams.addTeam({ name: "Payments", members: [ben, ana] });
    await installIn(payments, [ben, ana]);
    const mark = stack.host.logs().length;

    await post([stack.teams.memberRemovedFromTeam({ team: checkout, user: ben })]);
    expect(await departureOutcomes(mark)).toEqual([expect.stringMatching(/still in another team with the bot: their automatic link is kept/)]);
    expect(await assignMenuOfNextCard(checkout)).toContain("ben@contoso.com");
    expect(await linkOf(ben)).toMatchObject({ identity: { how: "auto", person: { email: "ben@contoso.com" } } });

    await post([stack.teams.memberRemovedFromTeam({ team: payments, user: ben })]);
    await linkRemoved(ben);
    expect(await assignMenuOfNextCard(checkout)).not.toContain("ben@contoso.com");
    expect(await linkOf(ben)).toEqual({ optedOut: false });
  }, 90_000);

  it("someone who linked by signing in keeps their link when they leave; a colleague linked automatically leaving with them does not", async () => {
    const dee = stack.teams.addUser({ name: "Dee Ray", email: "dee@contoso.com" });
    const eve = stack.teams.addUser({ name: "Eve Moss", email: "eve@contoso.com" });
    const support = stack.teams.addTeam({ name: "Support", members: [ana, dee, eve] });
    await installIn(support, [ana, dee, eve]);
    await linkBySigningIn(dee);
    expect(await linkOf(dee)).toMatchObject({ identity: { how: "explicit", person: { email: "dee@contoso.com" } } });
    const mark = stack.host.logs().length;

    await post(stack.teams.userLeftOrganisation({ user: dee }));
    await post(stack.teams.userLeftOrganisation({ user: eve }));

    // Both checked: one for each.
    expect((await departureOutcomes(mark, 2)).sort()).toEqual([
      expect.stringMatching(/has no automatic link: nothing to check/),
      expect.stringMatching(/their automatic link is removed/),
    ]);
    const offered = await assignMenuOfNextCard(support);
    expect(offered).toContain("dee@contoso.com");
    expect(offered).not.toContain("eve@contoso.com");
    expect(await linkOf(dee)).toMatchObject({ identity: { how: "explicit", person: { email: "dee@contoso.com" } } });
    expect(await linkOf(eve)).toEqual({ optedOut: false });
  }, 90_000);

  it("Teams can't say whether they are still in another team (503 on every try): the link is kept, and the log says why without naming them", async () => {
    const fay = stack.teams.addUser({ name: "Fay Holm", email: "fay@contoso.com" });
    const infra = stack.teams.addTeam({ name: "Infra", members: [ana, fay] });
    const oncall = stack.teams.addTeam({ name: "On call", members: [ana, fay] });
    await installIn(infra, [ana, fay]);
    await installIn(oncall, [ana, fay]);
    stack.teams.injectFault({ operation: "getMember", conversationId: oncall.teamId, status: 503, times: 50 });
    const mark = stack.host.logs().length;

    try {
      // Gone from Infra; whether still in On call, Teams can't say, however often it is asked.
      await post([stack.teams.memberRemovedFromTeam({ team: infra, user: fay })]);
      const [outcome] = await departureOutcomes(mark);
      expect(outcome).toMatch(/kept, whether they are still in a team with the bot is not known \(Teams answered 503 ServiceUnavailable\)/);
    } finally {
      stack.teams.clearFaults();
    }
    const logged = stack.host.logs().slice(mark).join("\n");
    for (const personal of [fay.email, fay.name, fay.id, fay.aadObjectId]) expect(logged).not.toContain(personal);
    expect(await assignMenuOfNextCard(infra)).toContain("fay@contoso.com");
    expect(await linkOf(fay)).toMatchObject({ identity: { how: "auto" } });
  }, 90_000);

  it("a read Teams fails once (503) is tried again: its answer decides", async () => {
    const gil = stack.teams.addUser({ name: "Gil Soto", email: "gil@contoso.com" });
    const ops = stack.teams.addTeam({ name: "Ops", members: [ana, gil] });
    const sre = stack.teams.addTeam({ name: "SRE", members: [ana, gil] });
    await installIn(ops, [ana, gil]);
    await installIn(sre, [ana, gil]);
    stack.teams.injectFault({ operation: "getMember", conversationId: sre.teamId, status: 503, times: 1 });
    const mark = stack.host.logs().length;

    await post([stack.teams.memberRemovedFromTeam({ team: ops, user: gil })]);

    expect(await departureOutcomes(mark)).toEqual([expect.stringMatching(/still in another team with the bot: their automatic link is kept/)]);
    expect(await linkOf(gil)).toMatchObject({ identity: { how: "auto" } });
  }, 90_000);

  it("removed from three teams by three events at once, before Teams' member reads show any of it: once the removals land, the link is removed", async () => {
    const hana = stack.teams.addUser({ name: "Hana Berg", email: "hana@contoso.com" });
    const teams = ["Web", "Mobile", "Data"].map((name) => stack.teams.addTeam({ name, members: [ana, hana] }));
    for (const team of teams) await installIn(team, [ana, hana]);

    const events = teams.map((team) => stack.teams.memberRemovedFromTeam({ team, user: hana, landsLater: true }));
    await Promise.all(events.map((event) => post([event])));
    stack.teams.landRemovals();

    await linkRemoved(hana);
    expect(await assignMenuOfNextCard(teams[0]!)).not.toContain("hana@contoso.com");
  }, 120_000);

  it("every team answers 403 (the app blocked across the tenant): no team said they are gone, so the link is kept", async () => {
    const ian = stack.teams.addUser({ name: "Ian Cole", email: "ian@contoso.com" });
    const red = stack.teams.addTeam({ name: "Red", members: [ana, ian] });
    const blue = stack.teams.addTeam({ name: "Blue", members: [ana, ian] });
    await installIn(red, [ana, ian]);
    await installIn(blue, [ana, ian]);
    const mark = stack.host.logs().length;
    stack.teams.injectFault({ operation: "getMember", status: 403, times: 1_000 });

    try {
      await post([stack.teams.memberRemovedFromTeam({ team: red, user: ian })]);
      const [outcome] = await departureOutcomes(mark);
      expect(outcome).toMatch(/kept/);
    } finally {
      stack.teams.clearFaults();
    }
    expect(await linkOf(ian)).toMatchObject({ identity: { how: "auto", person: { email: "ian@contoso.com" } } });
    expect(await assignMenuOfNextCard(red)).toContain("ian@contoso.com");
  }, 90_000);

  it("a tenant with 30 teams with the bot: Teams gets its answer at once, every team is asked, and the link is removed", async () => {
    const jo = stack.teams.addUser({ name: "Jo Park", email: "jo@contoso.com" });
    const home = stack.teams.addTeam({ name: "Jo's team", members: [ana, jo] });
    await installIn(home, [ana, jo]);
    for (let n = 1; n < 30; n++) await installIn(stack.teams.addTeam({ name: `Team ${n}`, members: [ana] }), [ana]);
    const activeTeams = stack.teams.snapshot().teams.length;
    expect(activeTeams).toBeGreaterThanOrEqual(30);
    const fromCall = stack.teams.calls.length;

    const startedAt = Date.now();
    await post([stack.teams.memberRemovedFromTeam({ team: home, user: jo })]);
    expect(Date.now() - startedAt).toBeLessThan(2_000);

    await linkRemoved(jo);
    expect(teamsAskedAbout(jo, fromCall).size).toBe(activeTeams);
    expect(await assignMenuOfNextCard(home)).not.toContain("jo@contoso.com");
  }, 180_000);
});

/** The person types "link" in their 1:1 chat with the bot and signs in as themselves: a link they made. */
async function linkBySigningIn(user: TeamsUser): Promise<void> {
  const chat = stack.teams.personalConversation(user);
  expect((await stack.teams.post(`${stack.api}/messages`, stack.teams.message({ conversation: chat, from: user, text: "link" }))).status).toBe(200);
  const prompt = await waitFor(() => stack.teams.messages(chat.id).find((m) => cardText(cardOf(m.activity)).includes("Link your account")), {
    description: "the link card in the 1:1 chat",
  });
  const openUrl = (cardOf(prompt.activity) as { actions: { type: string; url: string }[] }).actions.find((a) => a.type === "Action.OpenUrl")!.url;
  stack.oidc.addPerson({ email: user.email, name: user.name });
  const browser = new TestBrowser();
  const confirm = await signInAs(browser, await browser.get(openUrl), user.email);
  expect(confirm.text).toMatch(/nothing is linked until you confirm/);
  const done = await browser.submitForm(confirm);
  expect(done.text).toContain(`You&#39;re linked as ${user.email}`);
}
