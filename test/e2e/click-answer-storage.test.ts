import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { QUEUES } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { messageCount, sendBase64Json } from "../support/queues";
import type { StorageRequest } from "../support/storage-proxy";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// What a person clicking a card waits for is the storage round trips made before their answer: each is a
// network hop in Azure, and under a burst of clicks each is a queue behind the others. The answer needs the
// issue read and the change written; history lines, issue-events, the card refresh and the clicked copy's
// bookkeeping come after it. Counted through a proxy in front of Azurite, with the caches a burst of clicks
// relies on (who is linked, the Assign menu, the workspace) warm from a first click.
const MOST_BEFORE_ANSWER = 2;

let stack: Stack;
let ana: TeamsUser;
let team: TeamsTeam;
let slackTeam: string;
let slackChannel: string;
let slackAna: string;

beforeAll(async () => {
  stack = await startStack({ countStorage: true, env: { CARD_REFRESH_COALESCE_SECONDS: "0" } });
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  slackTeam = await installSlackWorkspace(stack, "Contoso");
  slackChannel = stack.slack.addChannel(slackTeam, { name: "alerts" }).id;
  slackAna = stack.slack.addUser(slackTeam, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  await new IdentityRepository(stack.storage).link({
    provider: "slack",
    scope: slackTeam,
    chatUserId: slackAna,
    person: { email: "ana@contoso.com", name: "Ana Lima" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  for (const id of ["teams-warm", "teams-measured"]) {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: `${id}-1`, issue: { id, title: id }, targets: [{ provider: "msteams", conversationId: team.generalChannelId }] }),
    );
  }
  for (const id of ["slack-warm", "slack-measured"]) {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: `${id}-1`, issue: { id, title: id }, targets: [{ provider: "slack", teamId: slackTeam, channel: slackChannel }] }),
    );
  }
  await waitFor(() => teamsCard("teams-warm") && teamsCard("teams-measured") && slackCard("slack-warm") && slackCard("slack-measured"), {
    timeoutMs: 30_000,
    description: "every card posted",
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const teamsCard = (issueId: string) => stack.teams.messages(team.generalChannelId).find((m) => JSON.stringify(m.activity).includes(`"${issueId}"`));
const slackCard = (issueId: string) =>
  stack.slack.messages(slackChannel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`"triage:${issueId}"`));

/** Storage requests that are the app's own work (a trigger's polling of its queues is not). */
const work = (r: StorageRequest) => r.service === "table" || (r.service === "queue" && r.method === "POST");
const described = (requests: StorageRequest[]) => requests.map((r) => `${r.method} ${r.resource}`).join(", ");

/** Nothing left in flight: the issue's changes announced, the app's queues empty, no storage work for a while. */
async function quiet(issueId: string): Promise<void> {
  const proxy = stack.storageProxy!;
  await waitFor(async () => (await new IssueRepository(stack.storage).get(issueId))?.outbox.every((entry) => entry.announced), {
    timeoutMs: 30_000,
    description: `${issueId}'s changes announced`,
  });
  await waitFor(
    async () => {
      // member-sync too: the team install in beforeAll links its roster through it, with table writes of its own.
      for (const queue of [QUEUES.alerts, QUEUES.deliveries, QUEUES.cardRefresh, QUEUES.slackActions, QUEUES.memberSync])
        if ((await messageCount(stack.azurite.connectionString, queue)) > 0) return undefined;
      const last = proxy.requests.filter(work).at(-1);
      return !last || Date.now() - last.at > 300 ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, description: "the app to be quiet" },
  );
}

async function teamsClick(issueId: string, title: string) {
  const posted = teamsCard(issueId)!;
  const button = action(cardOf(posted.activity), title);
  const activity = stack.teams.invokeAction({
    conversation: team.generalChannelId,
    from: ana,
    replyToId: posted.activityId,
    verb: button.verb!,
    data: button.data,
  });
  const token = await stack.teams.signChannelToken({ serviceUrl: stack.teams.serviceUrl });
  const mark = stack.storageProxy!.mark();
  const response = await stack.teams.post(`${stack.api}/messages`, activity, { token });
  const beforeAnswer = stack.storageProxy!.requests.slice(mark).filter(work);
  const body = response.body as { value?: unknown };
  return { text: cardText(body.value), beforeAnswer };
}

async function slackClick(issueId: string, label: string) {
  const message = slackCard(issueId)!;
  const payload = stack.slack.blockActions({
    teamId: slackTeam,
    user: slackAna,
    channel: slackChannel,
    messageTs: message.ts,
    actions: [click(message.blocks, label)],
  });
  const responsesBefore = stack.slack.responses.length;
  const mark = stack.storageProxy!.mark();
  const ack = await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload);
  const beforeAck = stack.storageProxy!.requests.slice(mark).filter(work);
  expect(ack.status).toBe(200);
  const answer = await waitFor(() => stack.slack.responses.slice(responsesBefore)[0], { timeoutMs: 30_000, description: "the click's answer" });
  const beforeAnswer = stack.storageProxy!.requests.slice(mark).filter((r) => work(r) && r.at <= answer.at);
  return { answer: answer.body as { replace_original?: boolean }, beforeAck, beforeAnswer };
}

