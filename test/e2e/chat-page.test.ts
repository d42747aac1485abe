// The dev chat page in a real browser against the whole stack: cards drawn by the adaptivecards renderer,
// clicks that reach the app through the emulators as a chosen person, Block Kit, slash commands, test alerts.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { cardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { openChatPage, type ChatPageInBrowser } from "../support/chat-page-browser";
import { chatPageOptions, installSlackWorkspace, startStack, type Stack } from "./stack";

const SCREENSHOTS = { teams: "/tmp/chat-page-teams.png", slack: "/tmp/chat-page-slack.png" };
/** Alert to card, and a change to every copy, go through queues: seconds, more on a busy machine. */
const CARD_TIMEOUT = 30_000;

let stack: Stack;
let chat: ChatPageInBrowser;
let page: Page;
let team: TeamsTeam;
let slackTeam: string;
let slackAlerts: string;
let slackUsers: Record<string, string>;

/** The page polls every second: give it a few. */
const eventually = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  const ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ben] });
  slackTeam = await installSlackWorkspace(stack, "Contoso");
  slackAlerts = stack.slack.addChannel(slackTeam, { name: "alerts" }).id;
  slackUsers = {
    "Ana Lima": stack.slack.addUser(slackTeam, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id,
    "Ben Okafor": stack.slack.addUser(slackTeam, { name: "ben", realName: "Ben Okafor", email: "ben@contoso.com" }).id,
    // Without an email the app can't tell who this is: a click gets a private "link your account" answer.
    "Cleo (no email)": stack.slack.addUser(slackTeam, { name: "cleo", realName: "Cleo" }).id,
  };
  chat = await openChatPage({
    ...chatPageOptions(stack),
    people: { slack: [{ teamId: slackTeam, name: "Contoso", users: slackUsers, channels: { alerts: slackAlerts } }] },
    viewport: { width: 1280, height: 900 },
    consoleErrors: true,
  });
  page = chat.page;
});

afterAll(async () => {
  await chat?.stop();
  await stack?.stop();
});

const pwned = () => page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);

async function actAs(name: string): Promise<void> {
  await page.getByLabel("Acting as").selectOption({ label: name });
}

async function say(text: string): Promise<void> {
  await page.locator("#say").fill(text);
  await page.getByRole("button", { name: "Send", exact: true }).click();
}

