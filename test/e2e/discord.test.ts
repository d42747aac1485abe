// Discord through the local host and the Discord emulator: the interactions endpoint's verification, cards
// posted to channels, clicks and commands through the one flows, copies kept in step with Teams and Slack.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { InteractionSigner } from "../../dev/emulators/discord/signer";
import type { DiscordUser } from "../../dev/emulators/discord";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository } from "../../shared/storage/cards";
import { DiscordGuilds } from "../../shared/storage/discord-guilds";
import { IssueRepository } from "../../shared/storage/issues";
import { signInAs, TestBrowser } from "../support/browser";
import { action, cardOf as teamsCardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { anAlert } from "../fixtures/issues";
import { QUEUES } from "../../shared/storage/clients";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let discord: DiscordEmulator;
const url = () => `${stack.api}/discord/interactions`;

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
});
afterAll(async () => {
  await stack?.stop();
});

describe("Discord interactions endpoint: verification", () => {
  it("answers a signed PING with PONG", async () => {
    const answer = await discord.sendInteraction(url(), discord.ping());
    expect(answer).toEqual({ status: 200, body: { type: 1 } });
  });

  const impostor = new InteractionSigner();
  const now = () => Math.floor(Date.now() / 1000);
  const forgeries: [string, (body: string) => Record<string, string>][] = [
    ["no signature headers", () => ({})],
    ["no signature", (body) => ({ "x-signature-timestamp": discord.signer.headers(body)["x-signature-timestamp"]! })],
    ["no timestamp", (body) => ({ "x-signature-ed25519": discord.signer.headers(body)["x-signature-ed25519"]! })],
    ["signed by another key", (body) => impostor.headers(body)],
    ["stale: signed six minutes ago", (body) => discord.signer.headers(body, now() - 360)],
    ["signed six minutes in the future", (body) => discord.signer.headers(body, now() + 360)],
    ["signed over another body", (body) => discord.signer.headers(body.replace('"type":', '"type" :'))],
    ["the timestamp changed after signing", (body) => ({ ...discord.signer.headers(body), "x-signature-timestamp": String(now() - 1) })],
    ["a signature that is not hex", (body) => ({ ...discord.signer.headers(body), "x-signature-ed25519": "x".repeat(128) })],
    [
      "a truncated signature",
      (body) => ({ ...discord.signer.headers(body), "x-signature-ed25519": discord.signer.headers(body)["x-signature-ed25519"]!.slice(2) }),
    ],
  ];
  for (const [kind, sign] of forgeries) {
    it(`refuses a PING with ${kind}: 401 with no body`, async () => {
      const answer = await discord.sendInteraction(url(), discord.ping(), sign);
      expect(answer).toEqual({ status: 401, body: undefined });
    });
  }
});

