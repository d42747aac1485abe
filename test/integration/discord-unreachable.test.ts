// Discord out of reach is waiting, not failing (README: "Exactly once"): a request that never got a connection
// can't have posted a card, so it is a plain retry and never counts towards "may already be there".
// The app's delivery workflow runs in this process against Azurite and the Discord emulator; "unreachable" is
// DISCORD_API_URL at a port nothing listens on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";
import type { AppContext } from "../../shared/context";
import { loadConfig } from "../../shared/config";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { deliverBatch } from "../../shared/workflows/deliver";
import { anIssue } from "../fixtures/issues";
import { testContext } from "../support/app-context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { freePort } from "../support/ports";

let app: EmulatedApp;
let discord: DiscordEmulator;
/** The deliverer with Discord reachable. */
let reachable: AppContext;
/** The same deliverer with DISCORD_API_URL pointing where nothing listens. */
let unreachable: AppContext;

function deliverer(apiUrl: string): AppContext {
  const config = loadConfig({
    ...app.settings,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_PUBLIC_KEY: discord.publicKey,
    DISCORD_ALLOWED_GUILDS: "*",
    DISCORD_BOT_TOKEN: discord.botToken,
    DISCORD_API_URL: apiUrl,
  });
  return testContext({ config, storage: app.storage, teams: app.context().teams });
}

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "discord-unreachable",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d021", tenantId: "72f988bf-0000-4000-8000-000000000021" },
  });
  discord = await startDiscordEmulator();
  reachable = deliverer(discord.apiUrl);
  unreachable = deliverer(`http://127.0.0.1:${await freePort()}/api/v10`);
});
afterAll(async () => {
  await discord?.stop();
  await app?.stop();
});

/** A stored issue and a planned delivery of one alert of it to `target`, as alert intake leaves them. */
async function planned(name: string, target: AlertTarget) {
  const issueId = `discord-unreachable-${name}`;
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const batch = { alertId: `alert-${name}`, issueId, targets: [{ targetKey: targetKey(target), target }] };
  await new DeliveryRepository(app.storage).plan(batch.alertId, issueId, batch.targets[0]!.targetKey, target);
  return { batch, row: () => new DeliveryRepository(app.storage).get(batch.alertId, batch.targets[0]!.targetKey) };
}

const cardsFor = (channelId: string, issueId: string) =>
  discord.messages(channelId).filter((m) => JSON.stringify(m.components).includes(`~${issueId}`));

describe("Discord unreachable: nothing was sent, so nothing may have been posted", () => {
  it("refused on three attempts (the channel looked up first): still pending, none unconfirmed; Discord back → one card", async () => {
    const channelId = discord.addGuild("Unreachable", ["alerts"]).channels[0]!.id;
    const { batch, row } = await planned("lookup", { provider: "discord", channelId });

    for (let attempt = 1; attempt <= 3; attempt++) {
      expect((await deliverBatch(unreachable, batch)).get(batch.targets[0]!.targetKey)).toBe("retry");
    }
    expect(await row()).toMatchObject({ state: "pending", unconfirmed: 0, reposted: 0 });

    await deliverBatch(reachable, batch);
    expect(await row()).toMatchObject({ state: "sent", unconfirmed: 0, reposted: 0 });
    expect(cardsFor(channelId, batch.issueId)).toHaveLength(1);
  });

  it("the post itself refused on three attempts (the channel already known): still pending, none unconfirmed", async () => {
    const channelId = discord.addGuild("Known channel", ["alerts"]).channels[0]!.id;
    // A card posted there once: the instance knows the channel's guild, so the next delivery goes straight to the post.
    const earlier = await planned("known-earlier", { provider: "discord", channelId });
    await deliverBatch(reachable, earlier.batch);
    expect((await earlier.row())?.state).toBe("sent");
    const { batch, row } = await planned("known", { provider: "discord", channelId });

    for (let attempt = 1; attempt <= 3; attempt++) await deliverBatch(unreachable, batch);
    expect(await row()).toMatchObject({ state: "pending", unconfirmed: 0, reposted: 0 });
    expect(discord.calls.filter((c) => c.method === "GET" && c.path === `/channels/${channelId}`)).toHaveLength(1);
  });
});
