import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { IdentityRepository } from "../../shared/storage/identities";
import { ActivityRepository, IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { signInAs, TestBrowser } from "../support/browser";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

/** The link's URL in a Slack ephemeral prompt (its "Link your account" button). */
function linkFromSlackReply(body: unknown): string {
  const match = /http:\/\/127\.0\.0\.1:\d+\/api\/link\?token=[^"\s)]+/.exec(JSON.stringify(body));
  if (!match) throw new Error(`no link in ${JSON.stringify(body).slice(0, 500)}`);
  return match[0];
}

/** Follows a link page through the dev provider's sign-in and confirms, as a person in a browser would. */
async function followLinkAndSignIn(url: string, email: string) {
  const browser = new TestBrowser();
  const login = await browser.get(url);
  const confirm = await signInAs(browser, login, email);
  expect(confirm.text).toMatch(/nothing is linked until you confirm/);
  return browser.submitForm(confirm);
}

describe("with auto-link on (the default)", () => {
  let stack: Stack;
  let teamId: string;
  let channel: string;
  let ben: string;
  let ana: string;

  beforeAll(async () => {
    stack = await startStack();
    teamId = await installSlackWorkspace(stack, "Contoso");
    channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
    ben = stack.slack.addUser(teamId, { name: "ben", realName: "Ben Okafor" }).id; // no email in Slack
    ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@triage.dev" }).id;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "id-1", issue: { id: "id-issue" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    await waitFor(() => stack.slack.messages(channel)[0], { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const card = () => stack.slack.messages(channel).find((m) => !m.ephemeral)!;
  async function clickAs(user: string, label: string) {
    const before = stack.slack.responses.length;
    const payload = stack.slack.blockActions({ teamId, user, channel, messageTs: card().ts, actions: [click(card().blocks, label)] });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
    // A click from someone not linked yet is finished off the 3-second path: wait for its answer.
    await waitFor(() => (stack.slack.responses.length > before ? true : undefined), { timeoutMs: 30_000 });
    return stack.slack.responses.slice(before).map((r) => r.body as { response_type?: string; text?: string; replace_original?: boolean });
  }

  it("an unlinked Slack user clicks Resolve: a private link prompt, the issue unchanged; after signing in as ben@ the same click resolves it as ben@", async () => {
    const replies = await clickAs(ben, "Resolve");
    const prompt = replies.find((r) => r.response_type === "ephemeral")!;
    expect(prompt.text).toMatch(/link your Slack account/i);
    expect((await new IssueRepository(stack.storage).get("id-issue"))!.issue.status).toBe("unresolved");

    const page = await followLinkAndSignIn(linkFromSlackReply(prompt), "ben@triage.dev");
    expect(page.status).toBe(200);
    expect(page.text).toContain("You&#39;re linked as ben@triage.dev");
    expect(stack.slack.responses.map((r) => JSON.stringify(r.body)).join()).toContain("You're linked as ben@triage.dev");
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, ben)).toMatchObject({
      how: "explicit",
      person: { email: "ben@triage.dev" },
    });

    await clickAs(ben, "Resolve");
    expect((await new IssueRepository(stack.storage).get("id-issue"))!.issue.status).toBe("resolved");
    // The history line is written once the clicker has the answer.
    await waitFor(
      async () =>
        expect((await new ActivityRepository(stack.storage).list("id-issue"))[0]).toMatchObject({
          action: "resolve",
          actor: "ben@triage.dev",
          surface: "slack",
        }) ?? true,
    );
  });

  it("a Slack user with a verified email acts without ever seeing a prompt", async () => {
    const replies = await clickAs(ana, "Unresolve");
    expect(replies.filter((r) => r.response_type === "ephemeral")).toEqual([]);
    await waitFor(
      async () =>
        expect((await new ActivityRepository(stack.storage).list("id-issue"))[0]).toMatchObject({ action: "unresolve", actor: "ana@triage.dev" }) ??
        true,
    );
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, ana)).toMatchObject({ how: "auto" });
  });

  it("unlink, then click: the prompt again", async () => {
    const reply = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "unlink" }),
    );
    expect((reply.json as { text: string }).text).toMatch(/You're unlinked \(you were ana@triage.dev\)/);
    const replies = await clickAs(ana, "Resolve");
    expect(replies.find((r) => r.response_type === "ephemeral")?.text).toMatch(/link your Slack account/i);
    expect((await new IssueRepository(stack.storage).get("id-issue"))!.issue.status).toBe("unresolved");
  });

  it("a Teams member with an email acts without a prompt (linked by the Bot Connector's profile)", async () => {
    const cleo = stack.teams.addUser({ name: "Cleo Diaz", email: "cleo@triage.dev" });
    const team = stack.teams.addTeam({ name: "Ops", members: [cleo] });
    await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: cleo }));
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "id-teams", issue: { id: "id-teams-issue" }, targets: [{ provider: "msteams", conversationId: team.generalChannelId }] }),
    );
    const posted = await waitFor(() => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("TypeError")), {
      timeoutMs: 30_000,
    });
    const resolve = action(cardOf(posted.activity), "Resolve");
    const response = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: cleo,
        replyToId: posted.activityId,
        verb: resolve.verb!,
        data: resolve.data,
      }),
    );
    expect(cardText((response.body as { value: unknown }).value)).toMatch(/Resolved by Cleo Diaz/);
    expect(stack.teams.calls.filter((c) => c.operation === "createConversation")).toEqual([]);
  });
});

