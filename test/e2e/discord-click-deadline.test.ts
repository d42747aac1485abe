// Discord shows an interaction as failed when the app hasn't answered within 3 s (the emulator gives up then
// too, and invalidates the token). With storage slow, a click is answered DEFERRED_UPDATE_MESSAGE (type 6) in
// time and finished by editing the original response; a command is answered "thinking…" (type 5) and edited.
// And a guild outside DISCORD_ALLOWED_GUILDS is refused, with nothing changed.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { CardRepository } from "../../shared/storage/cards";
import { DiscordGuilds } from "../../shared/storage/discord-guilds";
import { IssueRepository } from "../../shared/storage/issues";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { anAlert } from "../fixtures/issues";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { useSlowDiscordStack, type SlowDiscordStack } from "./discord-helpers";
import type { Stack } from "./stack";

let app: SlowDiscordStack;
let stack: Stack;
let discord: DiscordEmulator;
let guildId: string;
let channelId: string;
let elsewhereGuildId: string;
let elsewhereChannelId: string;

// The app serves the Checkout guild only.
useSlowDiscordStack(
  (started) => {
    app = started;
    ({ stack, discord, guildId, channelId } = started);
    ({
      guild: { id: elsewhereGuildId },
      channels: [{ id: elsewhereChannelId }],
    } = discord.addGuild("Elsewhere", ["alerts"]) as unknown as { guild: { id: string }; channels: [{ id: string }] });
  },
  { onlyCheckoutAllowed: true },
);

const cardOf = (channel: string, issueId: string) => app.cardOf(issueId, channel);
const issue = async (id: string) => (await new IssueRepository(stack.storage).get(id))!.issue;
const webhookCalls = (token: string) => discord.calls.filter((c) => c.path.startsWith(`/webhooks/${discord.applicationId}/${token}`));
/** The issue's card in the channel, as soon as it is posted. */
const postedCard = (issueId: string, channel: string) => app.postedCard(issueId, { channelId: channel, refreshesOver: false });

