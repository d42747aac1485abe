// A Discord server that removed the bot (or a channel it can no longer see) answers every post 403 Missing Access,
// and Discord bans the app's IP for a while after 10,000 of those (and 401s and 429s) in 10 minutes: every server
// the app serves would lose its cards. An HTTP-only app gets no GUILD_DELETE, so the app remembers Discord's "gone"
// and asks again only once someone uses it in that server, or an hour later.
// The delivery workflow and the interactions endpoint's handler run in this process against Azurite and the
// Discord emulator; "the bot removed" is the emulator refusing the guild's channels.
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";
import { loadConfig } from "../../shared/config";
import type { AppContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { handleDiscordInteraction } from "../../shared/inbound/discord/interactions";
import { CardRepository } from "../../shared/storage/cards";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { deliverBatch } from "../../shared/workflows/deliver";
import { updateDiscordCard } from "../../shared/delivery/discord-sender";
import { anIssue } from "../fixtures/issues";
import { testContext } from "../support/app-context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";

let app: EmulatedApp;
let discord: DiscordEmulator;

const HOUR_MS = 60 * 60_000;

/** The app, its clock `aheadMs` ahead of the real one. */
function appAt(aheadMs = 0): AppContext {
  const config = loadConfig({
    ...app.settings,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_PUBLIC_KEY: discord.publicKey,
    DISCORD_BOT_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_ALLOWED_GUILDS: "*",
  });
  return testContext({ config, storage: app.storage, teams: app.context().teams, now: () => new Date(Date.now() + aheadMs) });
}

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "discord-removed",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d023", tenantId: "72f988bf-0000-4000-8000-000000000023" },
  });
  discord = await startDiscordEmulator();
});
afterAll(async () => {
  await discord?.stop();
  await app?.stop();
});

let alerts = 0;
/** One alert of a new issue for the channel, delivered by `deliverer`: its delivery row afterwards. */
async function alertTo(channelId: string, deliverer = appAt()) {
  const issueId = `discord-removed-${++alerts}`;
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const target: AlertTarget = { provider: "discord", channelId };
  const batch = { alertId: `alert-${issueId}`, issueId, targets: [{ targetKey: targetKey(target), target }] };
  await new DeliveryRepository(app.storage).plan(batch.alertId, issueId, batch.targets[0]!.targetKey, target);
  await deliverBatch(deliverer, batch);
  return { issueId, row: (await new DeliveryRepository(app.storage).get(batch.alertId, batch.targets[0]!.targetKey))! };
}

