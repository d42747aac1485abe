import { describe, expect, it } from "vitest";
import { presentedToken, sentrySignature, sentrySignatureValid, tokenAccepted } from "../../../shared/ingest/auth";
import { sampleText } from "./fixtures";

const TOKENS = ["a".repeat(32), "rotated-token-0123456789abcdef0123456789"];

describe("ingest authentication", () => {
  it("takes the bearer token, else ?token=", () => {
    expect(presentedToken(`Bearer ${TOKENS[0]}`, new URLSearchParams())).toBe(TOKENS[0]);
    expect(presentedToken(null, new URLSearchParams({ token: TOKENS[1]! }))).toBe(TOKENS[1]);
    expect(presentedToken("Basic abc", new URLSearchParams())).toBeUndefined();
  });

  it("accepts any configured token (rotation: add, then remove) and nothing else", () => {
    expect(tokenAccepted(TOKENS[0], TOKENS)).toBe(true);
    expect(tokenAccepted(TOKENS[1], TOKENS)).toBe(true);
    expect(tokenAccepted(TOKENS[0]!.slice(1), TOKENS)).toBe(false);
    expect(tokenAccepted(undefined, TOKENS)).toBe(false);
  });

  it("Sentry-Hook-Signature: HMAC-SHA256 (hex) of the raw body with the client secret", () => {
    const body = sampleText("sentry-event-alert");
    const secret = "sentry-client-secret";
    const signature = sentrySignature(body, secret);
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(sentrySignatureValid(body, signature, secret)).toBe(true);
    expect(sentrySignatureValid(body.replace("heck", "hack"), signature, secret)).toBe(false);
    expect(sentrySignatureValid(body, sentrySignature(body, "another secret"), secret)).toBe(false);
    expect(sentrySignatureValid(body, null, secret)).toBe(false);
    expect(sentrySignatureValid(body, signature, undefined)).toBe(false);
  });
});
