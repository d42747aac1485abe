import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../shared/config";
import { validSettings } from "../../fixtures/settings";

const TOKEN_A = "5d1f0c9a7e2b48e6a3c1f70b9d24e8a6";
const TOKEN_B = "ingest-b-7c3e91f04a2d6b58e0f1c9a3d7b2";
const SENTRY_SECRET = "b41e7a0c93f25d68e1a4c7f0b29d36e5a8c1f4b7e0d39a62c5f8b1e4a7d0c3f6";

describe("ingest settings", () => {
  it("INGEST_TOKENS unset: ingest is off", () => {
    expect(loadConfig(validSettings()).ingest).toBeUndefined();
  });

  it("comma-separated tokens, each at least 32 characters, and the Sentry client secret", () => {
    const config = loadConfig(validSettings({ INGEST_TOKENS: ` ${TOKEN_A} , ${TOKEN_B}`, SENTRY_CLIENT_SECRET: SENTRY_SECRET }));
    expect(config.ingest).toEqual({ tokens: [TOKEN_A, TOKEN_B], sentryClientSecret: SENTRY_SECRET });
  });

  it.each([
    ["INGEST_TOKENS", "x".repeat(32)],
    ["INGEST_TOKENS", "changeme-changeme-changeme-changeme-"],
    ["SENTRY_CLIENT_SECRET", "sentry-secret"],
    ["SENTRY_CLIENT_SECRET", "0123".repeat(16)],
  ])("%s that anyone could guess (short, or a pattern repeated) refuses to start", (setting, value) => {
    const settings = validSettings({ INGEST_TOKENS: TOKEN_A, [setting]: value });
    expect(() => loadConfig(settings)).toThrow(ConfigError);
    try {
      loadConfig(settings);
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.setting)).toEqual([setting]);
      expect((error as Error).message).not.toContain(value);
    }
  });

  it("a short token refuses to start, naming the setting and never the value", () => {
    const short = "short-token-value";
    let error: unknown;
    try {
      loadConfig(validSettings({ INGEST_TOKENS: `${TOKEN_A},${short}` }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting)).toEqual(["INGEST_TOKENS"]);
    expect((error as Error).message).not.toContain(short);
  });
});
