import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { AlertTarget } from "../../shared/domain/alert";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository } from "../../shared/storage/cards";
import { QUEUES } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { conversationKeyOf, listSubscriptions, setThreadLines, subscribe } from "../../shared/storage/subscriptions";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";
import { everyChangePosted } from "./settled";

// The conversation around the card (issue 15): who did what, said in each card's thread, with the person
// concerned mentioned; and a personal notice to whoever is assigned.
let stack: Stack;
let ana: TeamsUser;
let ben: TeamsUser;
let team: TeamsTeam;
let teamId: string;
let channel: string;
let slackAna: string;
let slackBen: string;
/** A channel whose subscription turned thread lines off (`subscribe … --no-thread`). */
let quiet: string;

const ISSUE = "threaded";

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "3" } });
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = stack.teams.addUser({ name: "Ben Ode", email: "ben@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ben] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  slackAna = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  slackBen = stack.slack.addUser(teamId, { name: "ben", realName: "Ben Ode", email: "ben@contoso.com" }).id;
  quiet = stack.slack.addChannel(teamId, { name: "alerts-quiet" }).id;
  const quietKey = conversationKeyOf({ provider: "slack", teamId, channel: quiet });
  expect(await setThreadLines(stack.storage, { conversationKey: quietKey, project: "checkout" }, false)).toBe(false); // not subscribed yet
  await subscribe(stack.storage, {
    conversationKey: quietKey,
    project: "checkout",
    minLevel: "info",
    target: { provider: "slack", teamId, channel: quiet },
  });
  expect(await setThreadLines(stack.storage, { conversationKey: quietKey, project: "checkout" }, false)).toBe(true);
  expect((await listSubscriptions(stack.storage, quietKey)).map((s) => s.thread)).toEqual([false]);
  // Adding the bot to the team links its members by their Teams email.
  await waitFor(async () => ((await new IdentityRepository(stack.storage).people("msteams", stack.teams.tenantId)).length === 2 ? true : undefined), {
    timeoutMs: 30_000,
  });
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({
      alertId: "threaded-1",
      issue: { id: ISSUE },
      targets: [
        { provider: "msteams", conversationId: team.generalChannelId },
        { provider: "slack", teamId, channel },
        { provider: "slack", teamId, channel: quiet },
      ],
    }),
  );
  await waitFor(() => (teamsCard() && slackCard() && stack.slack.messages(quiet).length > 0 ? true : undefined), {
    timeoutMs: 30_000,
    description: "the cards posted",
  });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const teamsCard = () =>
  stack.teams.messages(team.generalChannelId).find((m) => m.threadId === undefined && cardText(cardOf(m.activity)).includes("TypeError"));
const slackCard = () =>
  stack.slack.messages(channel).find((m) => !m.ephemeral && !m.threadTs && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
/** The replies under the card in the Teams channel, oldest first. */
const teamsReplies = () => stack.teams.messages(team.generalChannelId).filter((m) => m.threadId === teamsCard()!.activityId);
const slackReplies = () => stack.slack.messages(channel).filter((m) => m.threadTs === slackCard()!.ts);
const teamsReplyText = (m: { activity: Record<string, unknown> }) => String(m.activity.text ?? "");
const api = (body: Record<string, unknown>) =>
  fetch(`${stack.api}/issues/${ISSUE}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** Both threads got a reply matching `pattern`; returns them. */
async function linesMatching(pattern: RegExp, description: string) {
  return waitFor(
    () => {
      const teams = teamsReplies().find((m) => pattern.test(teamsReplyText(m)));
      const slack = slackReplies().find((m) => pattern.test(m.text));
      return teams && slack ? { teams, slack } : undefined;
    },
    { timeoutMs: 40_000, description },
  );
}

/** Every change announced and the card-refresh queue empty: whatever the app was going to post is posted. */
const settled = () => everyChangePosted(stack, ISSUE);

describe("thread lines", () => {
  it("a click in Slack: a line in the Slack thread and a reply under the Teams channel card, naming the clicker", async () => {
    const card = slackCard()!;
    const payload = stack.slack.blockActions({ teamId, user: slackAna, channel, messageTs: card.ts, actions: [click(card.blocks, "Resolve")] });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);

    const { teams, slack } = await linesMatching(/Resolved by Ana Lima/, "the Resolve line in both threads");
    expect(slack.text).toBe("Resolved by Ana Lima · via Slack");
    expect(slack.replyBroadcast).toBeUndefined();
    expect(teamsReplyText(teams)).toBe("Resolved by Ana Lima · via Slack");
    // Addressed as a reply to the card's message: the channel's conversation id with `;messageid=`.
    const post = stack.teams.calls.find((c) => c.operation === "send" && JSON.stringify(c.body).includes("Resolved by Ana Lima"))!;
    expect(post.conversationId).toBe(`${team.generalChannelId};messageid=${teamsCard()!.activityId}`);
  });

  it("a redelivered refresh posts no second line", async () => {
    await settled();
    const issue = (await new IssueRepository(stack.storage).get(ISSUE))!.issue;
    const again: CardRefreshMessage = { issueId: ISSUE, version: issue.version, requestedAt: new Date().toISOString() };
    await sendBase64Json(stack.azurite.connectionString, QUEUES.cardRefresh, again);
    await sendBase64Json(stack.azurite.connectionString, QUEUES.cardRefresh, again);
    await settled();
    // A change after them: its line comes once they have run.
    expect((await api({ action: "unresolve", actor: "ana@contoso.com" })).status).toBe(200);
    await linesMatching(/Unresolved by Ana Lima · via the API/, "the Unresolve line");
    await settled();
    expect(teamsReplies().map(teamsReplyText)).toEqual(["Resolved by Ana Lima · via Slack", "Unresolved by Ana Lima · via the API"]);
    expect(slackReplies().map((m) => m.text)).toEqual(["Resolved by Ana Lima · via Slack", "Unresolved by Ana Lima · via the API"]);
    // Where the subscription turned thread lines off, the card changed and its thread stayed quiet.
    expect(blocksText(stack.slack.messages(quiet)[0]!.blocks)).toMatch(/Unresolved by ana@contoso.com/);
    expect(stack.slack.messages(quiet).filter((m) => m.threadTs)).toEqual([]);
  }, 90_000);

  it("a burst of 30 changes: one line per thread, listing them", async () => {
    const before = { teams: teamsReplies().length, slack: slackReplies().length };
    for (let n = 0; n < 30; n++) {
      expect((await api({ action: n % 2 === 0 ? "resolve" : "unresolve", actor: "ana@contoso.com" })).status).toBe(200);
    }
    const { teams, slack } = await linesMatching(/^30 changes/, "the burst's line");
    expect(slack.text.split("\n").at(-1)).toBe("• Unresolved by Ana Lima · via the API");
    expect(teamsReplyText(teams).split("\n").at(-1)).toBe("- Unresolved by Ana Lima · via the API");
    await settled();
    expect(teamsReplies().length).toBe(before.teams + 1);
    expect(slackReplies().length).toBe(before.slack + 1);
  }, 120_000);
});

describe("lines wait like cards", () => {
  it("a line answered 429 (Teams and Slack) goes again after Retry-After, once", async () => {
    await settled();
    stack.teams.injectFault({ operation: "send", conversationId: team.generalChannelId, status: 429, retryAfterSec: 1, times: 2 });
    stack.slack.injectError({ method: "chat.postMessage", channel, error: "ratelimited", retryAfterSec: 1, times: 2 });
    expect((await api({ action: "ignore", actor: "ana@contoso.com", ignore: { mode: "forever" } })).status).toBe(200);
    await linesMatching(/^Ignored forever by Ana Lima · via the API$/, "the Ignore line, after the 429s");
    await settled();
    const throttled = stack.teams.calls.filter(
      (c) => c.status === 429 && c.conversationId === `${team.generalChannelId};messageid=${teamsCard()!.activityId}`,
    );
    expect(throttled).toHaveLength(2);
    expect(stack.slack.callsTo("chat.postMessage").filter((c) => !c.ok && c.params.thread_ts === slackCard()!.ts)).toHaveLength(2);
    expect(teamsReplies().filter((m) => teamsReplyText(m).startsWith("Ignored forever"))).toHaveLength(1);
    expect(slackReplies().filter((m) => m.text.startsWith("Ignored forever"))).toHaveLength(1);
  }, 90_000);
});

describe("mentions and assignment notices", () => {
  const personalTeams = () => stack.teams.messages(stack.teams.personalConversation(ben).id);
  const slackDirect = () => stack.slack.messages().filter((m) => m.channel.startsWith("D") && !m.ephemeral);

  it("assigning a person linked on both platforms: mentioned in both threads, and a personal notice with the live card on both", async () => {
    // Ana picks Ben in the Slack card's user menu: Ben becomes a person by his Slack email, linked on the way.
    const card = slackCard()!;
    const payload = stack.slack.blockActions({
      teamId,
      user: slackAna,
      channel,
      messageTs: card.ts,
      actions: [{ action_id: "triage.assign-user", selected_user: slackBen }],
    });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);

    const { teams, slack } = await linesMatching(/^Assigned to/, "the Assign line in both threads");
    expect(slack.text).toBe(`Assigned to <@${slackBen}> by Ana Lima · via Slack`);
    expect(teamsReplyText(teams)).toBe("Assigned to <at>Ben Ode</at> by Ana Lima · via Slack");
    expect(teams.activity.entities).toEqual([
      { type: "mention", text: "<at>Ben Ode</at>", mentioned: { id: ben.id, name: "Ben Ode", aadObjectId: ben.aadObjectId } },
    ]);

    const teamsNotice = await waitFor(() => personalTeams().find((m) => teamsReplyText(m) === "Ana Lima assigned you CHECKOUT-12"), {
      timeoutMs: 30_000,
    });
    expect(cardText(cardOf(teamsNotice.activity))).toContain("Assigned to Ben Ode");
    const slackNotice = await waitFor(() => slackDirect().find((m) => m.text === "Ana Lima assigned you CHECKOUT-12"), { timeoutMs: 30_000 });
    expect(JSON.stringify(slackNotice.blocks)).toContain(`triage:${ISSUE}`);
    // Both are live copies from now on: the next refresh updates them with the others.
    const copies = await new CardRepository(stack.storage).list(ISSUE);
    expect(copies.map((copy) => copy.targetKey).sort()).toEqual(
      [
        `msteams:conv:${team.generalChannelId}`,
        "msteams:email:ben@contoso.com",
        `slack:${teamId}:${channel}`,
        `slack:${teamId}:${quiet}`,
        `slack:${teamId}:email:ben@contoso.com`,
      ].sort(),
    );
  }, 90_000);

  it("unassigning says so too, and the personal copies refresh with the others", async () => {
    expect((await api({ action: "unassign", actor: "ana@contoso.com" })).status).toBe(200);
    await waitFor(() => personalTeams().find((m) => teamsReplyText(m) === "Ana Lima unassigned you from CHECKOUT-12"), { timeoutMs: 30_000 });
    await waitFor(() => slackDirect().find((m) => m.text === "Ana Lima unassigned you from CHECKOUT-12"), { timeoutMs: 30_000 });
    await waitFor(
      () => {
        const teamsCopy = personalTeams().find((m) => cardOf(m.activity));
        const slackCopy = slackDirect().find((m) => m.blocks.length > 0);
        return teamsCopy &&
          !cardText(cardOf(teamsCopy.activity)).includes("Assigned to") &&
          slackCopy &&
          !JSON.stringify(slackCopy.blocks).includes("Assigned to")
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, description: "the personal copies no longer show Ben assigned" },
    );
    await linesMatching(/^Unassigned /, "the Unassign line");
    // Personal chats take no lines: the card's status line says it (and notices are the person's to turn off).
    expect(slackDirect().filter((m) => m.threadTs)).toEqual([]);
    expect(personalTeams().filter((m) => /^(Assigned|Unassigned) /.test(teamsReplyText(m)))).toEqual([]);
  }, 90_000);

  it("with notices turned off (`notify off`), being assigned sends no notice (the threads still say it)", async () => {
    await settled();
    const reply = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: slackBen, channel, command: "/triage", text: "notify off" }),
    );
    expect((reply.json as { text: string }).text).toMatch(/^Notices off/);
    const before = { teams: personalTeams().length, slack: slackDirect().length };
    expect((await api({ action: "assign", actor: "ana@contoso.com", assignee: "ben@contoso.com" })).status).toBe(200);
    // Notices go on the change's first refresh; the lines only once the issue settled, after it.
    await waitFor(() => (slackReplies().filter((m) => m.text.startsWith("Assigned to")).length === 2 ? true : undefined), { timeoutMs: 40_000 });
    await settled();
    expect(personalTeams().length).toBe(before.teams);
    expect(slackDirect().length).toBe(before.slack);
  }, 90_000);
});

describe("lines the alerts make", () => {
  /** The issue's cards at the top of the Slack channel, oldest first. */
  const slackCards = () =>
    stack.slack.messages(channel).filter((m) => !m.ephemeral && !m.threadTs && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
  const regress = async (alertId: string, count: number, targets: AlertTarget[]) => {
    await settled();
    expect((await api({ action: "resolve", actor: "ana@contoso.com" })).status).toBe(200);
    await settled();
    const lastSeen = new Date().toISOString();
    await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId, issue: { id: ISSUE, count, lastSeen }, targets }));
  };

  it("a regression of an error issue: a line in the thread of the card that was live; the channel hears it once, from the new card", async () => {
    const cardsBefore = slackCards().length;
    await regress("threaded-2", 1204, [
      { provider: "msteams", conversationId: team.generalChannelId },
      { provider: "slack", teamId, channel },
    ]);
    const { teams, slack } = await linesMatching(/^Regressed/, "the Regressed line");
    expect(slack.text).toBe("Regressed: fired again (events 1,204)");
    expect(teamsReplyText(teams)).toBe("Regressed: fired again (events 1,204)");
    await settled();
    // The regression posted a new card in the channel: the line stays in the old card's thread, not broadcast too.
    expect(slackCards()).toHaveLength(cardsBefore + 1);
    expect(slack.replyBroadcast).toBeFalsy();
  }, 90_000);

  it("a regression that posts no new card in the Slack channel: its line is also shown in the channel", async () => {
    const cardsBefore = slackCards().length;
    const live = slackCards().at(-1)!;
    await regress("threaded-3", 1300, [{ provider: "msteams", conversationId: team.generalChannelId }]);
    const line = await waitFor(
      () => stack.slack.messages(channel).find((m) => m.threadTs === live.ts && m.text === "Regressed: fired again (events 1,300)"),
      { timeoutMs: 40_000, description: "the Regressed line in the live Slack card's thread" },
    );
    expect(line.replyBroadcast).toBe(true);
    await settled();
    expect(slackCards()).toHaveLength(cardsBefore);
  }, 90_000);
});
