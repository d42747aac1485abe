// Assignment notices on Discord, through the local host, Azurite and the emulators: someone assigned from any surface
// gets a DM from the bot where they are linked in a Discord server ("Ben Ode assigned you CHECKOUT-12", the live card
// under it, refreshed like every copy), once even when linked in two servers; unassignment says so in text;
// `/triage notify off` turns them off; a person whose DMs are closed to the bot is refused once, never retried, and
// still gets the notice on their other platforms.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { discordMessageVersion } from "../../shared/cards/discord-message";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { directMessagesTo, directMessagePostsTo } from "../support/discord";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";
import { everyChangePosted } from "./settled";

const ISSUE = "discord-assigned";

let stack: Stack;
let discord: DiscordEmulator;
let checkout: { guildId: string; channelId: string };
let teamId: string;
let slackChannel: string;
let slackAna: string;
let slackBen: string;
let slackDan: string;
let ana: DiscordUser;
let carol: DiscordUser;
let dan: DiscordUser;

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
  const { guild, channels } = discord.addGuild("Checkout", ["alerts"]);
  checkout = { guildId: guild.id, channelId: channels[0]!.id };
  const payments = discord.addGuild("Payments", ["alerts"]).guild.id;
  teamId = await installSlackWorkspace(stack, "Contoso");
  slackChannel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  slackAna = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  slackBen = stack.slack.addUser(teamId, { name: "ben", realName: "Ben Ode", email: "ben@contoso.com" }).id;
  slackDan = stack.slack.addUser(teamId, { name: "dan", realName: "Dan Roe", email: "dan@contoso.com" }).id;
  // Ana is one Discord user, linked in both servers.
  ana = discord.addUser("ana", "Ana Lima");
  await linkOnDiscord(ana, "ana@contoso.com", "Ana Lima", checkout.guildId);
  await linkOnDiscord(ana, "ana@contoso.com", "Ana Lima", payments);
  carol = discord.addUser("carol", "Carol Sá");
  await linkOnDiscord(carol, "carol@contoso.com", "Carol Sá", checkout.guildId);
  dan = discord.addUser("dan", "Dan Roe");
  await linkOnDiscord(dan, "dan@contoso.com", "Dan Roe", checkout.guildId);
  await new IdentityRepository(stack.storage).link({
    provider: "slack",
    scope: teamId,
    chatUserId: slackDan,
    person: { email: "dan@contoso.com", name: "Dan Roe" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({
      alertId: `${ISSUE}-1`,
      issue: { id: ISSUE },
      targets: [
        { provider: "slack", teamId, channel: slackChannel },
        { provider: "discord", channelId: checkout.channelId },
      ],
    }),
  );
  await waitFor(() => slackCard() && discordCard(), { timeoutMs: 30_000, description: "the cards in Slack and Discord" });
  await settled();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function linkOnDiscord(user: DiscordUser, email: string, name: string, guildId: string): Promise<void> {
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: guildId,
    chatUserId: user.id,
    person: { email, name },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
}

const slackCard = () =>
  stack.slack.messages(slackChannel).find((m) => !m.ephemeral && !m.threadTs && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
const discordCard = () => discord.messages(checkout.channelId).find((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${ISSUE}`));
const slackDirect = (text: string) => stack.slack.messages().filter((m) => m.channel.startsWith("D") && !m.ephemeral && m.text === text);
const api = (body: Record<string, unknown>) =>
  fetch(`${stack.api}/issues/${ISSUE}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const isCardOfTheIssue = (message: { components: unknown[] }) => JSON.stringify(message.components).includes(`~${ISSUE}`);

/** Every change announced and the card-refresh queue empty: whatever the app was going to post is posted. */
const settled = () => everyChangePosted(stack, ISSUE);

/** The line under the Discord card saying the issue was assigned to `who` (lines come once a change settled). */
async function assignedLine(who: string): Promise<void> {
  await waitFor(() => discord.messages(discordCard()!.id).some((m) => m.content?.startsWith(`Assigned to ${who}`)), {
    timeoutMs: 40_000,
    description: `the thread line assigning ${who}`,
  });
}

describe("assignment notices on Discord", () => {
  it("Ben assigns Ana from a Slack click: one DM from the bot with the notice and the live card, though she is linked in two servers", async () => {
    const card = slackCard()!;
    const payload = stack.slack.blockActions({
      teamId,
      user: slackBen,
      channel: slackChannel,
      messageTs: card.ts,
      actions: [{ action_id: "triage.assign-user", selected_user: slackAna }],
    });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);

    const notice = await waitFor(() => directMessagesTo(discord, ana.id)[0], { timeoutMs: 30_000, description: "Ana's DM on Discord" });
    expect(notice.content).toBe("Ben Ode assigned you CHECKOUT-12");
    expect(isCardOfTheIssue(notice)).toBe(true);
    expect(JSON.stringify(notice.embeds)).toMatch(/"name":"Assignee","value":"Ana Lima"/);
    expect(directMessagePostsTo(discord, ana.id)[0]!.body).toMatchObject({ allowed_mentions: { parse: [] } });
    // The same change notices her on Slack too, as before.
    await waitFor(() => slackDirect("Ben Ode assigned you CHECKOUT-12").length === 1, { timeoutMs: 30_000 });
    await settled();
    await assignedLine(`<@${ana.id}>`);
    await settled();
    expect(directMessagesTo(discord, ana.id)).toHaveLength(1);
  }, 90_000);

  it("a later resolve refreshes the card in her DM, the notice kept at its top", async () => {
    expect((await api({ action: "resolve", actor: "ben@contoso.com" })).status).toBe(200);
    const version = (await new IssueRepository(stack.storage).get(ISSUE))!.issue.version;
    const refreshed = await waitFor(
      () => {
        const copy = directMessagesTo(discord, ana.id)[0]!;
        return discordMessageVersion(copy.embeds as { footer?: { text?: string } }[]) === version ? copy : undefined;
      },
      { timeoutMs: 30_000, description: "the DM card showing the resolve" },
    );
    expect(JSON.stringify(refreshed.embeds)).toMatch(/"Status","value":"Resolved by ben@contoso.com/);
    expect(refreshed.content).toBe("Ben Ode assigned you CHECKOUT-12");
    expect(directMessagesTo(discord, ana.id)).toHaveLength(1);
  }, 60_000);

  it("unassigning says so in text, and the DM card no longer shows her assigned", async () => {
    await settled();
    expect((await api({ action: "unassign", actor: "ben@contoso.com" })).status).toBe(200);
    const said = await waitFor(() => directMessagesTo(discord, ana.id).find((m) => m.content === "Ben Ode unassigned you from CHECKOUT-12"), {
      timeoutMs: 30_000,
      description: "the unassignment in Ana's DM",
    });
    expect(said.embeds).toEqual([]);
    expect(said.components).toEqual([]);
    await waitFor(() => !JSON.stringify(directMessagesTo(discord, ana.id)[0]!.embeds).includes('"Assignee"'), {
      timeoutMs: 30_000,
      description: "the DM card without an assignee",
    });
    await settled();
    expect(directMessagesTo(discord, ana.id)).toHaveLength(2);
  }, 60_000);

  it("with `/triage notify off` Carol gets no DM when assigned; with `notify on` again she does", async () => {
    const replies = () => discord.messages(checkout.channelId).filter((m) => m.ephemeral && m.visibleTo === carol.id);
    /** `/triage notify <state>` as Carol: her ephemeral answer (answered at once, or deferred and then edited). */
    const notify = async (state: string) => {
      const before = replies().length;
      const command = discord.slashCommand({ user: carol, channelId: checkout.channelId, subcommand: "notify", options: { state } });
      expect((await discord.sendInteraction(`${stack.api}/discord/interactions`, command)).status).toBe(200);
      return waitFor(
        () =>
          replies()
            .slice(before)
            .find((m) => m.content?.startsWith("Notices"))?.content,
        { description: "the answer to notify" },
      );
    };
    expect(await notify("off")).toMatch(/^Notices off/);
    expect((await api({ action: "assign", actor: "ben@contoso.com", assignee: "carol@contoso.com" })).status).toBe(200);
    await assignedLine(`<@${carol.id}>`);
    await settled();
    expect(directMessagesTo(discord, carol.id)).toEqual([]);

    expect(await notify("on")).toMatch(/^Notices on/);
    expect((await api({ action: "unassign", actor: "ben@contoso.com" })).status).toBe(200);
    await settled();
    expect((await api({ action: "assign", actor: "ben@contoso.com", assignee: "carol@contoso.com" })).status).toBe(200);
    const notice = await waitFor(() => directMessagesTo(discord, carol.id).find((m) => m.content === "Ben Ode assigned you CHECKOUT-12"), {
      timeoutMs: 30_000,
      description: "Carol's DM once notices are on again",
    });
    expect(isCardOfTheIssue(notice)).toBe(true);
  }, 90_000);

  it("Dan's DMs are closed to the bot (50007): refused once and not tried again; his Slack DM still comes", async () => {
    await settled();
    discord.closedDirectMessages.add(dan.id);
    expect((await api({ action: "assign", actor: "ana@contoso.com", assignee: "dan@contoso.com" })).status).toBe(200);
    await waitFor(() => slackDirect("Ana Lima assigned you CHECKOUT-12").length === 1, { timeoutMs: 30_000, description: "Dan's Slack DM" });
    await waitFor(() => directMessagePostsTo(discord, dan.id).length > 0, { timeoutMs: 30_000, description: "the post to Dan's DM" });
    await settled();
    // Past any retry's backoff: nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await settled();
    expect(directMessagePostsTo(discord, dan.id).map((call) => [call.status, call.code])).toEqual([[403, 50007]]);
    expect(directMessagesTo(discord, dan.id)).toEqual([]);
    expect(slackDirect("Ana Lima assigned you CHECKOUT-12")).toHaveLength(1);
  }, 90_000);

  it("an answer lost after the DM was posted: sent again, the notice is there once, and its card stays live", async () => {
    await settled();
    const dm = directMessagesTo(discord, ana.id)[0]!.channelId;
    const before = directMessagesTo(discord, ana.id).length;
    discord.failNext({ pathIncludes: `/channels/${dm}/messages`, method: "POST", failure: "drop", afterApplying: true });
    expect((await api({ action: "assign", actor: "ben@contoso.com", assignee: "ana@contoso.com" })).status).toBe(200);
    await waitFor(() => directMessagePostsTo(discord, ana.id).at(-1)?.status === 200, { timeoutMs: 30_000, description: "the notice sent again" });
    await settled();
    const added = directMessagesTo(discord, ana.id).slice(before);
    expect(added.map((m) => m.content)).toEqual(["Ben Ode assigned you CHECKOUT-12"]);
    expect(
      directMessagePostsTo(discord, ana.id)
        .slice(-2)
        .map((call) => call.status),
    ).toEqual([0, 200]);

    expect((await api({ action: "resolve", actor: "ben@contoso.com" })).status).toBe(200);
    const version = (await new IssueRepository(stack.storage).get(ISSUE))!.issue.version;
    await waitFor(() => discordMessageVersion(discord.message(dm, added[0]!.id)!.embeds as { footer?: { text?: string } }[]) === version, {
      timeoutMs: 30_000,
      description: "the re-sent notice's card refreshed",
    });
  }, 90_000);
});
