// Release notices on Discord, through the local host, Azurite and the Discord emulator: a release message posts the
// release card to every Discord channel subscribed to the project (`/triage subscribe`), drawn from the same release
// view as Teams and Slack, with what the producer wrote shown as typed and nobody pinged; once per release × channel
// (delivered again, throttled, or after an answer lost on the way back); a channel the bot can't see is dead for it.
// A person named in the release and linked on Discord gets it once as a DM from the bot, however many servers they
// are linked in; someone whose DMs are closed to the bot is refused once, and the channel cards go all the same.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { IdentityRepository } from "../../shared/storage/identities";
import { directMessagePostsTo, directMessagesTo, linkedDiscordUser } from "../support/discord";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

const PROJECT = "checkout";
const FIXED = "discord-release-fixed";
/** A title with Discord markdown and a ping in it: shown as typed. */
const TITLE = "*cart* is [undefined](https://evil.example) @everyone";

let stack: Stack;
let discord: DiscordEmulator;
let alerts: string;
let deploys: string;
let ana: DiscordUser;
let dan: DiscordUser;

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
  const { guild, channels } = discord.addGuild("Checkout", ["alerts", "deploys"]);
  [alerts, deploys] = channels.map((channel) => channel.id) as [string, string];
  ana = await linkedDiscordUser(discord, stack.storage, "ana", guild.id);
  // Ana, linked on Discord only, is linked in a second server too: still one Discord user, one DM with the bot.
  const payments = discord.addGuild("Payments", ["general"]).guild.id;
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: payments,
    chatUserId: ana.id,
    person: { email: "ana@contoso.com", name: "ana" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  dan = await linkedDiscordUser(discord, stack.storage, "dan", guild.id);
  for (const channel of [alerts, deploys]) {
    const command = discord.slashCommand({ user: ana, channelId: channel, subcommand: "subscribe", options: { project: PROJECT, level: "info" } });
    const answer = await discord.sendInteraction(`${stack.api}/discord/interactions`, command);
    expect(String(answer.body?.data?.content)).toMatch(/^Subscribed/);
  }
  // An issue of release 1.2.3, resolved in the next release: the release card lists it.
  await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId: `${FIXED}-1`, issue: { id: FIXED, title: TITLE } }));
  await waitFor(() => discord.messages(alerts).some((m) => JSON.stringify(m.components).includes(`~${FIXED}`)), { timeoutMs: 30_000 });
  const resolved = await fetch(`${stack.api}/issues/${FIXED}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action: "resolve", inRelease: "next", actor: "ana@contoso.com" }),
  });
  expect(resolved.status).toBe(200);
  await waitFor(async () => (await new IssueRepository(stack.storage).get(FIXED))?.outbox.every((entry) => entry.announced), { timeoutMs: 30_000 });
  await waitFor(async () => (await messageCount(stack.azurite.connectionString, "card-refresh")) === 0, { timeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const releaseMessage = (version: string, people: string[] = []) => ({
  schemaVersion: 1,
  kind: "release",
  release: { project: PROJECT, version, environment: "production", url: `https://deploys.example.com/checkout/${version}`, people },
});

type Embed = { title?: string; url?: string; description?: string; fields?: { name: string; value: string }[] };
const embedOf = (message: { embeds: unknown[] }) => message.embeds[0] as Embed | undefined;
const releaseCards = (channel: string, version: string) =>
  discord.messages(channel).filter((m) => embedOf(m)?.title === `${PROJECT} ${version} went out to production`);
const postsTo = (channel: string) => discord.calls.filter((c) => c.method === "POST" && c.path === `/channels/${channel}/messages`);
const summaries = (version: string) => stack.host.logs().filter((line) => line.includes(`Release ${PROJECT} ${version}:`));

async function released(version: string, people: string[] = []): Promise<void> {
  await sendBase64Json(stack.azurite.connectionString, "alerts", releaseMessage(version, people));
}

const releaseDirectMessages = (user: DiscordUser, version: string) =>
  directMessagesTo(discord, user.id).filter((m) => embedOf(m)?.title === `${PROJECT} ${version} went out to production`);
const releaseDirectPosts = (user: DiscordUser, version: string) =>
  directMessagePostsTo(discord, user.id).filter((c) => JSON.stringify(c.body).includes(`${version} went out`));

