import { createPublicKey, verify, type KeyObject } from "node:crypto";
import { signatureHeadersProblem } from "../http";

/** Discord signs each interaction when it sends it; one older than this is a replay (newer: a skewed forgery). */
export const MAX_INTERACTION_AGE_SECONDS = 5 * 60;

export interface DiscordRequestToVerify {
  /** The application's public key as the developer portal shows it: 64 hex characters. */
  publicKey: KeyObject;
  /** The raw body exactly as received. */
  rawBody: string;
  signatureHeader: string | null;
  timestampHeader: string | null;
  nowMs?: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** The portal's hex Ed25519 public key as a key node:crypto verifies with; undefined when it isn't one. */
export function discordPublicKey(hex: string): KeyObject | undefined {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  try {
    return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(hex, "hex").toString("base64url") }, format: "jwk" });
  } catch {
    return undefined;
  }
}

/**
 * Discord's interaction signature: Ed25519 over `X-Signature-Timestamp` + the raw body, hex in
 * `X-Signature-Ed25519`. The timestamp (Unix seconds) must be within five minutes of now, either way.
 */
export function verifyDiscordRequest(request: DiscordRequestToVerify): VerifyResult {
  const { signatureHeader, timestampHeader } = request;
  const problem = signatureHeadersProblem(signatureHeader, timestampHeader, MAX_INTERACTION_AGE_SECONDS, request.nowMs);
  if (problem || !signatureHeader || !timestampHeader) return { ok: false, reason: problem ?? "missing signature headers" };
  if (!/^[0-9a-fA-F]{128}$/.test(signatureHeader)) return { ok: false, reason: "signature is not 64 bytes of hex" };
  const signed = Buffer.from(timestampHeader + request.rawBody, "utf8");
  if (!verify(null, signed, request.publicKey, Buffer.from(signatureHeader, "hex"))) return { ok: false, reason: "signature mismatch" };
  return { ok: true };
}
