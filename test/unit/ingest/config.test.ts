import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../shared/config";
import { validSettings } from "../../fixtures/settings";

describe("ingest settings", () => {
  it("INGEST_TOKENS unset: ingest is off", () => {
    expect(loadConfig(validSettings()).ingest).toBeUndefined();
  });

  it("comma-separated tokens, each at least 32 characters, and the Sentry client secret", () => {
    const config = loadConfig(validSettings({ INGEST_TOKENS: ` ${"a".repeat(32)} , ${"b".repeat(40)}`, SENTRY_CLIENT_SECRET: "sentry-secret" }));
    expect(config.ingest).toEqual({ tokens: ["a".repeat(32), "b".repeat(40)], sentryClientSecret: "sentry-secret" });
  });

  it("a short token refuses to start, naming the setting and never the value", () => {
    const short = "short-token-value";
    let error: unknown;
    try {
      loadConfig(validSettings({ INGEST_TOKENS: `${"a".repeat(32)},${short}` }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting)).toEqual(["INGEST_TOKENS"]);
    expect((error as Error).message).not.toContain(short);
  });
});
