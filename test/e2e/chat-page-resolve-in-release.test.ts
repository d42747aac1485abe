// The dev chat page in a real browser: Teams' Resolve ▸ show-card and Slack's Resolve menu, as a person uses them.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { openChatPage, type ChatPageInBrowser } from "../support/chat-page-browser";
import { chatPageOptions, installSlackWorkspace, startStack, type Stack } from "./stack";

const CARD_TIMEOUT = 30_000;

let stack: Stack;
let chat: ChatPageInBrowser;
let page: Page;
let team: TeamsTeam;
let slackTeam: string;
let slackAlerts: string;

const eventually = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout, interval: 100 });

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  slackTeam = await installSlackWorkspace(stack, "Contoso");
  slackAlerts = stack.slack.addChannel(slackTeam, { name: "alerts" }).id;
  const slackAna = stack.slack.addUser(slackTeam, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  chat = await openChatPage({
    ...chatPageOptions(stack),
    people: { slack: [{ teamId: slackTeam, name: "Contoso", users: { "Ana Lima": slackAna }, channels: { alerts: slackAlerts } }] },
    viewport: { width: 1280, height: 900 },
  });
  page = chat.page;
});

afterAll(async () => {
  await chat?.stop();
  await stack?.stop();
});

// Ana is everyone in these conversations, so the page acts as her.
describe("Resolve in a release on the dev chat page", () => {
  it("Teams: Resolve ▸ opens the three choices; In the next release resolves it so", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "page-release-1",
        issue: { id: "page-release-1", title: "TypeError: basket is undefined" },
        targets: [{ provider: "msteams", conversationId: team.generalChannelId }],
      }),
    );
    await page.goto(chat.url);
    await chat.openConversation("Checkout", "General");
    const card = chat.message("TypeError: basket is undefined");
    await eventually(() => card.getByRole("button", { name: "Resolve ▸" }).count(), CARD_TIMEOUT).toBe(1);
    await card.getByRole("button", { name: "Resolve ▸" }).click();
    expect(await card.getByRole("button", { name: /^(Resolve|In the current release|In the next release)$/ }).allTextContents()).toEqual([
      "Resolve",
      "In the current release",
      "In the next release",
    ]);
    await card.getByRole("button", { name: "In the next release" }).click();
    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Resolved in the next release (after 1.2.3) by Ana Lima");
  });

  it("Slack: the Resolve menu's In the current release resolves it so", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "page-release-2",
        issue: { id: "page-release-2", title: "RangeError: too many coupons" },
        targets: [{ provider: "slack", teamId: slackTeam, channel: slackAlerts }],
      }),
    );
    await chat.openConversation("Contoso", "alerts");
    const card = chat.message("RangeError: too many coupons");
    const menu = card.getByRole("combobox", { name: "Resolve…" });
    await eventually(() => menu.count(), CARD_TIMEOUT).toBe(1);
    expect(await menu.locator("option:not([disabled])").allTextContents()).toEqual(["Resolve", "In the current release", "In the next release"]);
    await menu.selectOption({ label: "In the current release" });
    await eventually(() => card.textContent(), CARD_TIMEOUT).toContain("Resolved in the current release (1.2.3) by Ana Lima");
    expect(chat.pageErrors).toEqual([]);
  });
});
