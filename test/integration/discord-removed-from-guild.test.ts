// A Discord server that removed the bot (or a channel it can no longer see) answers every post 403 Missing Access,
// and Discord bans the app's IP for a while after 10,000 of those (and 401s and 429s) in 10 minutes: every server
// the app serves would lose its cards. An HTTP-only app gets no GUILD_DELETE, so the app remembers Discord's "gone"
// and asks again only once someone uses it in that server, or an hour later.
// The delivery workflow and the interactions endpoint's handler run in this process against Azurite (through the
// counting, refusing storage proxy) and the Discord emulator; "the bot removed" is the emulator refusing the guild's
// channels, and "Discord down" a server answering every request 503.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";
import { loadConfig } from "../../shared/config";
import type { AppContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { handleDiscordInteraction } from "../../shared/inbound/discord/interactions";
import { CardRepository } from "../../shared/storage/cards";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import type { Issue } from "../../shared/domain/issue";
import { IssueRepository } from "../../shared/storage/issues";
import { deliverBatch } from "../../shared/workflows/deliver";
import { updateDiscordCard } from "../../shared/delivery/discord-sender";
import { anIssue } from "../fixtures/issues";
import { testContext } from "../support/app-context";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { freePort } from "../support/ports";

let app: CountedEmulatedApp;
let discord: DiscordEmulator;
/** Discord's API in an outage: every request answered 503 (as its edge answers when the API is down). */
let outage: { apiUrl: string; stop(): Promise<void> };
/** Where nothing listens: a request to Discord gets no connection. */
let unreachableApiUrl: string;

const HOUR_MS = 60 * 60_000;

/** The app, its clock `aheadMs` ahead of the real one, its Discord API at `apiUrl` (the emulator's by default). */
function appAt(aheadMs = 0, apiUrl = discord.apiUrl): AppContext {
  const config = loadConfig({
    ...app.settings,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_PUBLIC_KEY: discord.publicKey,
    DISCORD_BOT_TOKEN: discord.botToken,
    DISCORD_API_URL: apiUrl,
    DISCORD_ALLOWED_GUILDS: "*",
  });
  return testContext({ config, storage: app.storage, teams: app.context().teams, now: () => new Date(Date.now() + aheadMs) });
}

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "discord-removed",
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d023", tenantId: "72f988bf-0000-4000-8000-000000000023" },
  });
  discord = await startDiscordEmulator();
  outage = await startOutage();
  unreachableApiUrl = `http://127.0.0.1:${await freePort()}/api/v10`;
});
afterEach(() => {
  app.proxy.refuse(undefined);
});
afterAll(async () => {
  await outage?.stop();
  await discord?.stop();
  await app?.stop();
});