describe("release notices on Discord", () => {
  it("a release message: the release card in each subscribed channel, what the producer wrote shown as typed, nobody pinged", async () => {
    await released("1.2.4");
    await waitFor(() => releaseCards(alerts, "1.2.4").length === 1 && releaseCards(deploys, "1.2.4").length === 1, {
      timeoutMs: 30_000,
      description: "the release card in #alerts and #deploys",
    });
    const card = embedOf(releaseCards(alerts, "1.2.4")[0]!)!;
    expect(card.url).toBe("https://deploys.example.com/checkout/1.2.4");
    expect(card.fields).toEqual(
      expect.arrayContaining([
        { name: "Project", value: "checkout", inline: true },
        { name: "Version", value: "1.2.4", inline: true },
        { name: "Previous release", value: "1.2.3", inline: true },
      ]),
    );
    const [resolvedHeading, fixedLine] = card.description!.split("\n");
    expect(resolvedHeading).toBe("**Resolved in this release (1)**");
    expect(fixedLine).toBe(
      "• [CHECKOUT-12 \\*cart\\* is \\[undefined\\](https://evil.example) @everyone](https://sentry.example.com/issues/1) · error · 57 events",
    );
    expect(card.description).toContain("**Open regressions since 1.2.3 (0)**\n*No open regressions.*");
    for (const post of [...postsTo(alerts), ...postsTo(deploys)].filter((c) => JSON.stringify(c.body).includes("1.2.4 went out"))) {
      expect(post.body).toMatchObject({ allowed_mentions: { parse: [] } });
    }
  }, 60_000);

  it("delivered again, posts nothing twice", async () => {
    await waitFor(() => summaries("1.2.4").length > 0, { description: "the first delivery's summary line" });
    const before = summaries("1.2.4").length;
    await released("1.2.4");
    await waitFor(() => summaries("1.2.4").length > before, { timeoutMs: 30_000 });
    expect(releaseCards(alerts, "1.2.4")).toHaveLength(1);
    expect(releaseCards(deploys, "1.2.4")).toHaveLength(1);
  }, 60_000);

  it("throttled (429): waits on the queue, then posts once", async () => {
    discord.throttleNext({ pathIncludes: `/channels/${alerts}/messages`, retryAfterSeconds: 2 });
    await released("1.2.5");
    await waitFor(() => releaseCards(alerts, "1.2.5").length === 1 && releaseCards(deploys, "1.2.5").length === 1, {
      timeoutMs: 60_000,
      description: "the release card after the 429",
    });
    await waitFor(() => summaries("1.2.5").some((line) => line.includes("2 notices sent, 0 dead")), { timeoutMs: 30_000 });
    expect(postsTo(alerts).filter((c) => c.status === 429)).toHaveLength(1);
    expect(stack.host.logs().some((line) => line.includes(`Release ${PROJECT} 1.2.5 to discord:${alerts}: retry in`))).toBe(true);
    expect(releaseCards(alerts, "1.2.5")).toHaveLength(1);
  }, 90_000);

  it("an answer lost after the card was posted: posted again with its nonce, there once", async () => {
    discord.failNext({ pathIncludes: `/channels/${deploys}/messages`, method: "POST", failure: "drop", afterApplying: true });
    await released("1.2.6");
    await waitFor(() => summaries("1.2.6").some((line) => line.includes("2 notices sent, 0 dead")), {
      timeoutMs: 60_000,
      description: "both notices sent",
    });
    expect(
      postsTo(deploys)
        .filter((c) => JSON.stringify(c.body).includes("1.2.6 went out"))
        .map((c) => c.status),
    ).toEqual([0, 200]);
    expect(releaseCards(deploys, "1.2.6")).toHaveLength(1);
    expect(releaseCards(alerts, "1.2.6")).toHaveLength(1);
  }, 90_000);

  it("a channel the bot can no longer see (Missing Access): that notice is dead, tried once; the other channel gets it", async () => {
    discord.noAccess.add(deploys);
    await released("1.2.7");
    await waitFor(() => summaries("1.2.7").some((line) => line.includes("1 notices sent, 1 dead")), {
      timeoutMs: 30_000,
      description: "one sent, one dead",
    });
    expect(releaseCards(alerts, "1.2.7")).toHaveLength(1);
    expect(
      postsTo(deploys)
        .filter((c) => JSON.stringify(c.body).includes("1.2.7 went out"))
        .map((c) => c.status),
    ).toEqual([403]);
  }, 60_000);
});

