import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatPage, type ChatPage } from "../../dev/chat-page";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { discordMessageVersion, renderDiscordMessage } from "../../shared/cards/discord-message";
import { buildIssueView } from "../../shared/cards/view";
import { anIssue } from "../fixtures/issues";

// Edits of one Discord card can land out of order too (a refresh begun before a click's answer, finishing
// after it): the dev chat page keeps the newest render, by the version in the embed's footer, until the
// message catches up.
let discord: DiscordEmulator;
let slack: SlackEmulator;
let teams: TeamsEmulator;
let chat: ChatPage;
let channelId: string;

beforeAll(async () => {
  discord = await startDiscordEmulator({ bucketLimit: 100 });
  slack = await startSlackEmulator({ signingSecret: "s".repeat(32), enforceRateLimits: false });
  teams = await startTeamsEmulator({ appId: "11111111-1111-4111-8111-111111111111", tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
  channelId = discord.addGuild("Checkout", ["alerts"]).channels[0]!.id;
  chat = await startChatPage({ teams, slack, discord, appUrl: "http://127.0.0.1:9" });
});
afterAll(async () => {
  await chat?.stop();
  await Promise.all([discord?.stop(), slack?.stop(), teams?.stop()]);
});

const issueAt = (version: number) =>
  anIssue({
    id: "ordering",
    version,
    ...(version === 3 ? { status: "resolved" as const, statusChangedBy: "Ana Lima" } : { status: "unresolved" as const }),
  });
const render = (version: number) => renderDiscordMessage(buildIssueView(issueAt(version)));

async function rest(method: string, path: string, body: unknown): Promise<{ id: string }> {
  const response = await fetch(`${discord.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bot ${discord.botToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string };
}

async function timeline() {
  const response = await fetch(`${chat.url}/api/poll?c=${encodeURIComponent(`discord:${channelId}`)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { timeline: { id: string; version?: number; embeds?: unknown }[] }).timeline;
}

describe("the dev chat page's Discord conversations", () => {
  it("read the card's version from its footer", () => {
    expect(discordMessageVersion(render(7).embeds)).toBe(7);
    expect(discordMessageVersion([{ footer: { text: "someone else's bot" } }])).toBeUndefined();
  });

  it("an edit carrying an older version than the message showed keeps the newer render, until the message catches up", async () => {
    const posted = await rest("POST", `/channels/${channelId}/messages`, render(1));
    await rest("PATCH", `/channels/${channelId}/messages/${posted.id}`, render(3)); // the click's answer
    await rest("PATCH", `/channels/${channelId}/messages/${posted.id}`, render(2)); // an earlier refresh, late
    expect(JSON.stringify(discord.message(channelId, posted.id)!.embeds)).not.toContain("Resolved"); // the emulator, like Discord, holds the last write

    const [entry] = await timeline();
    expect(entry).toMatchObject({ id: posted.id, version: 3 });
    expect(JSON.stringify(entry!.embeds)).toContain("Resolved by Ana Lima");

    await rest("PATCH", `/channels/${channelId}/messages/${posted.id}`, render(4));
    expect((await timeline())[0]).toMatchObject({ version: 4 });
  });
});
