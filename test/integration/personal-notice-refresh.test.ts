// "Ana Lima assigned you CHECKOUT-12": the personal notice is posted with the issue's live card in the person's
// chat (Teams 1:1, Slack DM), and it stays on that card when later changes refresh it, as the reason the message
// is there. The app's workflows run in this process against Azurite and the Teams and Slack emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { Actor } from "../../shared/domain/issue";
import { CardRepository } from "../../shared/storage/cards";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { sendTeamsCard } from "../../shared/delivery/teams-sender";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import type { AppContext } from "../../shared/context";
import { anIssue } from "../fixtures/issues";
import { cardOf, cardText } from "../e2e/card-helpers";
import { blocksText } from "../e2e/slack-helpers";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";

const NOTICE = "Ana Lima assigned you CHECKOUT-12";
const ana: Actor = { person: { email: "ana@contoso.com", name: "Ana Lima" }, label: "Ana Lima", surface: "api" };

let app: EmulatedApp;
let run: AppContext;
let ben: TeamsUser;
let team: TeamsTeam;
let teamId: string;
let alertsChannel: string;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "personal-notice-refresh",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0b2", tenantId: "72f988bf-0000-4000-8000-000000000012" },
  });
  run = app.context();
  const tenantId = app.teams.tenantId;
  const teamsAna = app.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = app.teams.addUser({ name: "Ben Ode", email: "ben@contoso.com" });
  team = app.teams.addTeam({ name: "Checkout", members: [teamsAna, ben] });
  await installInTeamsChannels(app.storage, { tenantId, serviceUrl: app.teams.serviceUrl }, [team.generalChannelId]);
  const workspace = app.slack.addWorkspace({ name: "Contoso" });
  teamId = workspace.teamId;
  await installInSlackWorkspace(app.storage, workspace);
  alertsChannel = app.slack.addChannel(teamId, { name: "alerts" }).id;
  const slackBen = app.slack.addUser(teamId, { name: "ben", realName: "Ben Ode", email: "ben@contoso.com" }).id;
  const identities = new IdentityRepository(app.storage);
  const linkedAt = new Date().toISOString();
  const benPerson = { email: "ben@contoso.com", name: "Ben Ode" };
  await identities.link({
    provider: "msteams",
    scope: tenantId,
    chatUserId: ben.aadObjectId,
    teamsUserId: ben.id,
    person: benPerson,
    how: "auto",
    linkedAt,
  });
  await identities.link({ provider: "slack", scope: teamId, chatUserId: slackBen, person: benPerson, how: "auto", linkedAt });
  await identities.link({
    provider: "msteams",
    scope: tenantId,
    chatUserId: teamsAna.aadObjectId,
    teamsUserId: teamsAna.id,
    person: ana.person!,
    how: "auto",
    linkedAt,
  });
});
afterAll(async () => {
  await app?.stop();
});

/** The messages with this issue's card: in Ben's Teams chat, in his Slack DM, in a channel. */
const inBensTeamsChat = (issueId: string) =>
  app.teams.messages(app.teams.personalConversation(ben).id).filter((m) => cardOf(m.activity) && JSON.stringify(m.activity).includes(issueId));
const inBensSlackDm = (issueId: string) =>
  app.slack.messages().filter((m) => m.channel.startsWith("D") && !m.ephemeral && JSON.stringify(m.blocks).includes(issueId));
const teamsText = (m: { activity: Record<string, unknown> }) => cardText(cardOf(m.activity));

