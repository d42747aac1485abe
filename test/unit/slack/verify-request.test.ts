import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifySlackRequest } from "../../../shared/slack/verify-request";

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const body = "token=x&team_id=T1&command=%2Ftriage&text=help";
const now = 1_700_000_000_000;
const ts = String(now / 1000);
const sign = (timestamp: string, raw = body, key = secret) => `v0=${createHmac("sha256", key).update(`v0:${timestamp}:${raw}`).digest("hex")}`;

describe("Slack request verification (clock injected)", () => {
  it("accepts a correct signature", () => {
    expect(verifySlackRequest({ signingSecret: secret, rawBody: body, timestampHeader: ts, signatureHeader: sign(ts), nowMs: now })).toEqual({
      ok: true,
    });
  });

  it.each([
    ["missing timestamp", { timestampHeader: null }],
    ["missing signature", { signatureHeader: null }],
    ["wrong secret", { signatureHeader: sign(ts, body, "other") }],
    ["changed body", { rawBody: `${body}&x=1` }],
    ["5 min 1 s old", { nowMs: now + 301_000 }],
    ["5 min 1 s in the future", { nowMs: now - 301_000 }],
    ["non-numeric timestamp", { timestampHeader: "1700000000.5" }],
    ["unknown version", { signatureHeader: sign(ts).replace("v0=", "v1=") }],
    ["truncated signature", { signatureHeader: sign(ts).slice(0, 40) }],
  ])("refuses: %s", (_name, change) => {
    const request = { signingSecret: secret, rawBody: body, timestampHeader: ts, signatureHeader: sign(ts), nowMs: now, ...change };
    expect(verifySlackRequest(request).ok).toBe(false);
  });

  it("accepts exactly five minutes of skew either way", () => {
    for (const nowMs of [now + 300_000, now - 300_000]) {
      expect(verifySlackRequest({ signingSecret: secret, rawBody: body, timestampHeader: ts, signatureHeader: sign(ts), nowMs }).ok).toBe(true);
    }
  });
});
