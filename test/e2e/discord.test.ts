// Discord through the local host and the Discord emulator: the interactions endpoint's verification.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { InteractionSigner } from "../../dev/emulators/discord/signer";
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