async function startOutage() {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(503, { "content-type": "text/plain" }).end("upstream connect error or disconnect/reset before headers");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v10`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let alerts = 0;
/** One alert of a new issue for the channel, planned as alert intake leaves it: `deliver` runs one attempt of it. */
async function plannedAlert(channelId: string, issue: Partial<Issue> = {}) {
  const issueId = `discord-removed-${++alerts}`;
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1, ...issue }), activities: [] }));
  const target: AlertTarget = { provider: "discord", channelId };
  const batch = { alertId: `alert-${issueId}`, issueId, targets: [{ targetKey: targetKey(target), target }] };
  await new DeliveryRepository(app.storage).plan(batch.alertId, issueId, batch.targets[0]!.targetKey, target);
  return {
    issueId,
    async deliver(deliverer = appAt()) {
      await deliverBatch(deliverer, batch);
      return (await new DeliveryRepository(app.storage).get(batch.alertId, batch.targets[0]!.targetKey))!;
    },
  };
}

/** One alert of a new issue for the channel, delivered by `deliverer`: its delivery row afterwards. */
async function alertTo(channelId: string, deliverer = appAt()) {
  const alert = await plannedAlert(channelId);
  return { issueId: alert.issueId, row: await alert.deliver(deliverer) };
}

/** The issue's Discord copy, as the cards table keeps it. */
async function discordCopy(issueId: string) {
  const copy = (await new CardRepository(app.storage).list(issueId)).find((c) => c.provider === "discord");
  if (copy?.provider !== "discord") throw new Error(`no Discord copy of ${issueId}`);
  return copy;
}

/** A channel of a new server whose bot was removed and has just been refused there (the refusal remembered). */
async function refusedChannel(name: string) {
  const channelId = discord.addGuild(name, ["alerts"]).channels[0]!.id;
  expect((await alertTo(channelId)).row.state).toBe("sent");
  removeBot([channelId]);
  expect((await alertTo(channelId)).row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
  return channelId;
}

/** The app's reads of the installations table (where the channels' and servers' rows are) since `mark`. */
const installationReadsSince = (mark: number) =>
  app.proxy.countSince(mark, (r) => r.service === "table" && r.resource === "installations" && r.method === "GET");

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

describe("the hourly re-check meets a passing failure", () => {
  const failures: [string, () => AppContext][] = [
    ["a 503 (Discord down)", () => appAt(HOUR_MS + 60_000, outage.apiUrl)],
    [
      "a 429",
      () => {
        discord.throttleNext({ retryAfterSeconds: 0.01, pathIncludes: "/messages" });
        return appAt(HOUR_MS + 60_000);
      },
    ],
    ["no connection", () => appAt(HOUR_MS + 60_000, unreachableApiUrl)],
  ];

  it.each(failures)("%s: the card waits for its next attempt, which asks again and posts it", async (failure, failing) => {
    const channelId = await refusedChannel(`Re-check meets ${failure}`);
    addBotBack([channelId]);

    const alert = await plannedAlert(channelId);
    expect(await alert.deliver(failing())).toMatchObject({ state: "pending" });
    expect(await alert.deliver(appAt(HOUR_MS + 2 * 60_000))).toMatchObject({ state: "sent" });
    expect(cardsOf(channelId, alert.issueId)).toHaveLength(1);
  });

  it("an edit's re-check meeting a 503 is retried, not dead; the next edit asks again and shows the new state", async () => {
    const channelId = discord.addGuild("Edit re-check", ["alerts"]).channels[0]!.id;
    const posted = await alertTo(channelId);
    const copy = await discordCopy(posted.issueId);
    const resolved = anIssue({ id: copy.issueId, version: 2, status: "resolved" });
    removeBot([channelId]);
    expect(await updateDiscordCard(appAt(), resolved, copy, 1)).toMatchObject({ kind: "dead" });
    addBotBack([channelId]);

    expect(await updateDiscordCard(appAt(HOUR_MS + 60_000, outage.apiUrl), resolved, copy, 1)).toMatchObject({ kind: "retry" });
    expect(await updateDiscordCard(appAt(HOUR_MS + 2 * 60_000), resolved, copy, 2)).toEqual({ kind: "updated" });
    expect(discord.message(channelId, copy.messageId)!.edits).toBe(1); // the refused edit changed nothing
  });
});

describe("storage failing during the re-check", () => {
  it("the card's render failing after the claim: the retry asks Discord again and posts, not dead", async () => {
    // Refused before any card went there; the card names an assignee, whose user in the server it reads to show them.
    const channelId = discord.addGuild("Render fails in re-check", ["alerts"]).channels[0]!.id;
    removeBot([channelId]);
    expect((await alertTo(channelId)).row).toMatchObject({ state: "dead", reason: expect.stringMatching(/Missing Access \(50001\)/) });
    addBotBack([channelId]);

    const alert = await plannedAlert(channelId, { assignee: { email: "ana@contoso.com" } });
    app.proxy.refuse(({ service, url }) => (service === "table" && url.includes("/identities") ? 403 : undefined));
    expect(await alert.deliver(appAt(HOUR_MS + 60_000))).toMatchObject({ state: "pending" });
    app.proxy.refuse(undefined);
    expect(await alert.deliver(appAt(HOUR_MS + 2 * 60_000))).toMatchObject({ state: "sent" });
    expect(cardsOf(channelId, alert.issueId)).toHaveLength(1);
  });
});

describe("storage failing right after a card is posted", () => {
  it("the delivery is sent, and delivering it again posts no second card", async () => {
    const channelId = await refusedChannel("Storage fails after the post");
    addBotBack([channelId]);
    const alert = await plannedAlert(channelId);
    // The installations table refuses writes (403: the SDK doesn't retry it) once the card is in the channel: the
    // re-check can't record that the channel is back.
    app.proxy.refuse(({ service, method, url }) =>
      service === "table" && method !== "GET" && url.includes("/installations") && cardsOf(channelId, alert.issueId).length > 0 ? 403 : undefined,
    );
    const first = await alert.deliver(appAt(HOUR_MS + 60_000));
    app.proxy.refuse(undefined);

    // The alert delivered again (as a retry would be), past the next re-check: still the one card.
    const again = await alert.deliver(appAt(2 * HOUR_MS + 2 * 60_000));
    expect(cardsOf(channelId, alert.issueId)).toHaveLength(1);
    expect(first.state).toBe("sent");
    expect(again.state).toBe("sent");
  });

  it("one write failing after the re-check's card: the next card asks Discord again and goes, not dead for an hour", async () => {
    const channelId = await refusedChannel("One write fails after the post");
    addBotBack([channelId]);
    const alert = await plannedAlert(channelId);
    let refused = 0;
    app.proxy.refuse(({ service, method, url }) =>
      service === "table" && method !== "GET" && url.includes("/installations") && cardsOf(channelId, alert.issueId).length > 0 && refused++ === 0
        ? 403
        : undefined,
    );
    expect(await alert.deliver(appAt(HOUR_MS + 60_000))).toMatchObject({ state: "sent" });

    const next = await alertTo(channelId, appAt(HOUR_MS + 2 * 60_000));
    expect(next.row.state).toBe("sent");
    expect(cardsOf(channelId, next.issueId)).toHaveLength(1);
  });
});

describe("what the app reads to post and edit in a channel", () => {
  it("cards and edits in one channel within 10 s read the channel's and server's rows once", async () => {
    const channelId = discord.addGuild("Busy channel", ["alerts"]).channels[0]!.id;
    const mark = app.proxy.mark();
    const posted = [];
    for (let i = 0; i < 4; i++) posted.push(await alertTo(channelId));
    expect(posted.map((p) => p.row.state)).toEqual(["sent", "sent", "sent", "sent"]);
    expect(installationReadsSince(mark)).toBe(2);

    const editsMark = app.proxy.mark();
    for (const { issueId } of posted) {
      const copy = await discordCopy(issueId);
      expect(await updateDiscordCard(appAt(), anIssue({ id: issueId, version: 2, status: "resolved" }), copy, 1)).toEqual({ kind: "updated" });
    }
    expect(installationReadsSince(editsMark)).toBe(0);
  });
});
