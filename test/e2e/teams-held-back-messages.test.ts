// A Teams message the app owes someone (a command's reply, a link prompt, a click's private notice) that its own
// pacing holds back, because an alert storm's card posts keep the tenant's budget spent for longer than the message
// may wait for a slot, is sent later, once a slot is free: never dropped. Through the local host, with the Teams
// emulator enforcing Teams' published limits (the tenant's included).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsUser } from "../../dev/emulators/teams";
import { TABLES } from "../../shared/storage/clients";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { alertCardInTeams, startStack, type Stack } from "./stack";
import { sendStorm, stormCards as stormCardsIn, stormTeam } from "./teams-storm";

/**
 * Other instances of the app sending to the same tenant (their heartbeats in the `instances` table): this one paces
 * at a fifth of the tenant's budget (9 calls per 1.2 s), so a modest storm keeps its share spent for half a minute,
 * longer than an owed message waits in process for a slot.
 */
const OTHER_INSTANCES = 4;
/** Conversations the storm's cards go to: together they could take more than the tenant's budget, so the tenant's paces them. */
const STORM_CHANNELS = 10;
const STORM_ISSUES = 20;
/** People who type `help` in a channel, and unlinked people who click a card (through Action.Execute, and its Action.Submit fallback). */
const ASKERS = 6;
const CLICKERS = 6;

let stack: Stack;
let messagesUrl: string;
let stormChannels: string[];
let desk: string;
let askers: TeamsUser[];
let executeClickers: TeamsUser[];
let submitClickers: TeamsUser[];
let card: { activityId: string; resolve: ReturnType<typeof action> };
let heartbeats: NodeJS.Timeout | undefined;

/** The other instances' heartbeats, as each writes its own every 15 s (shared/storage/instances.ts). */
async function otherInstancesBeat(): Promise<void> {
  const table = await stack.storage.table(TABLES.instances);
  for (let n = 0; n < OTHER_INSTANCES; n++) {
    await table.upsertEntity({ partitionKey: "pacing", rowKey: `other-instance-${n}`, seenAt: new Date().toISOString() }, "Replace");
  }
}

beforeAll(async () => {
  // Nobody is linked automatically: every clicker is someone the app must send a link to.
  stack = await startStack({ env: { IDENTITY_AUTO_LINK: "false" } });
  messagesUrl = `${stack.api}/messages`;
  await otherInstancesBeat();
  heartbeats = setInterval(() => void otherInstancesBeat().catch(() => undefined), 5_000);
  const people = (role: string, count: number) =>
    Array.from({ length: count }, (_, n) => stack.teams.addUser({ name: `${role} ${n}`, email: `${role.toLowerCase()}${n}@contoso.com` }));
  askers = people("Asker", ASKERS);
  executeClickers = people("Clicker", CLICKERS);
  submitClickers = people("Tapper", CLICKERS);
  const asker = askers[0]!;
  stormChannels = await stormTeam(stack, asker, STORM_CHANNELS);
  const deskTeam = stack.teams.addTeam({ name: "Desk", members: [...askers, ...executeClickers, ...submitClickers] });
  expect(
    (await stack.teams.post(messagesUrl, stack.teams.installationUpdate({ action: "add", conversation: deskTeam.generalChannelId, from: asker })))
      .status,
  ).toBe(200);
  desk = deskTeam.generalChannelId;
  const posted = await alertCardInTeams(stack, desk, { alertId: "desk-1", issueId: "desk-1" });
  card = { activityId: posted.activityId, resolve: action(cardOf(posted.activity), "Resolve") };
}, 120_000);
afterAll(async () => {
  clearInterval(heartbeats);
  await stack?.stop();
});

const texts = (conversationId: string) =>
  stack.teams
    .messages(conversationId)
    .map((m) => `${String(m.activity.text ?? "")} ${cardText(cardOf(m.activity))}`)
    .join("\n");

const stormCards = () => stormCardsIn(stack, stormChannels);

const count = (text: string, pattern: RegExp) => text.match(pattern)?.length ?? 0;

/** What the bot sent `user` in their 1:1 chat (none yet: empty). */
const privately = (user: TeamsUser) => {
  try {
    return texts(stack.teams.personalConversation(user).id);
  } catch {
    return "";
  }
};

describe("Teams messages held back by the app's pacing during an alert storm", () => {
  it("are sent once the storm leaves a slot: a typed help in a channel, an unlinked clicker's link prompt, a click's private notice", async () => {
    stack.teams.enforceRateLimits(true);
    await sendStorm(stack, stormChannels, STORM_ISSUES);
    // The posts are under way at the pace this instance's share of the tenant's budget allows, booked ahead.
    await waitFor(() => stormCards().length >= 10 || undefined, { timeoutMs: 60_000, intervalMs: 100, description: "the storm's first cards" });

    const [helps, executes, submits] = await Promise.all([
      Promise.all(askers.map((asker) => stack.teams.post(messagesUrl, stack.teams.message({ conversation: desk, from: asker, text: "help" })))),
      Promise.all(
        executeClickers.map((clicker) =>
          stack.teams.post(
            messagesUrl,
            stack.teams.invokeAction({
              conversation: desk,
              from: clicker,
              replyToId: card.activityId,
              verb: card.resolve.verb!,
              data: card.resolve.data,
            }),
          ),
        ),
      ),
      Promise.all(
        submitClickers.map((clicker) =>
          stack.teams.post(
            messagesUrl,
            stack.teams.message({
              conversation: desk,
              from: clicker,
              value: card.resolve.fallbackData,
              replyToId: card.activityId,
              mentionBot: false,
            }),
          ),
        ),
      ),
    ]);
    expect([...helps, ...executes, ...submits].map((answer) => answer.status)).toEqual([...helps, ...executes, ...submits].map(() => 200));
    // Each click is answered at once: the link was sent, or is on its way (it is, even when Teams can't take it yet).
    for (const answer of executes) {
      expect(cardText((answer.body as { value: unknown }).value)).toMatch(/I('ve sent|'m sending) you a link in your chat with Triage Relay/);
    }

    await waitFor(() => stormCards().length >= STORM_ISSUES * STORM_CHANNELS || undefined, {
      timeoutMs: 120_000,
      intervalMs: 500,
      description: "every storm card",
    });
    await waitFor(
      () => {
        const missing = [
          ...(count(texts(desk), /Mention me with/g) === ASKERS ? [] : ["a help reply in the channel"]),
          ...executeClickers.filter((c) => count(privately(c), /Link your account/g) === 0).map((c) => `${c.name}'s link prompt`),
          ...submitClickers.filter((c) => count(privately(c), /Link your account/g) === 0).map((c) => `${c.name}'s link prompt`),
          ...submitClickers
            .filter((c) => count(privately(c), /Nothing was changed: link your account first/g) === 0)
            .map((c) => `${c.name}'s notice`),
        ];
        if (missing.length === 0) return true;
        throw new Error(`not sent: ${missing.join(", ")}`);
      },
      { timeoutMs: 90_000, intervalMs: 500, description: "every held-back message" },
    );
    // Held back, not sent twice.
    expect(count(texts(desk), /Mention me with/g)).toBe(ASKERS);
    for (const clicker of [...executeClickers, ...submitClickers]) expect(count(privately(clicker), /Link your account/g)).toBe(1);
    expect(stack.teams.calls.filter((c) => c.status === 429)).toEqual([]);
    // The queued messages' text never reaches the logs.
    expect(stack.host.logs().filter((line) => /Mention me with|Nothing was changed/.test(line))).toEqual([]);
  }, 300_000);
});
