// Thread lines on Discord cards, through the local host and the Discord emulator: who did what is said in a thread
// started from the card's message (its id is the message's), one message per settled burst, in the same thread for
// every later change; waiting on a 429, never losing or doubling a line; an archived thread unarchived by the line;
// a thread a person started first (160004) used; a locked thread or a missing permission leaving the card alone;
// and nothing where the subscription said `thread: false`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { discordMessageVersion } from "../../shared/cards/discord-message";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";
import { everyChangePosted } from "./settled";

let stack: Stack;
let discord: DiscordEmulator;
let guildId: string;
let channelId: string;
/** A channel subscribed with `thread: false`. */
let quiet: string;
let ana: DiscordUser;
let ben: DiscordUser;

const ISSUE = "discord-threaded";

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "2" } });
  discord = stack.discord!;
  const { guild, channels } = discord.addGuild("Checkout", ["alerts", "alerts-quiet"]);
  guildId = guild.id;
  [channelId, quiet] = channels.map((channel) => channel.id) as [string, string];
  ana = await linkedUser("ana", "Ana Lima");
  ben = await linkedUser("ben", "Ben Ode");
  expect(await command(channelId, { project: "checkout", level: "info" })).toMatch(/checkout/);
  expect(await command(quiet, { project: "checkout", level: "info", thread: false })).toMatch(/checkout/);
  expect((await listSubscriptions(stack.storage, `discord:${quiet}`)).map((s) => s.thread)).toEqual([false]);
  await alert(ISSUE);
  await waitFor(() => cardOf(channelId, ISSUE) && cardOf(quiet, ISSUE), { timeoutMs: 30_000, description: "the cards in both channels" });
  await settled(ISSUE);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const url = () => `${stack.api}/discord/interactions`;

async function linkedUser(username: string, name: string): Promise<DiscordUser> {
  const user = discord.addUser(username, name);
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: guildId,
    chatUserId: user.id,
    person: { email: `${username}@contoso.com`, name },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  return user;
}

/** `/triage subscribe` in a channel, as Ana; returns the ephemeral answer. */
async function command(channel: string, options: Record<string, string | boolean>): Promise<string> {
  const answer = await discord.sendInteraction(url(), discord.slashCommand({ user: ana, channelId: channel, subcommand: "subscribe", options }));
  expect(answer.status).toBe(200);
  return String(answer.body?.data?.content);
}

/** An alert of the project both channels subscribe to: no targets, the subscriptions decide. */
async function alert(issueId: string): Promise<void> {
  await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId: `${issueId}-1`, issue: { id: issueId } }));
}

const cardOf = (channel: string, issueId: string) =>
  discord.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${issueId}`));
/** The lines in the card's thread (a thread started from a message has the message's id), oldest first. */
const linesOf = (channel: string, issueId: string): string[] => discord.messages(cardOf(channel, issueId)!.id).map((m) => m.content ?? "");
const threadStarts = (channel: string, messageId: string) =>
  discord.calls.filter((c) => c.method === "POST" && c.path === `/channels/${channel}/messages/${messageId}/threads`);
const postsIn = (threadId: string) => discord.calls.filter((c) => c.method === "POST" && c.path === `/channels/${threadId}/messages`);
const click = (user: DiscordUser, issueId: string, customId: string, values?: string[]) =>
  discord.sendInteraction(url(), discord.componentClick({ user, channelId, messageId: cardOf(channelId, issueId)!.id, customId, values }));
const api = (issueId: string, body: Record<string, unknown>) =>
  fetch(`${stack.api}/issues/${issueId}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** The card in `channel` shows the issue as stored now. */
async function cardShowsLatest(channel: string, issueId: string): Promise<boolean> {
  const version = (await new IssueRepository(stack.storage).get(issueId))!.issue.version;
  return discordMessageVersion(cardOf(channel, issueId)!.embeds as { footer?: { text?: string } }[]) === version;
}

/** Every change announced and the card-refresh queue empty: whatever the app was going to post is posted. */
const settled = (issueId: string) => everyChangePosted(stack, issueId);

async function lineMatching(channel: string, issueId: string, pattern: RegExp, description: string): Promise<string> {
  return waitFor(() => linesOf(channel, issueId).find((line) => pattern.test(line)), { timeoutMs: 40_000, description });
}