const cardOf = (channelId: string, issueId: string) =>
  discord.messages(channelId).find((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${issueId}`));
const embedText = (message: { embeds: unknown[]; content?: string } | undefined) => JSON.stringify(message?.embeds ?? []);

describe("Discord cards", () => {
  it("an alert for a Discord channel → a card in that channel", async () => {
    const { channels } = discord.addGuild("Contoso", ["alerts"]);
    const channelId = channels[0]!.id;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "discord-card-1", issue: { id: "discord-card" }, targets: [{ provider: "discord", channelId }] }),
    );
    const card = await waitFor(() => cardOf(channelId, "discord-card"), { timeoutMs: 30_000 });
    expect(embedText(card)).toContain("TypeError: cart is undefined");
    expect(JSON.stringify(card.components)).toContain("resolve~discord-card");
  });
});

describe("clicks and commands through the one flows, every copy kept in step", () => {
  const ISSUE = "discord-live";
  let guildId: string;
  let channelId: string;
  let ana: DiscordUser;
  let teamsAna: TeamsUser;
  let team: TeamsTeam;
  let slackTeam: string;
  let slackChannel: string;
  let messageId: string;

  const issue = async () => (await new IssueRepository(stack.storage).get(ISSUE))!.issue;
  const discordCard = () => discord.message(channelId, messageId)!;
  const teamsCard = () => stack.teams.messages(team.generalChannelId).find((m) => cardText(teamsCardOf(m.activity)).includes("TypeError"))!;
  const slackCard = () => stack.slack.messages(slackChannel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`))!;
  const clickAs = (user: DiscordUser, customId: string, values?: string[], sign?: (body: string) => Record<string, string>) =>
    discord.sendInteraction(url(), discord.componentClick({ user, channelId, messageId, customId, values }), sign);
  const command = async (subcommand: string, options?: Record<string, string>, user = ana) => {
    const answer = await discord.sendInteraction(url(), discord.slashCommand({ user, channelId, subcommand, options }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    return String(answer.body!.data!.content);
  };

  beforeAll(async () => {
    ({
      guild: { id: guildId },
      channels: [{ id: channelId }],
    } = discord.addGuild("Checkout", ["alerts"]) as unknown as { guild: { id: string }; channels: [{ id: string }] });
    ana = discord.addUser("ana", "Ana Lima");
    teamsAna = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
    team = stack.teams.addTeam({ name: "Checkout", members: [teamsAna] });
    await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: teamsAna }));
    slackTeam = await installSlackWorkspace(stack, "Contoso");
    slackChannel = stack.slack.addChannel(slackTeam, { name: "alerts" }).id;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: `${ISSUE}-1`,
        issue: { id: ISSUE, tags: {} },
        targets: [
          { provider: "discord", channelId },
          { provider: "msteams", conversationId: team.generalChannelId },
          { provider: "slack", teamId: slackTeam, channel: slackChannel },
        ],
      }),
    );
    await waitFor(async () => ((await new CardRepository(stack.storage).list(ISSUE)).length === 3 ? true : undefined), { timeoutMs: 30_000 });
    messageId = cardOf(channelId, ISSUE)!.id;
  }, 60_000);

  it("a click from someone not linked: an ephemeral link prompt, the message and the issue unchanged", async () => {
    const answer = await clickAs(ana, `resolve~${ISSUE}`);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(answer.body!.data!.content)).toMatch(/link your Discord account[\s\S]*\/api\/link\?token=/);
    expect((await issue()).status).toBe("unresolved");
    expect(discordCard().edits).toBe(0);
  });

  it("/triage link answers with a link; signing in links the Discord user in this guild", async () => {
    expect(await new DiscordGuilds(stack.storage).isKnown(guildId)).toBe(true); // recorded on its first interaction
    const content = await command("link");
    const link = /(http\S+\/api\/link\?token=\S+)/.exec(content)![1]!;
    stack.oidc.addPerson({ email: "ana@contoso.com", name: "Ana Lima" });
    const browser = new TestBrowser();
    const confirm = await signInAs(browser, await browser.get(link), "ana@contoso.com");
    expect(confirm.text).toContain("Link the Discord user “Ana Lima” to you");
    const done = await browser.submitForm(confirm);
    expect(done.status).toBe(200);
    const identity = await waitFor(() => new IdentityRepository(stack.storage).get("discord", guildId, ana.id));
    expect(identity).toMatchObject({ person: { email: "ana@contoso.com" }, how: "explicit" });
    expect(await command("status")).toMatch(/You're linked as ana@contoso\.com \(by sign-in\)/);
  });

  it("a signed Resolve click: the message updated in the response (type 7), the Teams and Slack copies refreshed", async () => {
    const answer = await clickAs(ana, `resolve~${ISSUE}`);
    expect(answer.status).toBe(200);
    expect(answer.body!.type).toBe(7);
    expect(JSON.stringify(answer.body!.data)).toMatch(/Resolved by Ana Lima/);
    expect(JSON.stringify(discordCard().components)).toContain(`unresolve~${ISSUE}`);
    expect((await issue()).status).toBe("resolved");
    await waitFor(() => cardText(teamsCardOf(teamsCard().activity)).includes("Resolved by Ana Lima"), { timeoutMs: 30_000 });
    await waitFor(() => blocksText(slackCard().blocks).includes("Resolved by Ana Lima"), { timeoutMs: 30_000 });
  });

  it("a click in Teams: the Discord copy edited", async () => {
    const button = action(teamsCardOf(teamsCard().activity), "Unresolve");
    const response = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: teamsAna,
        replyToId: teamsCard().activityId,
        verb: button.verb!,
        data: button.data,
      }),
    );
    expect(response.status).toBe(200);
    await waitFor(() => JSON.stringify(discordCard().embeds).includes("Unresolved by Ana Lima"), { timeoutMs: 30_000 });
    expect(JSON.stringify(discordCard().components)).toContain(`resolve~${ISSUE}`);
  });

  it("the Ignore and Assign menus go through the same flow", async () => {
    const assigned = await clickAs(ana, `assign~${ISSUE}`, ["assign:me"]);
    expect(JSON.stringify(assigned.body)).toMatch(/Ana Lima/);
    expect((await issue()).assignee?.email).toBe("ana@contoso.com");
    const again = await clickAs(ana, `assign~${ISSUE}`, ["assign:me"]);
    expect(String(again.body!.data!.content)).toMatch(/already assigned/);
    await clickAs(ana, `ignore~${ISSUE}`, ["ignore:events:100"]);
    expect((await issue()).status).toBe("ignored");
    // The clicks' refreshes run after their answers: done before the tests below count the card's edits.
    await waitFor(async () => (await new IssueRepository(stack.storage).get(ISSUE))?.outbox.every((entry) => entry.announced));
    await waitFor(async () => (await messageCount(stack.azurite.connectionString, QUEUES.cardRefresh)) === 0, { intervalMs: 200 });
  });

  const impostor = new InteractionSigner();
  const forged: [string, (body: string) => Record<string, string>][] = [
    ["no signature", () => ({})],
    ["another key", (body) => impostor.headers(body)],
    ["a stale timestamp", (body) => discord.signer.headers(body, Math.floor(Date.now() / 1000) - 301)],
    ["another body's signature", (body) => discord.signer.headers(`${body} `)],
  ];
  for (const [kind, sign] of forged) {
    it(`a Unignore click with ${kind}: 401, and nothing changed`, async () => {
      const before = await issue();
      const edits = discordCard().edits;
      const answer = await clickAs(ana, `unignore~${ISSUE}`, undefined, sign);
      expect(answer).toEqual({ status: 401, body: undefined });
      expect((await issue()).version).toBe(before.version);
      expect(discordCard().edits).toBe(edits);
    });
  }

  it("/triage subscribe, then an alert for that project: a card in the channel", async () => {
    expect(await command("subscribe", { project: "payments", level: "warning" })).toMatch(/Subscribed: alerts for \*\*payments\*\* at level warning/);
    expect(await command("subscriptions")).toMatch(/\*\*payments\*\* \(warning and above\)/);
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "discord-sub-1", issue: { id: "discord-sub", project: "payments", level: "error" } }),
    );
    await waitFor(() => cardOf(channelId, "discord-sub"), { timeoutMs: 30_000 });
  });

  it("429s with retry_after, on the route and global, are waited out: every card once, none lost", async () => {
    const { channels } = discord.addGuild("Throttled", ["a", "b"]);
    discord.throttleNext({ retryAfterSeconds: 1.5, pathIncludes: `/channels/${channels[0]!.id}/messages` });
    discord.throttleNext({ scope: "global", retryAfterSeconds: 1, pathIncludes: `/channels/${channels[1]!.id}/messages` });
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "discord-429-1",
        issue: { id: "discord-429" },
        targets: channels.map((c) => ({ provider: "discord" as const, channelId: c.id })),
      }),
    );
    for (const channel of channels) await waitFor(() => cardOf(channel.id, "discord-429"), { timeoutMs: 30_000 });
    const posts = (channel: string) => discord.calls.filter((c) => c.method === "POST" && c.path === `/channels/${channel}/messages`);
    for (const channel of channels) {
      expect(posts(channel.id).map((c) => c.status)).toEqual([429, 200]);
      expect(discord.messages(channel.id).filter((m) => JSON.stringify(m.components).includes("~discord-429"))).toHaveLength(1);
    }
  });
});