describe("Discord interactions are answered within Discord's 3 seconds", () => {
  it("storage slow: a Resolve click is answered DEFERRED_UPDATE_MESSAGE in time, then the original message is edited to resolved", async () => {
    const ana = await app.linkedUser("ana");
    const card = await postedCard("slow-click", channelId);
    const interaction = discord.componentClick({ user: ana, channelId, messageId: card.id, customId: "resolve~slow-click" });

    const answer = await app.withSlowStorage(1_000, () => discord.sendInteraction(app.interactionsUrl, interaction));

    expect(answer.timedOut).toBeUndefined();
    expect(answer).toEqual({ status: 200, body: { type: 6 } });
    await waitFor(() => JSON.stringify(cardOf(channelId, "slow-click")!.embeds).includes("Resolved by ana"), { timeoutMs: 30_000 });
    expect(JSON.stringify(cardOf(channelId, "slow-click")!.components)).toContain("unresolve~slow-click");
    expect(webhookCalls(String(interaction.token)).map((c) => `${c.method} ${c.status}`)).toEqual(["PATCH 200"]);
    expect((await issue("slow-click")).status).toBe("resolved");
  }, 90_000);

  it("storage slow: a click from someone not linked is deferred, then an ephemeral followup with the link prompt; the card unchanged", async () => {
    const cai = discord.addUser("cai", "Cai");
    const card = await postedCard("slow-unlinked", channelId);
    const interaction = discord.componentClick({ user: cai, channelId, messageId: card.id, customId: "resolve~slow-unlinked" });

    const answer = await app.withSlowStorage(3_000, () => discord.sendInteraction(app.interactionsUrl, interaction));

    expect(answer).toEqual({ status: 200, body: { type: 6 } });
    const prompt = await waitFor(() => discord.messages(channelId).find((m) => m.ephemeral && /link your Discord account/.test(m.content ?? "")), {
      timeoutMs: 30_000,
    });
    expect(prompt.content).toMatch(/\/api\/link\?token=/);
    expect(webhookCalls(String(interaction.token)).map((c) => `${c.method} ${c.status}`)).toEqual(["POST 200"]);
    expect(cardOf(channelId, "slow-unlinked")!.edits).toBe(0);
    expect((await issue("slow-unlinked")).status).toBe("unresolved");
  }, 90_000);

  it("storage slow: /triage subscriptions is answered with an ephemeral 'thinking…' in time, then that reply is edited to the answer", async () => {
    const ben = await app.linkedUser("ben");
    const interaction = discord.slashCommand({ user: ben, channelId, subcommand: "subscriptions" });

    const answer = await app.withSlowStorage(3_000, () => discord.sendInteraction(app.interactionsUrl, interaction));

    expect(answer).toEqual({ status: 200, body: { type: 5, data: { flags: 64 } } });
    const reply = discord.messages(channelId).at(-1)!;
    expect(reply.ephemeral).toBe(true);
    await waitFor(() => /subscri/i.test(reply.content ?? "") && reply.edits === 1, { timeoutMs: 30_000 });
    expect(webhookCalls(String(interaction.token)).map((c) => `${c.method} ${c.status}`)).toEqual(["PATCH 200"]);
  }, 90_000);

  it("a click answered in time with the new card: the card refresh that follows edits the other copies, not the clicked one", async () => {
    const dan = await app.linkedUser("dan");
    const other = discord.addChannel(guildId, "alerts-2").id;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "alert-fast-click",
        issue: { id: "fast-click", tags: {} },
        targets: [
          { provider: "discord", channelId },
          { provider: "discord", channelId: other },
        ],
      }),
    );
    const card = await waitFor(() => cardOf(channelId, "fast-click"), { timeoutMs: 30_000 });
    await waitFor(() => cardOf(other, "fast-click"), { timeoutMs: 30_000 });
    // The alert's own card refreshes are over before the click: one still running when the click lands may rightly
    // edit the clicked copy (on a loaded machine it did), and this test is about the refresh the click announces.
    await waitFor(async () => ((await messageCount(stack.azurite.connectionString, "card-refresh")) === 0 ? true : undefined), {
      timeoutMs: 30_000,
    });

    const answer = await discord.sendInteraction(
      app.interactionsUrl,
      discord.componentClick({ user: dan, channelId, messageId: card.id, customId: "resolve~fast-click" }),
    );

    expect(answer.body?.type).toBe(7);
    // The refresh the click announced has reached the other copy, and its run is over (no update in flight)...
    await waitFor(() => JSON.stringify(cardOf(other, "fast-click")!.embeds).includes("Resolved by dan"), { timeoutMs: 30_000 });
    const resolved = await issue("fast-click");
    await waitFor(
      async () => {
        const copies = await new CardRepository(stack.storage).list("fast-click");
        const settled = copies.every((copy) => copy.renderedVersion === resolved.version && Object.keys(copy.writers ?? {}).length === 0);
        return copies.length === 2 && settled ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // ...and spent no edit on the copy the click already answered with the new render.
    expect(discord.calls.filter((c) => c.method === "PATCH" && c.path === `/channels/${channelId}/messages/${card.id}`)).toEqual([]);
    expect(cardOf(channelId, "fast-click")!.edits).toBe(1);
  }, 90_000);
});

describe("a guild outside DISCORD_ALLOWED_GUILDS", () => {
  it("a click there is refused ephemerally: the issue, the card and the guild's record unchanged", async () => {
    const eve = await app.linkedUser("eve", elsewhereGuildId);
    const card = await postedCard("elsewhere", elsewhereChannelId);
    const before = await issue("elsewhere");

    const answer = await discord.sendInteraction(
      app.interactionsUrl,
      discord.componentClick({ user: eve, channelId: elsewhereChannelId, messageId: card.id, customId: "resolve~elsewhere" }),
    );

    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(answer.body!.data!.content)).toMatch(/isn't allowed to serve this server/);
    expect((await issue("elsewhere")).version).toBe(before.version);
    expect(cardOf(elsewhereChannelId, "elsewhere")!.edits).toBe(0);
    expect(await new DiscordGuilds(stack.storage).isKnown(elsewhereGuildId)).toBe(false);
  }, 60_000);

  it("/triage subscribe there is refused ephemerally: no subscription stored", async () => {
    const fay = await app.linkedUser("fay", elsewhereGuildId);
    const answer = await discord.sendInteraction(
      app.interactionsUrl,
      discord.slashCommand({ user: fay, channelId: elsewhereChannelId, subcommand: "subscribe", options: { project: "payments" } }),
    );
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(String(answer.body!.data!.content)).toMatch(/isn't allowed to serve this server/);
    expect(await listSubscriptions(stack.storage, `discord:${elsewhereChannelId}`)).toEqual([]);
    expect(await new DiscordGuilds(stack.storage).isKnown(elsewhereGuildId)).toBe(false);
  }, 60_000);
});
