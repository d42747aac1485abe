// The dev chat page shows each card's thread as the clients do: under the card, "N replies" (Slack, Teams) or the
// thread's name and message count (Discord), opening to the replies in order, updated as they arrive; a Slack reply
// broadcast to the channel shows there too ("replied to a thread"). In a real browser against the whole stack.
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import type { Alert } from "../../shared/domain/alert";
import { IdentityRepository } from "../../shared/storage/identities";
import { anAlert } from "../fixtures/issues";
import { openChatPage, type ChatPageInBrowser } from "../support/chat-page-browser";
import { sendBase64Json } from "../support/queues";
import { chatPageOptions, installSlackWorkspace, startStack, type Stack } from "./stack";

/** Alert to card, and a change to its thread line, go through queues and wait for the issue to settle: seconds. */
const CARD_TIMEOUT = 40_000;

let stack: Stack;
let chat: ChatPageInBrowser;
let page: Page;
let team: TeamsTeam;
let slackTeam: string;
let slackAlerts: string;
let discordAlerts: string;

const eventually = <T>(fn: () => T | Promise<T>, timeout = CARD_TIMEOUT) => expect.poll(fn, { timeout, interval: 100 });

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));

  slackTeam = await installSlackWorkspace(stack, "Contoso");
  slackAlerts = stack.slack.addChannel(slackTeam, { name: "alerts" }).id;
  const slackAna = stack.slack.addUser(slackTeam, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;

  const discord = stack.discord!;
  const { guild, channels } = discord.addGuild("Checkout Guild", ["alerts"]);
  discordAlerts = channels[0]!.id;
  const discordAna = discord.addUser("ana", "Ana Lima");
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: guild.id,
    chatUserId: discordAna.id,
    person: { email: "ana@contoso.com", name: "Ana Lima" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });

  chat = await openChatPage({
    ...chatPageOptions(stack),
    discord,
    people: { slack: [{ teamId: slackTeam, name: "Contoso", users: { "Ana Lima": slackAna }, channels: { alerts: slackAlerts } }] },
    viewport: { width: 1280, height: 900 },
    consoleErrors: true,
  });
  page = chat.page;
  await page.goto(chat.url);
}, 120_000);

afterAll(async () => {
  await chat?.stop();
  await stack?.stop();
});

/** An error issue without a release, so every card offers a plain Resolve. `firing`: the issue fires again now. */
async function alert(id: string, title: string, targets: NonNullable<Alert["targets"]>, firing?: { alertId: string; count: number }): Promise<void> {
  const again = firing ? { count: firing.count, lastSeen: new Date().toISOString() } : {};
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: firing?.alertId ?? id, issue: { id, shortId: id.toUpperCase(), title, tags: {}, ...again }, targets }),
  );
}

const topLevel = () => page.locator("#messages > li");
const replies = (card: Locator) => card.getByRole("list", { name: /^Replies/ }).getByRole("listitem");