async function newIssue(issueId: string) {
  return (await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!.issue;
}

/** Runs the refresh a change announces, as the card-refresh function would. */
async function refreshAfterChange(issueId: string): Promise<number> {
  const version = (await new IssueRepository(app.storage).get(issueId))!.issue.version;
  await refreshCards(run, { issueId, version, requestedAt: new Date().toISOString() });
  return version;
}

const assignBen = (issueId: string) =>
  actOnIssue(app.storage, issueId, { type: "assign", assignee: { email: "ben@contoso.com", name: "Ben Ode" } }, ana);

describe("an assignment notice on the assignee's personal copy of the card", () => {
  it("is still shown, on Teams and on Slack, after another change refreshes that card", async () => {
    const issueId = "notice-kept-1";
    await newIssue(issueId);
    await assignBen(issueId);
    await refreshAfterChange(issueId);
    expect(inBensTeamsChat(issueId).map(teamsText)).toEqual([expect.stringContaining(NOTICE)]);
    expect(inBensSlackDm(issueId).map((m) => blocksText(m.blocks))).toEqual([expect.stringContaining(NOTICE)]);

    // Ana resolves it: Ben's copies follow, and still say why they are in his chat.
    await actOnIssue(app.storage, issueId, { type: "resolve" }, ana);
    const version = await refreshAfterChange(issueId);
    const copies = await new CardRepository(app.storage).list(issueId);
    expect(copies.map((copy) => [copy.provider, copy.renderedVersion]).sort()).toEqual([
      ["msteams", version],
      ["slack", version],
    ]);
    const [teamsShown] = inBensTeamsChat(issueId);
    expect(teamsShown!.updates).toBe(1);
    expect(teamsText(teamsShown!)).toMatch(/Resolved/);
    expect(teamsText(teamsShown!)).toContain(NOTICE);
    const [slackShown] = inBensSlackDm(issueId);
    expect(blocksText(slackShown!.blocks)).toMatch(/Resolved/);
    expect(blocksText(slackShown!.blocks)).toContain(NOTICE);
  });

  it("stays on that card only: not on the issue's cards in channels, nor on a card an alert sent to the person's chat", async () => {
    const issueId = "notice-kept-2";
    const issue = await newIssue(issueId);
    const sender = { ...run, slack: run.slack!, identities: new IdentityRepository(app.storage) };
    const cards = new CardRepository(app.storage);
    const posts = [
      await sendTeamsCard(sender, issue, { provider: "msteams", conversationId: team.generalChannelId }, `msteams:conv:${team.generalChannelId}`, 1),
      await sendTeamsCard(sender, issue, { provider: "msteams", userEmail: "ben@contoso.com" }, "msteams:email:ben@contoso.com", 1),
      await sendSlackCard(sender, issue, { provider: "slack", teamId, channel: alertsChannel }, `slack:${teamId}:${alertsChannel}`, 1, {
        deliveryId: "d-channel",
      }),
      await sendSlackCard(sender, issue, { provider: "slack", teamId, userEmail: "ben@contoso.com" }, `slack:${teamId}:email:ben@contoso.com`, 1, {
        deliveryId: "d-dm",
      }),
    ];
    for (const posted of posts) {
      if (posted.kind !== "sent") throw new Error(`posting failed: ${JSON.stringify(posted)}`);
      await cards.save(posted.copy);
    }
    await assignBen(issueId);
    await refreshAfterChange(issueId);
    await actOnIssue(app.storage, issueId, { type: "resolve" }, ana);
    await refreshAfterChange(issueId);

    // In Ben's chats: the alert's card, then the notice's, both resolved; only the notice's says he was assigned.
    const teamsChat = inBensTeamsChat(issueId).map(teamsText);
    expect(teamsChat).toEqual([expect.stringMatching(/Resolved/), expect.stringMatching(/Resolved/)]);
    expect(teamsChat.map((text) => text.includes(NOTICE))).toEqual([false, true]);
    const slackDm = inBensSlackDm(issueId).map((m) => blocksText(m.blocks));
    expect(slackDm).toEqual([expect.stringMatching(/Resolved/), expect.stringMatching(/Resolved/)]);
    expect(slackDm.map((text) => text.includes(NOTICE))).toEqual([false, true]);
    const channelCards = [
      ...app.teams
        .messages(team.generalChannelId)
        .filter((m) => cardOf(m.activity))
        .map(teamsText),
      ...app.slack
        .messages(alertsChannel)
        .filter((m) => !m.threadTs)
        .map((m) => blocksText(m.blocks)),
    ];
    expect(channelCards).toEqual([expect.stringMatching(/Resolved/), expect.stringMatching(/Resolved/)]);
    expect(channelCards.filter((text) => text.includes(NOTICE))).toEqual([]);
  });
});
