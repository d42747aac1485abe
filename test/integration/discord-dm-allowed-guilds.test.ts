// DISCORD_ALLOWED_GUILDS holds for a card in a DM too: a click there carries no guild_id, so the guild is the one
// the card was sent for (its stored copy), and that guild must be allowed. The interactions endpoint's handler runs
// in this process against Azurite and the Discord emulator, which signs the interactions as Discord does.
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator, type DiscordUser } from "../../dev/emulators/discord";
import { loadConfig } from "../../shared/config";
import type { AppContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { handleDiscordInteraction } from "../../shared/inbound/discord/interactions";
import { CardRepository } from "../../shared/storage/cards";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { DiscordGuilds } from "../../shared/storage/discord-guilds";
import { IssueRepository } from "../../shared/storage/issues";
import { deliverBatch } from "../../shared/workflows/deliver";
import { anIssue } from "../fixtures/issues";
import { testContext } from "../support/app-context";
import { linkedDiscordUser } from "../support/discord";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";

let app: EmulatedApp;
let discord: DiscordEmulator;
let allowedGuild: string;
let otherGuild: string;

/** The app with these Discord settings: `allowedGuilds` empty serves every guild. */
function appWith(allowedGuilds: string[]): AppContext {
  const config = loadConfig({
    ...app.settings,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_PUBLIC_KEY: discord.publicKey,
    DISCORD_BOT_TOKEN: discord.botToken,
    DISCORD_API_URL: discord.apiUrl,
    DISCORD_ALLOWED_GUILDS: allowedGuilds.length > 0 ? allowedGuilds.join(",") : "*",
  });
  return testContext({ config, storage: app.storage, teams: app.context().teams });
}

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "discord-dm-allowed",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d022", tenantId: "72f988bf-0000-4000-8000-000000000022" },
  });
  discord = await startDiscordEmulator();
  allowedGuild = discord.addGuild("Checkout", ["alerts"]).guild.id;
  otherGuild = discord.addGuild("Elsewhere", ["alerts"]).guild.id;
});
afterAll(async () => {
  await discord?.stop();
  await app?.stop();
});

const linkedUser = (name: string, guildId: string) => linkedDiscordUser(discord, app.storage, name, guildId);

/** The issue's card delivered to the user's DM for `guildId`, by the app as it was then (serving every guild). */
async function cardInDm(issueId: string, user: DiscordUser, guildId: string) {
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const target: AlertTarget = { provider: "discord", guildId, userEmail: `${user.username}@contoso.com` };
  const batch = { alertId: `alert-${issueId}`, issueId, targets: [{ targetKey: targetKey(target), target }] };
  await new DeliveryRepository(app.storage).plan(batch.alertId, issueId, batch.targets[0]!.targetKey, target);
  await deliverBatch(appWith([]), batch);
  const [copy] = await new CardRepository(app.storage).list(issueId);
  if (copy?.provider !== "discord") throw new Error("no Discord copy was stored");
  expect(copy.guildId).toBe(guildId);
  return copy;
}

/** A component click as Discord sends it to the interactions endpoint, signed, answered by the handler. */
async function click(ctx: AppContext, interaction: Record<string, unknown>) {
  const body = JSON.stringify(interaction);
  const request = new HttpRequest({
    method: "POST",
    url: "http://localhost/api/discord/interactions",
    headers: { "content-type": "application/json", ...discord.signer.headers(body) },
    body: { string: body },
  });
  return handleDiscordInteraction(request, ctx, new InvocationContext({ functionName: "discordInteractions", logHandler: () => {} }));
}

describe("a card clicked in a DM, and DISCORD_ALLOWED_GUILDS", () => {
  it("the card was sent for a guild not allowed: refused ephemerally, the issue, the card and the guild's record unchanged", async () => {
    const bea = await linkedUser("bea", otherGuild);
    const copy = await cardInDm("dm-elsewhere", bea, otherGuild);
    const before = (await new IssueRepository(app.storage).get("dm-elsewhere"))!.issue;
    const interaction = discord.componentClick({ user: bea, channelId: copy.channelId, messageId: copy.messageId, customId: "resolve~dm-elsewhere" });
    expect(interaction).not.toHaveProperty("guild_id");

    const answer = await click(appWith([allowedGuild]), interaction);

    expect(answer).toMatchObject({ status: 200, jsonBody: { type: 4, data: { flags: 64 } } });
    expect(String((answer.jsonBody as { data: { content: string } }).data.content)).toMatch(/isn't allowed to serve this server/);
    const after = (await new IssueRepository(app.storage).get("dm-elsewhere"))!.issue;
    expect(after).toMatchObject({ version: before.version, status: "unresolved" });
    expect(discord.message(copy.channelId, copy.messageId)!.edits).toBe(0);
    expect(await new DiscordGuilds(app.storage).isKnown(otherGuild)).toBe(false);
  });

  it("the card was sent for an allowed guild: the click is applied", async () => {
    const cy = await linkedUser("cy", allowedGuild);
    const copy = await cardInDm("dm-allowed", cy, allowedGuild);
    const interaction = discord.componentClick({ user: cy, channelId: copy.channelId, messageId: copy.messageId, customId: "resolve~dm-allowed" });

    const answer = await click(appWith([allowedGuild]), interaction);

    expect(answer).toMatchObject({ status: 200, jsonBody: { type: 7 } });
    expect((await new IssueRepository(app.storage).get("dm-allowed"))!.issue.status).toBe("resolved");
  });
});
