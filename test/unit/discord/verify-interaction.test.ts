import { describe, expect, it } from "vitest";
import { InteractionSigner } from "../../../dev/emulators/discord/signer";
import { discordPublicKey, verifyDiscordRequest } from "../../../shared/discord/verify-interaction";

const discord = new InteractionSigner();
const impostor = new InteractionSigner();
const publicKey = discordPublicKey(discord.publicKeyHex)!;
const body = JSON.stringify({ id: "1100000000000000001", type: 3, token: "t", data: { custom_id: "triage:resolve:i-1" } });
const now = 1_800_000_000_000;
const nowSeconds = now / 1000;

function check(headers: Record<string, string | undefined>, rawBody = body) {
  return verifyDiscordRequest({
    publicKey,
    rawBody,
    signatureHeader: headers["x-signature-ed25519"] ?? null,
    timestampHeader: headers["x-signature-timestamp"] ?? null,
    nowMs: now,
  });
}

describe("Discord interaction signatures (Ed25519 over timestamp + raw body)", () => {
  it("accepts what Discord signed, within the five minutes either way", () => {
    expect(check(discord.headers(body, nowSeconds))).toEqual({ ok: true });
    expect(check(discord.headers(body, nowSeconds - 299))).toEqual({ ok: true });
    expect(check(discord.headers(body, nowSeconds + 299))).toEqual({ ok: true });
  });

  const signed = discord.headers(body, nowSeconds);
  const forgeries: [string, Record<string, string | undefined>, string?][] = [
    ["no signature header", { ...signed, "x-signature-ed25519": undefined }],
    ["no timestamp header", { ...signed, "x-signature-timestamp": undefined }],
    ["no headers at all", {}],
    ["signed by another key", impostor.headers(body, nowSeconds)],
    ["the body changed after signing", signed, body.replace("resolve", "ignore")],
    ["a byte appended to the body", signed, `${body} `],
    ["the timestamp changed after signing", { ...signed, "x-signature-timestamp": String(nowSeconds + 1) }],
    ["stale: signed more than five minutes ago (a replay)", discord.headers(body, nowSeconds - 301)],
    ["from the future: more than five minutes ahead", discord.headers(body, nowSeconds + 301)],
    ["a timestamp that is not a number", { ...signed, "x-signature-timestamp": "yesterday" }],
    ["a signature that is not hex", { ...signed, "x-signature-ed25519": "z".repeat(128) }],
    ["a signature of the wrong length", { ...signed, "x-signature-ed25519": signed["x-signature-ed25519"]!.slice(0, 126) }],
    ["a signature with one bit flipped", { ...signed, "x-signature-ed25519": flipLastBit(signed["x-signature-ed25519"]!) }],
    ["an all-zero signature", { ...signed, "x-signature-ed25519": "0".repeat(128) }],
    [
      "a genuine signature lifted from another interaction",
      { ...signed, "x-signature-ed25519": discord.headers("{}", nowSeconds)["x-signature-ed25519"] },
    ],
  ];
  for (const [kind, headers, rawBody] of forgeries) {
    it(`refuses ${kind}`, () => {
      const verdict = check(headers, rawBody);
      expect(verdict.ok).toBe(false);
    });
  }

  it("reads only a 64-hex-character public key", () => {
    expect(discordPublicKey(discord.publicKeyHex)).toBeDefined();
    expect(discordPublicKey(discord.publicKeyHex.slice(2))).toBeUndefined();
    expect(discordPublicKey("<discord public key>")).toBeUndefined();
  });
});

function flipLastBit(hex: string): string {
  const last = Number.parseInt(hex.slice(-1), 16) ^ 1;
  return hex.slice(0, -1) + last.toString(16);
}