// #deploys is gone since the Missing Access test above: #alerts is the channel that still gets the release cards.
describe("personal release notices on Discord", () => {
  /** The release message was taken with nothing left waiting: every notice of it is sent or dead. */
  const settled = (version: string) =>
    waitFor(() => summaries(version).some((line) => !line.includes("waiting")), {
      timeoutMs: 60_000,
      description: `release ${version} taken with nothing left waiting`,
    });

  it("a person named in the release and linked only on Discord, in two servers: one DM from the bot with the personal notice", async () => {
    await released("1.3.0", ["ana@contoso.com", "Ana@Contoso.com"]);
    await settled("1.3.0");
    const [notice, ...more] = releaseDirectMessages(ana, "1.3.0");
    expect(more).toEqual([]);
    const embed = embedOf(notice!)!;
    expect(embed.description!.split("\n")[0]).toBe("*You are named in this release of checkout.*");
    expect(embed.description).toContain("**Open regressions since 1.2.7 (0)**");
    expect(embed.url).toBe("https://deploys.example.com/checkout/1.3.0");
    expect(releaseDirectPosts(ana, "1.3.0")[0]!.body).toMatchObject({ allowed_mentions: { parse: [] }, enforce_nonce: true });
    // The channel gets the release card, not the personal notice.
    expect(releaseCards(alerts, "1.3.0")).toHaveLength(1);
    expect(embedOf(releaseCards(alerts, "1.3.0")[0]!)!.description).not.toContain("You are named");
    // Named twice (the second time in other letter case): still one person, one DM.
    expect(directMessagesTo(discord, ana.id)).toHaveLength(1);
  }, 60_000);

  it("the release message delivered again: no second DM", async () => {
    const before = summaries("1.3.0").length;
    await released("1.3.0", ["ana@contoso.com", "Ana@Contoso.com"]);
    await waitFor(() => summaries("1.3.0").length > before, { timeoutMs: 30_000, description: "the second delivery's summary line" });
    expect(releaseDirectPosts(ana, "1.3.0")).toHaveLength(1);
    expect(releaseDirectMessages(ana, "1.3.0")).toHaveLength(1);
  }, 60_000);

  it("throttled (429) in the DM: waits on the queue, then the DM comes once", async () => {
    const dm = directMessagesTo(discord, ana.id)[0]!.channelId;
    discord.throttleNext({ pathIncludes: `/channels/${dm}/messages`, retryAfterSeconds: 2 });
    await released("1.3.1", ["ana@contoso.com"]);
    await settled("1.3.1");
    expect(releaseDirectPosts(ana, "1.3.1").map((c) => c.status)).toEqual([429, 200]);
    expect(releaseDirectMessages(ana, "1.3.1")).toHaveLength(1);
  }, 90_000);

  it("an answer lost after the DM was posted: posted again with its nonce, there once", async () => {
    const dm = directMessagesTo(discord, ana.id)[0]!.channelId;
    discord.failNext({ pathIncludes: `/channels/${dm}/messages`, method: "POST", failure: "drop", afterApplying: true });
    await released("1.3.2", ["ana@contoso.com"]);
    await settled("1.3.2");
    expect(releaseDirectPosts(ana, "1.3.2").map((c) => c.status)).toEqual([0, 200]);
    expect(releaseDirectMessages(ana, "1.3.2")).toHaveLength(1);
  }, 90_000);

  it("Dan's DMs are closed to the bot (50007): his notice is dead, tried once; the channel gets its card, and Ana hers", async () => {
    discord.closedDirectMessages.add(dan.id);
    await released("1.3.3", ["dan@contoso.com", "ana@contoso.com"]);
    await settled("1.3.3");
    expect(releaseCards(alerts, "1.3.3")).toHaveLength(1);
    expect(releaseDirectMessages(ana, "1.3.3")).toHaveLength(1);
    // Delivered again, and past any retry's backoff: nothing more is tried.
    const before = summaries("1.3.3").length;
    await released("1.3.3", ["dan@contoso.com", "ana@contoso.com"]);
    await waitFor(() => summaries("1.3.3").length > before, { timeoutMs: 30_000, description: "the second delivery's summary line" });
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(releaseDirectPosts(dan, "1.3.3").map((call) => [call.status, call.code])).toEqual([[403, 50007]]);
    expect(directMessagesTo(discord, dan.id)).toEqual([]);
    expect(
      stack.host
        .logs()
        .some(
          (line) =>
            line.includes(`Release ${PROJECT} 1.3.3 to discord:`) && line.includes("is dead: Discord: Cannot send messages to this user (50007)"),
        ),
    ).toBe(true);
    expect(stack.host.logs().join("\n")).not.toContain("dan@contoso.com");
  }, 90_000);
});
