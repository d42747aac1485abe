import { createHmac, timingSafeEqual } from "node:crypto";
import { signatureHeadersProblem } from "../http";

/** Slack allows five minutes of clock difference; we reject older *and* newer timestamps (replays, skewed forgeries). */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SlackRequestToVerify {
  signingSecret: string;
  /** The raw body exactly as received: never a re-serialised one. */
  rawBody: string;
  timestampHeader: string | null;
  signatureHeader: string | null;
  nowMs?: number;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * Slack's v0 request signature: hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret,
 * compared in constant time. Modelled on bolt-js `verify-request.ts`, with the future-timestamp check
 * it lacks and no throw on missing headers.
 */
export function verifySlackRequest(request: SlackRequestToVerify): VerifyResult {
  const { timestampHeader, signatureHeader } = request;
  const problem = signatureHeadersProblem(signatureHeader, timestampHeader, MAX_CLOCK_SKEW_SECONDS, request.nowMs);
  if (problem || !signatureHeader || !timestampHeader) return { ok: false, reason: problem ?? "missing signature headers" };
  const [version, signature] = signatureHeader.split("=", 2);
  if (version !== "v0" || !signature || !/^[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: "unknown signature version or format" };
  const expected = createHmac("sha256", request.signingSecret).update(`v0:${timestampHeader}:${request.rawBody}`).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return { ok: false, reason: "signature mismatch" };
  return { ok: true };
}
