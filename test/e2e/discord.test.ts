// Discord through the local host and the Discord emulator: the interactions endpoint's verification, cards
// posted to channels, clicks and commands through the one flows, copies kept in step with Teams and Slack.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { InteractionSigner } from "../../dev/emulators/discord/signer";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let discord: DiscordEmulator;
const url = () => `${stack.api}/discord/interactions`;

beforeAll(async () => {
  stack = await startStack();
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
    const card = await waitFor(() => cardOf(channelId, "discord-card"), { timeoutMs: 15_000 });
    expect(embedText(card)).toContain("TypeError: cart is undefined");
    expect(JSON.stringify(card.components)).toContain("resolve~discord-card");
  });
});
