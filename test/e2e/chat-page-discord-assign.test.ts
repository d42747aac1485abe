// The dev chat page draws what the app's Discord card sends, in a real browser against the whole stack: the
// Assign user select as a menu of the server's members (the assignee chosen), a pick sent through the Discord
// emulator as Discord sends it; titles, descriptions and fields through Discord markdown (escapes gone, inline
// code fenced by several backticks shown as typed).
import { existsSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatPage, type ChatPage } from "../../dev/chat-page";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { IdentityRepository } from "../../shared/storage/identities";
import { anAlert } from "../fixtures/issues";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";
import { sendBase64Json } from "../support/queues";
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
let ben: DiscordUser;
const pageErrors: string[] = [];

const eventually = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`The chat page test drives Chromium at ${CHROMIUM}, which is missing: install it (apt-get install chromium).`);
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
  const seeded = discord.addGuild("Checkout", ["alerts"]);
  guildId = seeded.guild.id;
  channelId = seeded.channels[0]!.id;
  const ana = discord.addUser("ana", "Ana Lima");
  ben = discord.addUser("ben", "Ben Okafor");
  discord.addBot("deploybot", "Deploy Bot");
  const identities = new IdentityRepository(stack.storage);
  for (const [user, email] of [
    [ana, "ana@contoso.com"],
    [ben, "ben@contoso.com"],
  ] as const) {
    await identities.link({
      provider: "discord",
      scope: guildId,
      chatUserId: user.id,
      person: { email, name: user.globalName },
      how: "explicit",
      linkedAt: new Date().toISOString(),
    });
  }
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

/** The page's own markdown module, run in the page: what `text` becomes, as HTML. */
const rendered = (format: "teamsMarkdown" | "discordMarkdown", text: string): Promise<string> =>
  page.evaluate(
    `import("/app/markdown.js").then((md) => { const box = document.createElement("div"); box.append(md.${format}(${JSON.stringify(text)})); return box.innerHTML; })`,
  );

const card = (): Locator => page.locator("#messages > li").filter({ hasText: "is not iterable" }).last();
const assignMenu = (): Locator => card().getByRole("combobox", { name: "Assign…" });

describe("the dev chat page draws the Discord card's user select and markdown", () => {
  it("an alert whose title has *args* and whose culprit has backticks: both shown as the producer wrote them", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "chat-page-discord-assign",
        issue: { id: "demo-args", title: "TypeError: *args* is not iterable", culprit: "`cart` in render" },
        targets: [{ provider: "discord", channelId }],
      }),
    );
    await page.goto(chat.url);
    const nav = page.getByRole("navigation", { name: "Conversations" });
    await nav.locator("section", { hasText: "Discord · Checkout" }).getByRole("link", { name: "alerts" }).click();
    await page.getByLabel("Acting as").selectOption({ label: "Ana Lima" });

    await eventually(() => card().count(), CARD_TIMEOUT).toBe(1);
    expect(await card().locator(".dc-title").textContent()).toBe("ERROR: TypeError: *args* is not iterable");
    expect(await card().locator(".dc-description code").allTextContents()).toEqual(["`cart` in render"]);
    expect(await card().textContent()).not.toContain("\\");
  });

  it("the Assign menu lists the server's members; picking Ben assigns him, and the menu then shows him chosen", async () => {
    expect(await card().textContent()).not.toContain("doesn't draw");
    const options = await assignMenu().locator("option:not([disabled])").allTextContents();
    expect(options).toEqual(["Ana Lima", "Ben Okafor", "Deploy Bot (app)"]);
    expect(await card().getByRole("button", { name: "Assign to me" }).count()).toBe(1);

    await assignMenu().selectOption({ label: "Ben Okafor" });

    const assignee = card().locator(".dc-field", { has: page.locator(".dc-field-name", { hasText: /^Assignee$/ }) });
    await eventually(() => assignee.textContent(), CARD_TIMEOUT).toBe("AssigneeBen Okafor");
    await eventually(() => assignMenu().locator("option:checked").textContent()).toBe("Ben Okafor");
    expect(await assignMenu().inputValue()).toBe(ben.id);
    expect(await card().getByRole("button", { name: "Unassign" }).count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });

  it("a pick of a user the emulator doesn't know is refused 400 by the page, with a reason", async () => {
    const messageId = (await card().getAttribute("data-id"))!;
    const response = await fetch(`${chat.url}/api/discord/click`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        key: `discord:${channelId}`,
        as: ben.id,
        messageId,
        customId: "assign-user~demo-args",
        values: ["99999999999999999"],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error?: string }).error).toMatch(/No Discord user 99999999999999999/);
  });

  it("code spans as CommonMark fences them, Discord's escapes and emphasis, and text kept as text", async () => {
    // CommonMark strips one space only when both ends have one; Discord strips the one beside a backtick.
    expect(await rendered("teamsMarkdown", "`` ` ``, `` a``, `a``b`")).toBe("<code>`</code>, <code> a</code>, <code>a``b</code>");
    expect(await rendered("discordMarkdown", "``a `b` c``")).toBe("<code>a `b` c</code>");
    expect(await rendered("discordMarkdown", "`` `b` ``")).toBe("<code>`b`</code>");
    expect(await rendered("discordMarkdown", "`a``b` and ``a`")).toBe("<code>a``b</code> and ``a`");
    expect(await rendered("discordMarkdown", "\\*args\\* \\_x\\_ 1\\. \\# \\> **b** *i* __u__ ~~s~~")).toBe(
      "*args* _x_ 1. # &gt; <strong>b</strong> <em>i</em> <u>u</u> <s>s</s>",
    );
    expect(await rendered("discordMarkdown", "<img src=x onerror=alert(1)> `<b>`")).toBe("&lt;img src=x onerror=alert(1)&gt; <code>&lt;b&gt;</code>");
  });
});