describe("storage requests a clicker waits for", () => {
  it(`Teams: the Resolve clicked on a card is answered with the new card after at most ${MOST_BEFORE_ANSWER} storage requests; its announcements follow`, async () => {
    expect((await teamsClick("teams-warm", "Resolve")).text).toMatch(/Resolved by Ana Lima/); // links Ana, warms the caches
    await quiet("teams-warm");

    const events = stack.storageProxy!.mark();
    const clicked = await teamsClick("teams-measured", "Resolve");
    expect(clicked.text).toMatch(/Resolved by Ana Lima/);
    expect(clicked.beforeAnswer.length, described(clicked.beforeAnswer)).toBeLessThanOrEqual(MOST_BEFORE_ANSWER);

    // Announced all the same, once: the history line, the issue-event, the card refresh.
    await quiet("teams-measured");
    const after = stack.storageProxy!.requests.slice(events).filter(work);
    expect(after.filter((r) => r.resource === "activities" && r.method !== "GET")).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.issueEvents)).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.cardRefresh).length).toBeGreaterThanOrEqual(1);
  });

  it("Teams mobile (Action.Submit): the clicked card is updated for everyone after the conversation check and the change, and marked so the refresh leaves it alone", async () => {
    await quiet("teams-measured");
    const posted = teamsCard("teams-measured")!;
    const card = cardOf(stack.teams.messages(team.generalChannelId).find((m) => m.activityId === posted.activityId)!.activity);
    const unresolve = action(card, "Unresolve");
    stack.teams.clearCalls();
    const events = stack.storageProxy!.mark();
    const response = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.message({
        conversation: team.generalChannelId,
        from: ana,
        value: unresolve.fallbackData,
        replyToId: posted.activityId,
        mentionBot: false,
      }),
    );
    const beforeAnswer = stack.storageProxy!.requests.slice(events).filter(work);
    expect(response.status).toBe(200);
    expect(cardText(cardOf(stack.teams.messages(team.generalChannelId).find((m) => m.activityId === posted.activityId)!.activity))).toMatch(
      /Unresolved by Ana Lima/,
    );
    // The conversation remembered (a read), the issue read and written.
    expect(beforeAnswer.length, described(beforeAnswer)).toBeLessThanOrEqual(MOST_BEFORE_ANSWER + 1);

    await quiet("teams-measured");
    const after = stack.storageProxy!.requests.slice(events).filter(work);
    expect(after.filter((r) => r.resource === "activities" && r.method !== "GET")).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.issueEvents)).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.cardRefresh).length).toBeGreaterThanOrEqual(1);
    expect(stack.teams.calls.filter((c) => c.operation === "update" && c.activityId === posted.activityId)).toHaveLength(1);
  });

  it(`Slack: the Resolve clicked on a card is acknowledged and its message replaced after at most ${MOST_BEFORE_ANSWER} storage requests; its announcements follow`, async () => {
    expect((await slackClick("slack-warm", "Resolve")).answer.replace_original).toBe(true); // warms the caches
    await quiet("slack-warm");

    const events = stack.storageProxy!.mark();
    const clicked = await slackClick("slack-measured", "Resolve");
    expect(clicked.answer.replace_original).toBe(true);
    expect(blocksText(slackCard("slack-measured")!.blocks)).toMatch(/Resolved by Ana Lima/);
    expect(clicked.beforeAnswer.length, described(clicked.beforeAnswer)).toBeLessThanOrEqual(MOST_BEFORE_ANSWER);
    expect(clicked.beforeAck.length, described(clicked.beforeAck)).toBeLessThanOrEqual(MOST_BEFORE_ANSWER);

    await quiet("slack-measured");
    const after = stack.storageProxy!.requests.slice(events).filter(work);
    expect(after.filter((r) => r.resource === "activities" && r.method !== "GET")).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.issueEvents)).toHaveLength(1);
    expect(after.filter((r) => r.resource === QUEUES.cardRefresh).length).toBeGreaterThanOrEqual(1);
    // The clicked copy was marked rendered: the refresh spent no chat.update on it.
    expect(stack.slack.callsTo("chat.update").filter((c) => c.ok && c.params.ts === slackCard("slack-measured")!.ts)).toEqual([]);
  });
});
