// Waiting is not failing (issue 11, item 2): a fan-out under the platforms' limits (enforced by the emulators)
// with extra throttling forced on top — a share of every kind of call answered 429 with Retry-After, and one
// long streak of 429s on one Slack channel's posts and one Teams channel's updates. Every issue × conversation
// must end with exactly one card showing the issue's final state, and nothing may be dead: being throttled,
// however long, is never a reason to give a delivery or a card copy up.
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
/**
 * 429s in a row on one target: spread over its 10 issues, still more per delivery or copy than the failure budget
 * has attempts (MAX_DELIVERY_ATTEMPTS = 8): throttling that used attempts would end in dead.
 */
const STREAK = 100;

let stack: Stack;
let teamsChannels: string[];
let slackChannels: string[];

beforeAll(async () => {
  stack = await startStack({ slackRateLimits: true });
  stack.teams.enforceRateLimits(true);
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  const team = stack.teams.addTeam({ name: "Throttled", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  teamsChannels = [team.generalChannelId, stack.teams.addChannel(team, "alerts-1").id, stack.teams.addChannel(team, "alerts-2").id];
  for (const conversation of teamsChannels) {
    const answer = await stack.teams.post(`${stack.api}/messages`, stack.teams.message({ conversation, from: ana, text: `subscribe ${PROJECT} info` }));
    expect(answer.status).toBe(200);
  }
  const teamId = await installSlackWorkspace(stack, "Throttled");
  const slackAna = stack.slack.addUser(teamId, { name: "ana", email: "ana@contoso.com" }).id;
  slackChannels = [0, 1, 2].map((n) => stack.slack.addChannel(teamId, { name: `throttled-${n}` }).id);
  for (const channel of slackChannels) {
    const command = stack.slack.slashCommand({ teamId, user: slackAna, channel, command: "/triage", text: `subscribe ${PROJECT} info` });
    expect((await stack.slack.sendCommand(`${stack.api}/slack/commands`, command)).status).toBe(200);
  }
}, 60_000);
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
    // ...and long streaks: more 429s in a row than the failure budget has attempts. Armed first, so they are served first.
    stack.slack.injectError({ method: "chat.postMessage", channel: slackChannels[0], error: "ratelimited", retryAfterSec: 1, times: STREAK });
    stack.slack.injectError({ method: "chat.update", channel: slackChannels[1], error: "ratelimited", retryAfterSec: 1, times: STREAK });
    stack.teams.injectFault({ operation: "update", conversationId: teamsChannels[1], status: 429, retryAfterSec: 1, times: STREAK });

    const alerts = Array.from({ length: ISSUES * ALERTS_PER_ISSUE }, (_, n) => {
      const issue = n % ISSUES;
      const count = Math.floor(n / ISSUES) + 1;
      return anAlert({
        alertId: `${PROJECT}-${n}`,
        issue: { id: `${PROJECT}-${issue}`, project: PROJECT, title: `TypeError in throttled ${issue}`, count, lastSeen: new Date(Date.UTC(2026, 11, 1, 12, 0, count)).toISOString() },
      });
    });
    const queue = queueClient(stack.azurite.connectionString, "alerts");
    await queue.createIfNotExists();
    for (let i = 0; i < alerts.length; i += 50) {
      await Promise.all(alerts.slice(i, i + 50).map((alert) => queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"))));
    }

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
        if (now.length >= pairs && now.every((card) => card.final)) return true;
        throw new Error(`${now.filter((card) => card.final).length} of ${pairs} final, ${now.length} posted`);
      },
      { timeoutMs: 150_000, intervalMs: 1000, description: "every card to be final" },
    );

    // The throttling really happened: the streaks and the shared faults were served.
    expect(stack.slack.calls.filter((c) => c.error === "ratelimited").length).toBeGreaterThan(2 * STREAK);
    expect(stack.teams.calls.filter((c) => c.status === 429).length).toBeGreaterThan(STREAK);
    // Exactly one card per issue × conversation.
    const perPair = new Map<string, number>();
    for (const card of cards()) perPair.set(card.pair, (perPair.get(card.pair) ?? 0) + 1);
    expect(perPair.size).toBe(pairs);
    expect([...perPair.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    // Nothing dead: no delivery, no card copy.
    const dead: string[] = [];
    for await (const row of (await stack.storage.table(TABLES.deliveries)).listEntities<{ state: string; reason?: string }>()) {
      if (row.partitionKey?.startsWith(`${PROJECT}-`) && row.state === "dead") dead.push(`delivery ${row.partitionKey}: ${row.reason}`);
    }
    for await (const row of (await stack.storage.table(TABLES.cards)).listEntities<{ dead?: string }>()) {
      if (row.partitionKey?.startsWith(`${PROJECT}-`) && row.dead) dead.push(`copy ${row.partitionKey}: ${row.dead}`);
    }
    expect(dead).toEqual([]);
  }, 200_000);
});
