// The dev chat page's Discord conversations in a real browser against the whole stack: the card's embed and
// components drawn, clicks sent through the Discord emulator signed as Discord sends them, the message updated
// in place; ephemeral answers only for whoever clicked; /triage typed in the message box.
import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatPage, type ChatPage } from "../../dev/chat-page";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { registerDiscordCommands } from "../../shared/discord/register-commands";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";
import { startStack, type Stack } from "./stack";

/** Alert to card goes through queues: seconds, more on a busy machine. */
const CARD_TIMEOUT = 30_000;

let stack: Stack;
let discord: DiscordEmulator;
let chat: ChatPage;
let browser: Browser;
let page: Page;
let guildId: string;
let channelId: string;
const pageErrors: string[] = [];

const eventually = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`The chat page test drives Chromium at ${CHROMIUM}, which is missing: install it (apt-get install chromium).`);
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
  // As npm start seeds it: a guild with #alerts, two people, /triage registered.
  const seeded = discord.addGuild("Checkout", ["alerts"]);
  guildId = seeded.guild.id;
  channelId = seeded.channels[0]!.id;
  const ana = discord.addUser("ana", "Ana Lima");
  discord.addUser("ben", "Ben Okafor");
  await registerDiscordCommands({ applicationId: discord.applicationId, botToken: discord.botToken, apiUrl: discord.apiUrl });
  // Ana linked her account already (the /triage link sign-in is tested in discord.test.ts); Ben has not.
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: guildId,
    chatUserId: ana.id,
    person: { email: "ana@contoso.com", name: "Ana Lima" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  chat = await startChatPage({
    teams: stack.teams,
    slack: stack.slack,
    discord,
    appUrl: stack.host.url,
    storageConnectionString: stack.azurite.connectionString,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await chat?.stop();
  await stack?.stop();
});

const messages = () => page.locator("#messages > li");
const message = (text: string | RegExp): Locator => messages().filter({ hasText: text }).last();

async function actAs(name: string): Promise<void> {
  await page.getByLabel("Acting as").selectOption({ label: name });
}

describe("the dev chat page: Discord", () => {
  it("lists the guild's #alerts under its own heading", async () => {
    await page.goto(chat.url);
    const nav = page.getByRole("navigation", { name: "Conversations" });
    await eventually(() => nav.getByRole("heading").allTextContents()).toContain("Discord · Checkout");
    await nav.locator("section", { hasText: "Discord · Checkout" }).getByRole("link", { name: "alerts" }).click();
    await eventually(() => page.locator("#conversation-title").textContent()).toBe("#alerts");
  });

  it("sends a test alert: the card's embed and buttons are drawn; Resolve as Ana: the message shows Resolved by Ana Lima", async () => {
    await actAs("Ana Lima");
    await page.getByRole("button", { name: "Send test alert" }).click();
    await eventually(() => page.locator("#status").textContent()).toMatch(/Queued a test alert/);
    const card = message("TypeError: cart is undefined");
    await eventually(() => card.getByRole("button", { name: "Resolve", exact: true }).count(), CARD_TIMEOUT).toBe(1);
    expect(await card.locator(".dc-embed .dc-title a").getAttribute("href")).toBe("https://example.com/issues/demo");
    expect(await card.locator("select.dc-select").count()).toBeGreaterThan(0);

    await card.getByRole("button", { name: "Resolve", exact: true }).click();

    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Resolved by Ana Lima");
    await eventually(() => card.getByRole("button", { name: "Unresolve" }).count()).toBe(1);
    expect(await card.locator(".edited").count()).toBe(1);
    await page.screenshot({ path: "/tmp/chat-page-discord.png" });
    const messageId = (await card.getAttribute("data-id"))!;
    const stored = discord.message(channelId, messageId)!;
    expect(JSON.stringify(stored.embeds)).toContain("Resolved by Ana Lima");
    const issueId = /~(demo-[0-9a-f]+)/.exec(JSON.stringify(stored.components))![1]!;
    expect((await new IssueRepository(stack.storage).get(issueId))?.issue.status).toBe("resolved");
  });

  it("Ben, not linked, clicks Unresolve: a link prompt only he sees, the card unchanged", async () => {
    await actAs("Ben Okafor");
    const card = message("TypeError: cart is undefined");
    const before = await card.textContent();
    await card.getByRole("button", { name: "Unresolve" }).click();
    const prompt = message(/link your Discord account/);
    await eventually(() => prompt.count()).toBe(1);
    expect(await prompt.locator(".only-you-label").count()).toBe(1);
    expect(await card.textContent()).toBe(before);

    await actAs("Ana Lima");
    await eventually(() => message(/link your Discord account/).count()).toBe(0);
  });

  it("/triage status typed in the message box: Ana's answer, only for her", async () => {
    await page.locator("#say").fill("status");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    const answer = message(/You're linked as ana@contoso\.com/);
    await eventually(() => answer.count()).toBe(1);
    expect(await answer.locator(".only-you-label").count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