const callsTo = (channelId: string) => discord.calls.filter((call) => call.path.startsWith(`/channels/${channelId}`)).length;
const cardsOf = (channelId: string, issueId: string) =>
  discord.messages(channelId).filter((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${issueId}`));

/** The bot removed from the server: Discord refuses it every channel there (403, 50001 Missing Access). */
function removeBot(channelIds: string[]) {
  for (const id of channelIds) discord.noAccess.add(id);
}
function addBotBack(channelIds: string[]) {
  for (const id of channelIds) discord.noAccess.delete(id);
}

/** `/triage <subcommand>` in the channel, signed as Discord sends it, answered by the handler. */
async function command(channelId: string, subcommand: string, options?: Record<string, string>) {
  const user = discord.addUser(`user${alerts}`);
  const body = JSON.stringify(discord.slashCommand({ user, channelId, subcommand, options }));
  const request = new HttpRequest({
    method: "POST",
    url: "http://localhost/api/discord/interactions",
    headers: { "content-type": "application/json", ...discord.signer.headers(body) },
    body: { string: body },
  });
  const answer = await handleDiscordInteraction(
    request,
    appAt(),
    new InvocationContext({ functionName: "discordInteractions", logHandler: () => {} }),
  );
  expect(answer.status).toBe(200);
}

describe("the bot removed from a Discord server", () => {
  it("the next alert is dead with Discord's reason; the one after asks Discord nothing; /triage there again → cards flow", async () => {
    const [alertsChannel, opsChannel] = discord.addGuild("Removed", ["alerts", "ops"]).channels.map((c) => c.id) as [string, string];
    await command(alertsChannel, "help");
    expect((await alertTo(alertsChannel)).row.state).toBe("sent");

    removeBot([alertsChannel, opsChannel]);
    const refused = await alertTo(alertsChannel);
    expect(refused.row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });

    const before = callsTo(alertsChannel);
    const skipped = await alertTo(alertsChannel);
    expect(callsTo(alertsChannel)).toBe(before);
    expect(skipped.row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    expect(cardsOf(alertsChannel, skipped.issueId)).toHaveLength(0);

    // The app's commands can outlive the bot in the server: a /triage there lets one request ask again, no more.
    await command(opsChannel, "help");
    const askedAgain = await alertTo(alertsChannel);
    expect(askedAgain.row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    expect(callsTo(alertsChannel)).toBe(before + 1);
    expect((await alertTo(alertsChannel)).row.state).toBe("dead");
    expect(callsTo(alertsChannel)).toBe(before + 1);

    // Added back; someone subscribes another channel of the server: the app sees the bot is there again.
    addBotBack([alertsChannel, opsChannel]);
    await command(opsChannel, "subscribe", { project: "checkout" });
    const back = await alertTo(alertsChannel);
    expect(back.row.state).toBe("sent");
    expect(cardsOf(alertsChannel, back.issueId)).toHaveLength(1);
  });

  it("a deleted channel (10003 Unknown Channel) is remembered as well", async () => {
    const channelId = discord.addGuild("Deleted channel", ["alerts"]).channels[0]!.id;
    expect((await alertTo(channelId)).row.state).toBe("sent");
    discord.channels.delete(channelId);

    expect((await alertTo(channelId)).row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Unknown Channel \(10003\)/) });
    const before = callsTo(channelId);
    expect((await alertTo(channelId)).row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Unknown Channel \(10003\)/) });
    expect(callsTo(channelId)).toBe(before);
  });
});

describe("a refusal is checked again an hour later", () => {
  it("no request within the hour; then one real request (one, however many alerts come at once): still refused → another hour; access back → cards", async () => {
    const channelId = discord.addGuild("Never reached", ["alerts"]).channels[0]!.id;
    removeBot([channelId]);
    expect((await alertTo(channelId)).row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    const afterFirst = callsTo(channelId);

    expect((await alertTo(channelId, appAt(HOUR_MS - 60_000))).row.state).toBe("dead");
    expect(callsTo(channelId)).toBe(afterFirst);

    // An hour on, three alerts at once: one of them asks Discord, which still refuses.
    const rechecks = await Promise.all([1, 2, 3].map(() => alertTo(channelId, appAt(HOUR_MS + 60_000))));
    expect(rechecks.map((r) => r.row.state)).toEqual(["dead", "dead", "dead"]);
    expect(callsTo(channelId)).toBe(afterFirst + 1);
    expect((await alertTo(channelId, appAt(HOUR_MS + 30 * 60_000))).row.state).toBe("dead");
    expect(callsTo(channelId)).toBe(afterFirst + 1);

    // Access given back: the next check, an hour after the last, posts the card.
    addBotBack([channelId]);
    const back = await alertTo(channelId, appAt(2 * HOUR_MS + 2 * 60_000));
    expect(back.row.state).toBe("sent");
    expect(cardsOf(channelId, back.issueId)).toHaveLength(1);
    // From then on the channel is open again: no waiting for the clock.
    expect((await alertTo(channelId)).row.state).toBe("sent");
  });
});

describe("editing cards in a server that removed the bot", () => {
  it("after one refused edit, the other copies there are dead without a request", async () => {
    const channelId = discord.addGuild("Edits", ["alerts"]).channels[0]!.id;
    const first = await alertTo(channelId);
    const second = await alertTo(channelId);
    const copies = await Promise.all(
      [first.issueId, second.issueId].map(async (issueId) =>
        (await new CardRepository(app.storage).list(issueId)).find((c) => c.provider === "discord"),
      ),
    );
    removeBot([channelId]);
    const sender = appAt();
    const edit = async (index: number) => {
      const copy = copies[index]!;
      if (copy.provider !== "discord") throw new Error("not a Discord copy");
      const issue = anIssue({ id: copy.issueId, version: 2, status: "resolved" });
      return updateDiscordCard(sender, issue, copy, 1);
    };

    expect(await edit(0)).toMatchObject({ kind: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    const before = callsTo(channelId);
    expect(await edit(1)).toMatchObject({ kind: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    expect(callsTo(channelId)).toBe(before);
  });
});