describe("a card's thread on the dev chat page", () => {
  // Ana is everyone in these conversations, so the page acts as her.
  it("Teams: Resolve puts '1 reply' under the card, opening to Resolved by Ana Lima; the next line arrives while it is open", async () => {
    await alert("teams-threaded", "TypeError: basket is undefined", [{ provider: "msteams", conversationId: team.generalChannelId }]);
    await chat.openConversation("Checkout", "General");
    const card = chat.message("TypeError: basket is undefined");
    await eventually(() => card.getByRole("button", { name: "Resolve", exact: true }).count()).toBe(1);
    await card.getByRole("button", { name: "Resolve", exact: true }).click();

    const thread = card.getByRole("button", { name: "1 reply", exact: true });
    await eventually(() => thread.count()).toBe(1);
    // The reply lives in the card's thread, not in the channel.
    expect(await topLevel().filter({ hasText: "via Teams" }).count()).toBe(0);
    expect(await replies(card).count()).toBe(0);
    await thread.click();
    expect(await replies(card).allTextContents()).toEqual([expect.stringContaining("Resolved by Ana Lima · via Teams")]);

    await eventually(() => card.getByRole("button", { name: "Unresolve" }).count()).toBe(1);
    await card.getByRole("button", { name: "Unresolve" }).click();
    await eventually(() => replies(card).allTextContents()).toEqual([
      expect.stringContaining("Resolved by Ana Lima · via Teams"),
      expect.stringContaining("Unresolved by Ana Lima · via Teams"),
    ]);
    expect(await card.getByRole("button", { name: "2 replies", exact: true }).getAttribute("aria-expanded")).toBe("true");
    await card.getByRole("button", { name: "2 replies", exact: true }).click();
    expect(await replies(card).count()).toBe(0);
  });

  it("Slack: Resolve puts '1 reply' under the card, opening to Resolved by Ana Lima; a broadcast regression shows in the thread and in the channel", async () => {
    await alert("slack-threaded", "RangeError: too many coupons", [{ provider: "slack", teamId: slackTeam, channel: slackAlerts }]);
    await chat.openConversation("Contoso", "alerts");
    const posted = chat.message("RangeError: too many coupons");
    await eventually(() => posted.getByRole("button", { name: "Resolve", exact: true }).count()).toBe(1);
    // By its ts: the broadcast reply below will show the card's title too.
    const card = topLevel().and(page.locator(`[data-id="${await posted.getAttribute("data-id")}"]`));
    await card.getByRole("button", { name: "Resolve", exact: true }).click();

    const thread = card.getByRole("button", { name: "1 reply", exact: true });
    await eventually(() => thread.count()).toBe(1);
    expect(await topLevel().filter({ hasText: "via Slack" }).count()).toBe(0);
    await thread.click();
    expect(await replies(card).allTextContents()).toEqual([expect.stringContaining("Resolved by Ana Lima · via Slack")]);

    // The issue fires again, reported to no conversation: no new card here, so the card's thread line of an error
    // issue's regression is also sent to the channel (reply_broadcast).
    await alert("slack-threaded", "RangeError: too many coupons", [], { alertId: "slack-threaded-2", count: 1204 });
    await eventually(() => replies(card).allTextContents()).toEqual([
      expect.stringContaining("Resolved by Ana Lima · via Slack"),
      expect.stringMatching(/Regressed: fired again \(events 1,204\)[\s\S]*Also sent to the channel/),
    ]);
    expect(await card.getByRole("button", { name: "2 replies", exact: true }).count()).toBe(1);
    const inChannel = topLevel().filter({ hasText: "Regressed: fired again" }).filter({ hasNotText: "2 replies" });
    await eventually(() => inChannel.count()).toBe(1);
    expect(await inChannel.textContent()).toMatch(/replied to a thread:[\s\S]*RangeError: too many coupons/);
  });

  it("Discord: Resolve starts a thread under the message, its name and '1 Message', opening to Resolved by Ana Lima", async () => {
    await alert("discord-threaded", "SyntaxError: Unexpected token", [{ provider: "discord", channelId: discordAlerts }]);
    await chat.openConversation("Checkout Guild", "alerts");
    const card = chat.message("SyntaxError: Unexpected token");
    await eventually(() => card.getByRole("button", { name: "Resolve", exact: true }).count()).toBe(1);
    await card.getByRole("button", { name: "Resolve", exact: true }).click();

    const thread = card.getByRole("button", { name: /^DISCORD-THREADED: SyntaxError: Unexpected token.*1 Message/ });
    await eventually(() => thread.count()).toBe(1);
    // Closed, the box shows the thread's newest message, as Discord does; the thread's messages are not in the channel.
    expect(await card.textContent()).toContain("Resolved by Ana Lima · via Discord");
    expect(await replies(card).count()).toBe(0);
    expect(await topLevel().filter({ hasText: "via Discord" }).filter({ hasNotText: "SyntaxError: Unexpected token" }).count()).toBe(0);
    await thread.click();
    expect(await replies(card).allTextContents()).toEqual([expect.stringContaining("Resolved by Ana Lima · via Discord")]);

    await eventually(() => card.getByRole("button", { name: "Unresolve" }).count()).toBe(1);
    await card.getByRole("button", { name: "Unresolve" }).click();
    await eventually(() => replies(card).allTextContents()).toEqual([
      expect.stringContaining("Resolved by Ana Lima · via Discord"),
      expect.stringContaining("Unresolved by Ana Lima · via Discord"),
    ]);
    expect(await card.getByRole("button", { name: /2 Messages/ }).count()).toBe(1);
  });

  it("logged no errors in the browser", () => {
    expect(chat.pageErrors).toEqual([]);
  });
});