describe("the dev chat page", () => {
  it("lists the team's channel, everyone's 1:1 chat with the bot and the Slack channel", async () => {
    await page.goto(chat.url);
    const nav = page.getByRole("navigation", { name: "Conversations" });
    await eventually(() => nav.getByRole("link").allTextContents()).toEqual(["#General", "●Ana Lima", "●Ben Okafor", "#alerts"]);
    expect(await nav.getByRole("heading").allTextContents()).toEqual(["Teams · Checkout", "Teams · Chats", "Slack · Contoso"]);
  });

  it("adds the app to the team as Ana: the welcome card is drawn", async () => {
    await chat.openConversation("Checkout", "General");
    await actAs("Ana Lima");
    await page.getByRole("button", { name: "Add Triage Relay here" }).click();
    await eventually(() => chat.message("Triage Relay is ready").locator(".ac-adaptiveCard").count()).toBe(1);
    expect(await chat.message("Triage Relay is ready").textContent()).toContain(team.generalChannelId);
  });

  it("sends a test alert; its card is drawn by adaptivecards; Resolve as Ana says Resolved by Ana Lima", async () => {
    await page.getByRole("button", { name: "Send test alert" }).click();
    await eventually(() => page.locator("#status").textContent()).toMatch(/Queued a test alert/);
    const card = chat.message("TypeError: cart is undefined");
    await eventually(() => card.getByRole("button", { name: "Resolve", exact: true }).count(), CARD_TIMEOUT).toBe(1);
    expect(await card.locator(".ac-adaptiveCard a", { hasText: "TypeError: cart is undefined" }).getAttribute("href")).toBe(
      "https://example.com/issues/demo",
    );

    await card.getByRole("button", { name: "Resolve", exact: true }).click();
    await eventually(() => card.textContent()).toContain("Resolved by Ana Lima");
    await eventually(() => card.getByRole("button", { name: "Unresolve" }).count()).toBe(1);
    await page.screenshot({ path: SCREENSHOTS.teams });
    // Then the stored message itself changes (everyone's copy), and the page shows it instead of the answer card.
    await eventually(() => card.locator(".edited").count(), CARD_TIMEOUT).toBe(1);
    expect(await card.textContent()).toContain("Resolved by Ana Lima");
    const activityId = await card.getAttribute("data-id");
    const stored = stack.teams.messages(team.generalChannelId).find((m) => m.activityId === activityId);
    expect(cardText(cardOf(stored!.activity))).toContain("Resolved by Ana Lima");
  });

  it("as the mobile client, Unresolve goes through the Action.Submit fallback", async () => {
    await page.getByLabel("Teams client").selectOption("mobile");
    await actAs("Ben Okafor");
    const card = chat.message("TypeError: cart is undefined");
    const submitted = page.waitForRequest((request) => request.url().endsWith("/api/teams/submit"));
    await card.getByRole("button", { name: "Unresolve" }).click();
    expect((await submitted).postDataJSON()).toMatchObject({
      as: expect.stringMatching(/^29:/),
      data: { payload: { action: { type: "unresolve" } } },
    });
    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Unresolved by Ben Okafor");
    await page.getByLabel("Teams client").selectOption("desktop");
  });

  it("opens the Ignore ▸ menu (Action.ShowCard) and ignores from it", async () => {
    const card = chat.message("TypeError: cart is undefined");
    await card.getByRole("button", { name: "Ignore ▸" }).click();
    await card.getByRole("button", { name: "For 30 minutes" }).click();
    await eventually(() => card.textContent(), CARD_TIMEOUT).toMatch(/Ignored[^·]* by Ben Okafor/);
  });

  it("@mentions the bot in the channel: what was typed and the answer", async () => {
    await say("help");
    await eventually(() => chat.message("@Triage Relay help").count()).toBe(1);
    const answer = chat.message("Mention me with");
    await eventually(() => answer.count(), CARD_TIMEOUT).toBe(1);
    expect(await answer.locator("strong", { hasText: "subscribe PROJECT [LEVEL]" }).count()).toBe(1);
  });

  it("shows alert text as text: no markup, no script, no javascript: link", async () => {
    const title = `<img src=x onerror="window.__pwned=1"> **[click](javascript:window.__pwned=2)**`;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "hostile", issue: { id: "hostile", title }, targets: [{ provider: "msteams", conversationId: team.generalChannelId }] }),
    );
    const card = chat.message('<img src=x onerror="window.__pwned=1">');
    await eventually(() => card.count(), CARD_TIMEOUT).toBe(1);
    expect(await card.textContent()).toContain("**[click](javascript:window.__pwned=2)**");
    expect(await page.locator("#messages img").count()).toBe(0);
    expect(await page.locator('#messages a[href^="javascript"]').count()).toBe(0);
    expect(await pwned()).toBeUndefined();
  });

  it("Slack: a test alert's message; Resolve as Ana changes the message", async () => {
    await chat.openConversation("Contoso", "alerts");
    await actAs("Ana Lima");
    await page.getByRole("button", { name: "Send test alert" }).click();
    const card = chat.message(/Error: payment provider timed out/);
    await eventually(() => card.getByRole("button", { name: "Resolve", exact: true }).count(), CARD_TIMEOUT).toBe(1);
    expect(await card.getByRole("combobox").count()).toBeGreaterThan(0);

    await card.getByRole("button", { name: "Resolve", exact: true }).click();
    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Resolved by Ana Lima");
    expect(await card.textContent()).toContain("Edited");
    const stored = stack.slack.messages(slackAlerts).find((m) => !m.ephemeral && blocksText(m.blocks).includes("payment provider"));
    expect(blocksText(stored?.blocks)).toContain("Resolved by Ana Lima");
  });

  it("Slack: the Assign menu is Slack's user menu; picking Ben (who never clicked) assigns him", async () => {
    const card = chat.message(/payment provider/);
    const menu = card.getByRole("combobox", { name: "Assign…" });
    expect(await menu.locator("option").allTextContents()).toEqual(expect.arrayContaining(["Ana Lima", "Ben Okafor", "Cleo (no email)"]));
    await menu.selectOption({ label: "Ben Okafor" });
    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Assigned to Ben Okafor");
    const stored = stack.slack.messages(slackAlerts).find((m) => !m.ephemeral && blocksText(m.blocks).includes("payment provider"));
    expect(blocksText(stored?.blocks)).toContain("Assigned to Ben Okafor");
  });

  it("Slack: an ephemeral from the app is shown only to the person it is for", async () => {
    await actAs("Cleo (no email)");
    await chat
      .message(/payment provider/)
      .getByRole("button", { name: "Unresolve" })
      .click();
    const prompt = chat.message("link your Slack account");
    await eventually(() => prompt.count(), CARD_TIMEOUT).toBe(1);
    expect(await prompt.textContent()).toContain("Only visible to you");
    await actAs("Ana Lima");
    await eventually(() => chat.message("link your Slack account").count()).toBe(0);
  });

  it("Slack: /triage help answers only the person who typed it", async () => {
    await say("help");
    const answer = chat.message("Reply to /triage help");
    await eventually(() => answer.count()).toBe(1);
    expect(await answer.textContent()).toMatch(/Only visible to you[\s\S]*posts alert cards/);
    await page.screenshot({ path: SCREENSHOTS.slack });
    await actAs("Ben Okafor");
    await eventually(() => chat.message("Reply to /triage help").count()).toBe(0);
    await actAs("Ana Lima");
  });

  it("Slack: /triage link's button opens the sign-in page of the OIDC dev provider", async () => {
    await say("link");
    const answer = chat.message("Reply to /triage link");
    await eventually(() => answer.count()).toBe(1);
    const popup = page.context().waitForEvent("page");
    await answer.getByRole("button", { name: /Link your account/ }).click();
    const signIn = await popup;
    await eventually(() => signIn.url()).toMatch(new RegExp(`^${stack.oidc.issuer}/interaction/`));
    expect(await signIn.getByRole("button", { name: /Ana Lima/ }).count()).toBe(1);
    await signIn.close();
  });

  it("Slack: mrkdwn from anyone shows as text, with only web links", async () => {
    const text = `*bold* <javascript:window.__pwned=3|js link> &lt;img src=x onerror="window.__pwned=4"&gt; <https://example.com/a?b=1&amp;c=2|safe link>`;
    stack.slack.addMessage(slackAlerts, { user: slackUsers["Ben Okafor"]!, text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] });
    const posted = chat.message("safe link");
    await eventually(() => posted.count()).toBe(1);
    expect(await posted.locator(".author").textContent()).toBe("Ben Okafor");
    expect(await posted.locator("strong").textContent()).toBe("bold");
    expect(await posted.getByRole("link").evaluateAll((links) => links.map((a) => [a.textContent, a.getAttribute("href")]))).toEqual([
      ["safe link", "https://example.com/a?b=1&c=2"],
    ]);
    expect(await posted.textContent()).toContain('<img src=x onerror="window.__pwned=4">');
    expect(await page.locator("#messages img").count()).toBe(0);
    expect(await pwned()).toBeUndefined();
  });

  it("logged no errors in the browser", () => {
    expect(chat.pageErrors).toEqual([]);
  });
});
