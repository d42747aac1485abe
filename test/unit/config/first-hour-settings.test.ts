import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, SETTING_NAMES } from "../../../shared/config";
import { validSettings } from "../../fixtures/settings";

const example = (
  JSON.parse(readFileSync(new URL("../../../local.settings.example.json", import.meta.url), "utf8")) as { Values: Record<string, string> }
).Values;

function problemsOf(env: Record<string, string | undefined>): { setting: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("local.settings.example.json, copied as is", () => {
  it("is refused for its placeholders only, each named, and not for its empty optional settings", () => {
    const problems = problemsOf(example);
    const placeholders = Object.entries(example)
      .filter(([, value]) => value.startsWith("<"))
      .map(([name]) => name);
    expect(placeholders.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.setting).sort()).toEqual([...placeholders].sort());
    for (const problem of problems) expect(problem.message).toMatch(/placeholder/);
    expect(problems.map((p) => p.message).join("\n")).not.toMatch(/Invalid URL/);
  });

  it("loads once the placeholders are filled in: empty optional settings are off", () => {
    const filled = {
      ...example,
      MicrosoftAppId: "6a1d3c2e-0000-4000-8000-00000000b07a",
      MicrosoftAppPassword: "a-client-secret",
      MicrosoftAppTenantId: "11111111-1111-1111-1111-111111111111",
      SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543",
      LINK_SIGNING_KEY: "3c9e1f7a20b84d6e5a1c0f9b7d2e4a86c1f3b5d7e9a0c2e4f6a8b0d1c3e5f7a9",
    };
    const config = loadConfig(filled);
    expect(config.oidc).toBeUndefined();
    expect(config.bot.serviceUrlHosts).toContain("smba.trafficmanager.net");
    expect(config.slack?.command).toBe("/triage");
  });
});

describe("an empty value means unset, for every optional setting", () => {
  it.each([
    ["OIDC_ISSUER"],
    ["BOT_OPENID_METADATA_URL"],
    ["SLACK_API_URL"],
    ["SLACK_COMMAND"],
    ["CARD_REFRESH_COALESCE_SECONDS"],
    ["RENOTIFY_HOURS"],
    ["IDENTITY_AUTO_LINK"],
    ["INGEST_TOKENS"],
  ])("%s empty is the same as absent", (name) => {
    const absent = loadConfig({ ...validSettings(), [name]: undefined });
    const empty = loadConfig({ ...validSettings(), [name]: "" });
    expect(JSON.stringify(empty)).toBe(JSON.stringify(absent));
  });

  it("a required setting left empty is still required", () => {
    expect(problemsOf({ ...validSettings(), MicrosoftAppId: "  " }).map((p) => p.setting)).toEqual(["MicrosoftAppId"]);
  });
});

describe("local.settings.example.json lists every setting", () => {
  it("names each setting the app reads, so a developer copying it sees them all", () => {
    const unlisted = SETTING_NAMES.filter((name) => !(name in example) && !name.startsWith("AzureWebJobsStorage__"));
    expect(unlisted).toEqual([]);
  });
});
