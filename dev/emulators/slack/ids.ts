import { createHash, randomBytes, randomInt } from "node:crypto";

const UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomFrom(alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

function digits(length: number): string {
  return randomFrom("0123456789", length);
}

/** A Slack-style object id: one prefix letter (T, C, U, D, B, A, V…) and uppercase alphanumerics. */
export function slackId(prefix: string, length = 10): string {
  return prefix + randomFrom(UPPER_ALNUM, length);
}

/** Same shape as `slackId` but derived from `seed`, so the same input always yields the same id. */
export function stableSlackId(prefix: string, seed: string, length = 10): string {
  const hash = createHash("sha256").update(seed).digest();
  let out = prefix;
  for (let i = 0; i < length; i++) out += UPPER_ALNUM[hash[i]! % UPPER_ALNUM.length];
  return out;
}

export const tokens = {
  bot: () => `xoxb-${digits(12)}-${digits(13)}-${randomFrom(ALNUM, 24)}`,
  rotatingBot: () => `xoxe.xoxb-1-${randomFrom(ALNUM, 40)}`,
  refresh: () => `xoxe-1-${randomFrom(ALNUM, 40)}`,
  oauthCode: () => `${digits(10)}.${digits(13)}.${randomBytes(32).toString("hex")}`,
  /** The deprecated verification token that Slack still puts in payloads. */
  verification: () => randomFrom(ALNUM, 24),
  trigger: () => `${digits(13)}.${digits(12)}.${randomBytes(16).toString("hex")}`,
  /** The opaque part of a response_url. */
  responseUrl: () => randomBytes(18).toString("base64url"),
  /** Slack's auto-generated block ids are 5 characters. */
  blockId: () => randomFrom(ALNUM, 5),
  eventId: () => `Ev${randomFrom(UPPER_ALNUM, 10)}`,
  clientSecret: () => randomBytes(16).toString("hex"),
  clientId: () => `${digits(12)}.${digits(13)}`,
  requestId: () => randomBytes(16).toString("hex"),
};