describe("thread lines on Discord cards", () => {
  it("two people click Resolve then Assign: a thread started from the card, with one line for the burst", async () => {
    expect((await click(ana, ISSUE, `resolve~${ISSUE}`)).body?.type).toBe(7);
    expect((await click(ben, ISSUE, `assign~${ISSUE}`, ["assign:me"])).body?.type).toBe(7);

    const card = cardOf(channelId, ISSUE)!;
    const line = await lineMatching(channelId, ISSUE, /^2 changes:/, "the burst's line in the card's thread");
    // Ben is linked in this server: shown as his Discord user, with no ping (allowed_mentions parses nothing).
    expect(line.split("\n")).toEqual(["2 changes:", "- Resolved by Ana Lima · via Discord", `- Assigned to <@${ben.id}> by Ben Ode · via Discord`]);
    expect(discord.thread(card.id)).toMatchObject({ parentId: channelId, name: "CHECKOUT-12: TypeError: cart is undefined", archived: false });
    expect(postsIn(card.id)[0]!.body).toMatchObject({ allowed_mentions: { parse: [] } });
    await settled(ISSUE);
    expect(linesOf(channelId, ISSUE)).toHaveLength(1);
    // The card itself shows the new state, as before.
    expect(JSON.stringify(card.embeds)).toMatch(/Resolved by Ana Lima/);
  }, 90_000);

  it("a later change: another line in the same thread (started once)", async () => {
    expect((await click(ana, ISSUE, `unresolve~${ISSUE}`)).body?.type).toBe(7);
    await lineMatching(channelId, ISSUE, /^Unresolved by Ana Lima · via Discord$/, "the Unresolve line");
    await settled(ISSUE);
    expect(linesOf(channelId, ISSUE)).toHaveLength(2);
    expect(threadStarts(channelId, cardOf(channelId, ISSUE)!.id).map((c) => c.status)).toEqual([201]);
  }, 90_000);

  it("a subscription with `thread: false`: its card changes, and no thread is started there", async () => {
    const quietCard = cardOf(quiet, ISSUE)!;
    expect(JSON.stringify(quietCard.embeds)).toMatch(/Unresolved by Ana Lima/);
    expect(discord.thread(quietCard.id)).toBeUndefined();
    expect(discord.calls.filter((c) => c.path.startsWith(`/channels/${quiet}/messages/`) && c.path.endsWith("/threads"))).toEqual([]);
  });

  it("a line answered 429 waits for retry_after and goes once", async () => {
    const threadId = cardOf(channelId, ISSUE)!.id;
    discord.throttleNext({ pathIncludes: `/channels/${threadId}/messages`, retryAfterSeconds: 2 });
    discord.throttleNext({ pathIncludes: `/channels/${threadId}/messages`, retryAfterSeconds: 2 });
    expect((await api(ISSUE, { action: "ignore", actor: "ana@contoso.com", ignore: { mode: "forever" } })).status).toBe(200);
    await lineMatching(channelId, ISSUE, /^Ignored forever by Ana Lima · via the API$/, "the Ignore line, after the 429s");
    await settled(ISSUE);
    expect(postsIn(threadId).filter((c) => c.status === 429)).toHaveLength(2);
    expect(linesOf(channelId, ISSUE).filter((line) => line.startsWith("Ignored forever"))).toHaveLength(1);
  }, 90_000);

  it("an answer lost after the line was posted: sent again, the line is there once", async () => {
    const threadId = cardOf(channelId, ISSUE)!.id;
    discord.failNext({ pathIncludes: `/channels/${threadId}/messages`, method: "POST", failure: "drop", afterApplying: true });
    expect((await api(ISSUE, { action: "unignore", actor: "ana@contoso.com" })).status).toBe(200);
    await lineMatching(channelId, ISSUE, /^Unignored by Ana Lima · via the API$/, "the Unignore line");
    await settled(ISSUE);
    expect(postsIn(threadId).filter((c) => c.status === 0)).toHaveLength(1);
    expect(linesOf(channelId, ISSUE).filter((line) => line.startsWith("Unignored"))).toHaveLength(1);
  }, 90_000);

  it("an answer lost, then another change before the retry: the first line is there once, the new change in a line of its own", async () => {
    await settled(ISSUE);
    const threadId = cardOf(channelId, ISSUE)!.id;
    const before = linesOf(channelId, ISSUE).length;
    const lost = postsIn(threadId).filter((c) => c.status === 0).length;
    const threadPost = { pathIncludes: `/channels/${threadId}/messages`, method: "POST" };
    discord.failNext({ ...threadPost, failure: "drop", afterApplying: true });
    // The retry after it fails too: Ben's change surely lands before a retry can post again.
    discord.failNext({ ...threadPost, failure: { status: 503 } });
    expect((await api(ISSUE, { action: "ignore", actor: "ana@contoso.com", ignore: { mode: "forever" } })).status).toBe(200);
    await waitFor(() => postsIn(threadId).filter((c) => c.status === 0).length > lost, { timeoutMs: 40_000, description: "the lost answer" });
    expect((await api(ISSUE, { action: "unignore", actor: "ben@contoso.com" })).status).toBe(200);
    await lineMatching(channelId, ISSUE, /Unignored by Ben Ode · via the API/, "Ben's change in the thread");
    await settled(ISSUE);
    expect(linesOf(channelId, ISSUE).slice(before)).toEqual(["Ignored forever by Ana Lima · via the API", "Unignored by Ben Ode · via the API"]);
  }, 120_000);

  it("an archived thread still gets the line, and is unarchived by it", async () => {
    const threadId = cardOf(channelId, ISSUE)!.id;
    discord.archiveThread(threadId);
    expect((await api(ISSUE, { action: "resolve", actor: "ana@contoso.com" })).status).toBe(200);
    await lineMatching(channelId, ISSUE, /^Resolved by Ana Lima · via the API$/, "the line in the archived thread");
    expect(discord.thread(threadId)!.archived).toBe(false);
    expect(threadStarts(channelId, threadId)).toHaveLength(1);
  }, 90_000);

  it("a locked thread gets no line (nor another try); the card still shows every change", async () => {
    await settled(ISSUE);
    const threadId = cardOf(channelId, ISSUE)!.id;
    const before = linesOf(channelId, ISSUE).length;
    discord.lockThread(threadId);
    expect((await api(ISSUE, { action: "unresolve", actor: "ana@contoso.com" })).status).toBe(200);
    await waitFor(() => postsIn(threadId).some((c) => c.status === 403), { timeoutMs: 40_000, description: "the refused line" });
    await settled(ISSUE);
    expect((await api(ISSUE, { action: "resolve", actor: "ben@contoso.com" })).status).toBe(200);
    await waitFor(() => cardShowsLatest(channelId, ISSUE), { timeoutMs: 30_000, description: "the card showing Ben's Resolve" });
    await settled(ISSUE);
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // past the lines' settling time
    await settled(ISSUE);
    expect(postsIn(threadId).filter((c) => c.status === 403)).toHaveLength(1);
    expect(linesOf(channelId, ISSUE)).toHaveLength(before);
  }, 120_000);
});