describe("with IDENTITY_AUTO_LINK=false", () => {
  let stack: Stack;
  let ana: TeamsUser;
  let team: TeamsTeam;

  beforeAll(async () => {
    stack = await startStack({ env: { IDENTITY_AUTO_LINK: "false" } });
    ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
    team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
    await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "t-1", issue: { id: "t-issue" }, targets: [{ provider: "msteams", conversationId: team.generalChannelId }] }),
    );
    await waitFor(() => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("TypeError")), {
      timeoutMs: 30_000,
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const posted = () => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("TypeError"))!;
  const clickResolve = () => {
    const resolve = action(cardOf(posted().activity), "Resolve");
    return stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: ana,
        replyToId: posted().activityId,
        verb: resolve.verb!,
        data: resolve.data,
      }),
    );
  };

  it("Teams: a member with an email gets the 1:1 link prompt; after signing in as ben@ the same click resolves as ben@", async () => {
    const first = await clickResolve();
    expect(cardText((first.body as { value: unknown }).value)).toMatch(/Nothing was changed: link your account first/);
    expect((await new IssueRepository(stack.storage).get("t-issue"))!.issue.status).toBe("unresolved");

    const personal = stack.teams.personalConversation(ana);
    const prompt = stack.teams.messages(personal.id).find((m) => cardText(cardOf(m.activity)).includes("Link your account"))!;
    const openUrl = (cardOf(prompt.activity) as { actions: { type: string; url: string }[] }).actions.find((a) => a.type === "Action.OpenUrl")!.url;

    const page = await followLinkAndSignIn(openUrl, "ben@triage.dev");
    expect(page.status).toBe(200);
    expect(page.text).toContain("ben@triage.dev");
    expect(
      stack.teams
        .messages(personal.id)
        .map((m) => m.activity.text)
        .join(),
    ).toContain("You're linked as ben@triage.dev");

    const second = await clickResolve();
    expect(cardText((second.body as { value: unknown }).value)).toMatch(/Resolved by/);
    await waitFor(
      async () =>
        expect((await new ActivityRepository(stack.storage).list("t-issue"))[0]).toMatchObject({
          action: "resolve",
          actor: "ben@triage.dev",
          surface: "teams",
        }) ?? true,
    );
  });

  it("Slack: a user with a verified email gets the prompt too", async () => {
    const teamId = await installSlackWorkspace(stack, "NoAuto");
    const channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
    const dana = stack.slack.addUser(teamId, { name: "dana", email: "dana@triage.dev" }).id;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "s-1", issue: { id: "s-issue" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    const message = await waitFor(() => stack.slack.messages(channel)[0], { timeoutMs: 30_000 });
    const before = stack.slack.responses.length;
    const payload = stack.slack.blockActions({ teamId, user: dana, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
    await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload);
    expect(
      stack.slack.responses
        .slice(before)
        .map((r) => (r.body as { text?: string }).text)
        .join(),
    ).toMatch(/link your Slack account/i);
    expect((await new IssueRepository(stack.storage).get("s-issue"))!.issue.status).toBe("unresolved");
  });
});
