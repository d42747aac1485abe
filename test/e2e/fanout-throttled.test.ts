// Waiting is not failing (issue 11, item 2): a fan-out under the platforms' limits (enforced by the emulators)
// with extra throttling forced on top — a share of every kind of call answered 429 with Retry-After — and, beside
// it, one issue whose only conversations (a Teams channel, a Slack channel) answer its post and then its update
// with more 429s in a row than the failure budget has attempts. Every issue × conversation must end with exactly
// one card showing the issue's final state, and nothing may be dead: being throttled, however long, is never a
// reason to give a delivery or a card copy up.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLES } from "../../shared/storage/clients";
import { anAlert } from "../fixtures/issues";
import { queueClient } from "../support/queues";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

const ISSUES = 10;
const ALERTS_PER_ISSUE = 10;
const PROJECT = "throttled";
/** 429s in a row for one delivery, then one copy update: more than the failure budget's MAX_DELIVERY_ATTEMPTS (8). */
const STREAK = 9;
/** The project of the one issue whose conversations get the streaks. */
const LONELY = "lonely";

let stack: Stack;
let teamsChannels: string[];
let slackChannels: string[];
let lonelyTeams: string;
let lonelySlack: string;

beforeAll(async () => {
  stack = await startStack({ slackRateLimits: true });
  stack.teams.enforceRateLimits(true);
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  const team = stack.teams.addTeam({ name: "Throttled", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  teamsChannels = [team.generalChannelId, stack.teams.addChannel(team, "alerts-1").id, stack.teams.addChannel(team, "alerts-2").id];
  lonelyTeams = stack.teams.addChannel(team, "lonely").id;
  for (const [conversation, project] of [...teamsChannels.map((c) => [c, PROJECT]), [lonelyTeams, LONELY]]) {
    const answer = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.message({ conversation: conversation!, from: ana, text: `subscribe ${project} info` }),
    );
    expect(answer.status).toBe(200);
  }
  const teamId = await installSlackWorkspace(stack, "Throttled");
  const slackAna = stack.slack.addUser(teamId, { name: "ana", email: "ana@contoso.com" }).id;
  slackChannels = [0, 1, 2].map((n) => stack.slack.addChannel(teamId, { name: `throttled-${n}` }).id);
  lonelySlack = stack.slack.addChannel(teamId, { name: "lonely" }).id;
  for (const [channel, project] of [...slackChannels.map((c) => [c, PROJECT]), [lonelySlack, LONELY]]) {
    const command = stack.slack.slashCommand({ teamId, user: slackAna, channel: channel!, command: "/triage", text: `subscribe ${project} info` });
    expect((await stack.slack.sendCommand(`${stack.api}/slack/commands`, command)).status).toBe(200);
  }
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

describe("a throttled fan-out", () => {
  it(`${ISSUES * ALERTS_PER_ISSUE} alerts × ${ISSUES} issues × 6 conversations: one card per pair, every card final, nothing dead`, async () => {
    stack.teams.clearCalls();
    stack.slack.clearCalls();
    // A share of every call throttled, on top of the limits the emulators enforce...
    stack.teams.injectFault({ operation: "send", status: 429, retryAfterSec: 1, every: 4, times: Infinity });
    stack.teams.injectFault({ operation: "update", status: 429, retryAfterSec: 1, every: 4, times: Infinity });
    stack.slack.injectError({ method: "chat.postMessage", error: "ratelimited", retryAfterSec: 1, every: 4, times: Infinity });
    stack.slack.injectError({ method: "chat.update", error: "ratelimited", retryAfterSec: 1, every: 4, times: Infinity });
    // ...and the lonely issue's post answered by a streak of 429s in both of its conversations.
    stack.slack.injectError({ method: "chat.postMessage", channel: lonelySlack, error: "ratelimited", retryAfterSec: 1, times: STREAK });
    stack.teams.injectFault({ operation: "send", conversationId: lonelyTeams, status: 429, retryAfterSec: 1, times: STREAK });
    const lonelyAlert = (n: number) =>
      anAlert({
        alertId: `${LONELY}-${n}`,
        issue: {
          id: `${LONELY}-0`,
          project: LONELY,
          title: "TypeError in lonely",
          count: n,
          lastSeen: new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString(),
        },
      });

    const alerts = Array.from({ length: ISSUES * ALERTS_PER_ISSUE }, (_, n) => {
      const issue = n % ISSUES;
      const count = Math.floor(n / ISSUES) + 1;
      return anAlert({
        alertId: `${PROJECT}-${n}`,
        issue: {
          id: `${PROJECT}-${issue}`,
          project: PROJECT,
          title: `TypeError in throttled ${issue}`,
          count,
          lastSeen: new Date(Date.UTC(2026, 11, 1, 12, 0, count)).toISOString(),
        },
      });
    });
    const queue = queueClient(stack.azurite.connectionString, "alerts");
    await queue.createIfNotExists();
    const send = (alert: ReturnType<typeof anAlert>) => queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"));
    await send(lonelyAlert(1));
    for (let i = 0; i < alerts.length; i += 50) await Promise.all(alerts.slice(i, i + 50).map(send));

    // Once the lonely issue's cards are up, its next alert's update meets a streak of 429s too.
    const lonelyCards = () => [
      ...stack.teams
        .messages(lonelyTeams)
        .filter((m) => cardText(cardOf(m.activity)).includes("TypeError in lonely"))
        .map((m) => cardText(cardOf(m.activity))),
      ...stack.slack
        .messages(lonelySlack)
        .filter((m) => !m.ephemeral && m.text.includes("TypeError in lonely"))
        .map((m) => blocksText(m.blocks)),
    ];
    await waitFor(() => lonelyCards().length === 2, { timeoutMs: 120_000, intervalMs: 500, description: "the lonely issue's cards to be posted" });
    stack.slack.injectError({ method: "chat.update", channel: lonelySlack, error: "ratelimited", retryAfterSec: 1, times: STREAK });
    stack.teams.injectFault({ operation: "update", conversationId: lonelyTeams, status: 429, retryAfterSec: 1, times: STREAK });
    await send(lonelyAlert(2));

    const cards = () => [
      ...teamsChannels.flatMap((conversation) =>
        stack.teams.messages(conversation).flatMap((m) => {
          const text = cardText(cardOf(m.activity));
          const issue = /TypeError in throttled (\d+)/.exec(text)?.[1];
          return issue === undefined ? [] : [{ pair: `${issue}|${conversation}`, final: text.includes(`Events: ${ALERTS_PER_ISSUE}`) }];
        }),
      ),
      ...slackChannels.flatMap((channel) =>
        stack.slack.messages(channel).flatMap((m) => {
          const issue = m.ephemeral ? undefined : /TypeError in throttled (\d+)/.exec(m.text)?.[1];
          return issue === undefined ? [] : [{ pair: `${issue}|${channel}`, final: blocksText(m.blocks).includes(`*Events*\n${ALERTS_PER_ISSUE}`) }];
        }),
      ),
    ];
    const pairs = ISSUES * (teamsChannels.length + slackChannels.length);
    await waitFor(
      () => {
        const now = cards();
        const lonely = lonelyCards();
        const lonelyFinal = lonely.length === 2 && lonely[0]!.includes("Events: 2") && lonely[1]!.includes("*Events*\n2");
        if (now.length >= pairs && now.every((card) => card.final) && lonelyFinal) return true;
        throw new Error(
          `${now.filter((card) => card.final).length} of ${pairs} final, ${now.length} posted; lonely cards ${lonely.length}, final ${lonelyFinal}`,
        );
      },
      { timeoutMs: 120_000, intervalMs: 1000, description: "every card to be final" },
    );

    // The throttling really happened: the streaks and the shared faults were served.
    const throttled = (
      calls: readonly { status?: number; error?: string; conversationId?: string; params?: { channel?: unknown } }[],
      lonely: boolean,
    ) =>
      calls.filter(
        (c) => (c.status === 429 || c.error === "ratelimited") && (c.conversationId === lonelyTeams || c.params?.channel === lonelySlack) === lonely,
      ).length;
    expect(throttled(stack.teams.calls, true)).toBeGreaterThanOrEqual(2 * STREAK);
    expect(throttled(stack.slack.calls, true)).toBeGreaterThanOrEqual(2 * STREAK);
    // Every 4th call of each kind: Slack makes fewer calls than Teams (cards of a still-changing issue wait to settle).
    expect(throttled(stack.teams.calls, false)).toBeGreaterThan(10);
    expect(throttled(stack.slack.calls, false)).toBeGreaterThanOrEqual(5);
    // Exactly one card per issue × conversation.
    const perPair = new Map<string, number>();
    for (const card of cards()) perPair.set(card.pair, (perPair.get(card.pair) ?? 0) + 1);
    expect(perPair.size).toBe(pairs);
    expect([...perPair.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(lonelyCards()).toHaveLength(2);
    // Nothing dead: no delivery, no card copy.
    const dead: string[] = [];
    for await (const row of (await stack.storage.table(TABLES.deliveries)).listEntities<{ state: string; reason?: string }>()) {
      if (/^(throttled|lonely)-/.test(row.partitionKey ?? "") && row.state === "dead") dead.push(`delivery ${row.partitionKey}: ${row.reason}`);
    }
    for await (const row of (await stack.storage.table(TABLES.cards)).listEntities<{ dead?: string }>()) {
      if (/^(throttled|lonely)-/.test(row.partitionKey ?? "") && row.dead) dead.push(`copy ${row.partitionKey}: ${row.dead}`);
    }
    expect(dead).toEqual([]);
  }, 270_000);
});