describe("a thread started by someone else, and Discord's refusals", () => {
  it("a person started a thread from the card first, and the route was throttled: the line waits, then goes in that thread", async () => {
    const issueId = "discord-threaded-2";
    await alert(issueId);
    const card = await waitFor(() => cardOf(channelId, issueId), { timeoutMs: 30_000 });
    await settled(issueId);
    discord.startThreadAsUser({ channelId, messageId: card.id, name: "what is this?" });
    discord.throttleNext({ pathIncludes: `/messages/${card.id}/threads`, retryAfterSeconds: 2 });
    expect((await click(ana, issueId, `resolve~${issueId}`)).body?.type).toBe(7);
    await lineMatching(channelId, issueId, /^Resolved by Ana Lima · via Discord$/, "the line in the person's thread");
    expect(threadStarts(channelId, card.id).map((c) => c.status)).toEqual([429, 400]);
    expect(discord.thread(card.id)!.name).toBe("what is this?");
    await settled(issueId);
    expect(linesOf(channelId, issueId)).toHaveLength(1);
  }, 90_000);

  it("without the thread permissions in a channel: no line, and the channel's cards still post and change", async () => {
    const issueId = "discord-threaded-3";
    const channel = discord.addChannel(guildId, "alerts-no-threads").id;
    discord.noThreadPermission.add(channel);
    expect(await command(channel, { project: "checkout", level: "info" })).toMatch(/checkout/);
    await alert(issueId);
    const card = await waitFor(() => cardOf(channel, issueId), { timeoutMs: 30_000 });
    await settled(issueId);
    expect((await api(issueId, { action: "resolve", actor: "ana@contoso.com" })).status).toBe(200);
    await waitFor(() => threadStarts(channel, card.id).some((c) => c.status === 403), { timeoutMs: 40_000, description: "the refused thread" });
    await settled(issueId);
    expect(discord.messages(card.id)).toEqual([]);
    // Refused a thread is not refused the channel: the next change edits the card, the next alert posts one.
    expect((await api(issueId, { action: "unresolve", actor: "ana@contoso.com" })).status).toBe(200);
    await waitFor(() => cardShowsLatest(channel, issueId), { timeoutMs: 30_000, description: "the card showing the Unresolve" });
    await alert("discord-threaded-4");
    await waitFor(() => cardOf(channel, "discord-threaded-4"), { timeoutMs: 30_000, description: "the next card in that channel" });
    await settled(issueId);
    expect(threadStarts(channel, card.id)).toHaveLength(1);
  }, 120_000);
});
