// Every Teams call of the bot counts against one budget per tenant (notes/teams.md §7: "All bot API calls share one
// policy… 50 RPS per app per tenant"), not only its card posts and updates. During an alert storm, whose card posts
// already use the app's share of that budget, a burst of people clicking cards (their member reads, the clicked cards'
// updates, the private notices and the 1:1 chats opened for them) must not push the tenant past it: no card post, and no
// other call, is answered 429. The clicks are still answered in time, and every clicked card ends up showing its change.
// Through the local host, with the Teams emulator enforcing Teams' published limits, the tenant's included.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsUser } from "../../dev/emulators/teams";
import { TEAMS_ANSWER_WITHIN_MS } from "../../shared/inbound/teams/card-actions";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { startStack, type Stack } from "./stack";
import { sendStorm, stormCards as stormCardsIn, stormTeam } from "./teams-storm";

/** Conversations the storm's cards go to: their share of the budget is more than the tenant's, so the tenant's is what paces them. */
const STORM_CHANNELS = 10;
const STORM_ISSUES = 30;
/** Cards people click, each clicked by two of them at once (the second finds it done and is told so privately). */
const CLICKED_ISSUES = 12;

let stack: Stack;
let messagesUrl: string;
let stormChannels: string[];
let clickChannels: string[];
let clickers: TeamsUser[];

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  stormChannels = await stormTeam(stack, ana, STORM_CHANNELS);

  // The people who click: never seen by the bot, so each click first reads who they are from Teams.
  clickers = Array.from({ length: 2 * CLICKED_ISSUES }, (_, n) => stack.teams.addUser({ name: `Clicker ${n}`, email: `clicker${n}@contoso.com` }));
  const desk = stack.teams.addTeam({ name: "Desk", members: clickers });
  expect(
    (await stack.teams.post(messagesUrl, stack.teams.installationUpdate({ action: "add", conversation: desk.generalChannelId, from: clickers[0]! })))
      .status,
  ).toBe(200);
  const second = stack.teams.addChannel(desk, "desk-2");
  expect((await stack.teams.post(messagesUrl, stack.teams.channelCreated({ channel: second, from: clickers[0]! }))).status).toBe(200);
  clickChannels = [desk.generalChannelId, second.id];
  for (let n = 0; n < CLICKED_ISSUES; n++) {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: `desk-${n}`,
        issue: { id: `desk-${n}`, title: `TypeError in desk ${n}` },
        targets: [{ provider: "msteams", conversationId: clickChannels[n % 2]! }],
      }),
    );
  }
  await waitFor(() => clickedCards().length === CLICKED_ISSUES || undefined, { timeoutMs: 60_000, description: "the cards people will click" });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const clickedCards = () =>
  clickChannels.flatMap((channel) =>
    stack.teams.messages(channel).flatMap((m) => {
      const issue = /TypeError in desk (\d+)/.exec(cardText(cardOf(m.activity)))?.[1];
      return issue === undefined ? [] : [{ issue: Number(issue), channel, message: m }];
    }),
  );

const stormCards = () => stormCardsIn(stack, stormChannels);

describe("a burst of card clicks during an alert storm's card posts", () => {
  it("draws no 429 from Teams: the clicks' calls count against the tenant's budget the posts are paced on", async () => {
    stack.teams.clearCalls();
    stack.teams.enforceRateLimits(true);

    await sendStorm(stack, stormChannels, STORM_ISSUES);
    // The posts are under way at the pace the tenant's budget allows.
    await waitFor(() => stormCards().length >= 40 || undefined, { timeoutMs: 60_000, intervalMs: 100, description: "the storm's first cards" });

    const answers = await Promise.all(
      clickedCards().flatMap(({ issue, channel, message }) => {
        const resolve = action(cardOf(message.activity), "Resolve");
        return [clickers[2 * issue]!, clickers[2 * issue + 1]!].map(async (clicker) => {
          const started = Date.now();
          // Half the cards are clicked through Action.Execute, half through its Action.Submit fallback (Teams mobile).
          const activity =
            issue % 2 === 0
              ? stack.teams.invokeAction({
                  conversation: channel,
                  from: clicker,
                  replyToId: message.activityId,
                  verb: resolve.verb!,
                  data: resolve.data,
                })
              : stack.teams.message({
                  conversation: channel,
                  from: clicker,
                  value: resolve.fallbackData,
                  replyToId: message.activityId,
                  mentionBot: false,
                });
          const answer = await stack.teams.post(messagesUrl, activity);
          return { status: answer.status, ms: Date.now() - started };
        });
      }),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    // Answered in time (Teams gives up at 10–15 s).
    expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(TEAMS_ANSWER_WITHIN_MS + 2000);

    // Every storm card posted once, every clicked issue resolved, every clicked card showing it.
    await waitFor(() => stormCards().length >= STORM_ISSUES * STORM_CHANNELS || undefined, {
      timeoutMs: 90_000,
      intervalMs: 500,
      description: "every storm card",
    });
    expect(new Set(stormCards()).size).toBe(STORM_ISSUES * STORM_CHANNELS);
    expect(stormCards()).toHaveLength(STORM_ISSUES * STORM_CHANNELS);
    for (let n = 0; n < CLICKED_ISSUES; n++) expect((await new IssueRepository(stack.storage).get(`desk-${n}`))!.issue.status).toBe("resolved");
    await waitFor(
      () => {
        const stale = clickedCards().filter(({ message }) => !/Resolved by Clicker/.test(cardText(cardOf(message.activity))));
        if (stale.length === 0) return true;
        throw new Error(`${stale.length} clicked card(s) not showing the change`);
      },
      { timeoutMs: 60_000, intervalMs: 500, description: "every clicked card to show its change" },
    );

    // The clicks' calls were made during the posts: member reads, the clicked cards' updates, the private notices.
    const during = stack.teams.calls;
    expect(during.filter((c) => c.operation === "getMember").length).toBeGreaterThanOrEqual(2 * CLICKED_ISSUES);
    const throttled = during.filter((c) => c.status === 429).map((c) => `${c.operation} ${c.conversationId ?? ""}`);
    expect(throttled).toEqual([]);
  }, 240_000);
});
