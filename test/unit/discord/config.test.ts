import { describe, expect, it } from "vitest";
import { InteractionSigner } from "../../../dev/emulators/discord/signer";
import { ConfigError, loadConfig } from "../../../shared/config";
import { validSettings } from "../../fixtures/settings";

const publicKey = new InteractionSigner().publicKeyHex;
const discord = {
  DISCORD_APPLICATION_ID: "1100000000000000001",
  DISCORD_PUBLIC_KEY: publicKey,
  DISCORD_BOT_TOKEN: "MTEwMDAwMDAwMDAwMDAwMDAwMQ.GxYz12.abcdefghijklmnopqrstuvwxyz0123",
  DISCORD_ALLOWED_GUILDS: "1100000000000000002",
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig({ ...validSettings(), ...env });
    return [];
  } catch (error) {
    return (error as ConfigError).problems.map((p) => p.setting);
  }
}

describe("Discord settings", () => {
  it("are off without DISCORD_PUBLIC_KEY", () => {
    expect(loadConfig(validSettings()).discord).toBeUndefined();
  });

  it("turn Discord on with the public key, defaulting the API URL", () => {
    const config = loadConfig({ ...validSettings(), ...discord, DISCORD_ALLOWED_GUILDS: "1100000000000000002, 1100000000000000003" });
    expect(config.discord).toEqual({
      applicationId: discord.DISCORD_APPLICATION_ID,
      publicKey,
      botToken: discord.DISCORD_BOT_TOKEN,
      allowedGuilds: ["1100000000000000002", "1100000000000000003"],
      apiUrl: "https://discord.com/api/v10",
    });
  });

  it("name every bad or missing setting, never the value", () => {
    expect(problems({ DISCORD_PUBLIC_KEY: publicKey })).toEqual(["DISCORD_APPLICATION_ID", "DISCORD_BOT_TOKEN", "DISCORD_ALLOWED_GUILDS"]);
    expect(problems({ ...discord, DISCORD_PUBLIC_KEY: "abc123" })).toEqual(["DISCORD_PUBLIC_KEY"]);
    expect(problems({ ...discord, DISCORD_ALLOWED_GUILDS: "checkout" })).toEqual(["DISCORD_ALLOWED_GUILDS"]);
    expect(problems({ ...discord, DISCORD_API_URL: "ftp://discord.example" })).toEqual(["DISCORD_API_URL"]);
    const load = () => loadConfig({ ...validSettings(), ...discord, DISCORD_BOT_TOKEN: "tooshort-secret" });
    expect(load).toThrow(/DISCORD_BOT_TOKEN/);
    expect(load).not.toThrow(/tooshort-secret/);
  });

  it("serve only the guilds listed: none listed refuses to start (a bot is public unless its owner turns that off), * serves any", () => {
    expect(problems({ ...discord, DISCORD_ALLOWED_GUILDS: undefined })).toEqual(["DISCORD_ALLOWED_GUILDS"]);
    expect(problems({ ...discord, DISCORD_ALLOWED_GUILDS: "" })).toEqual(["DISCORD_ALLOWED_GUILDS"]);
    expect(problems({ ...discord, DISCORD_ALLOWED_GUILDS: "*,1100000000000000002" })).toEqual(["DISCORD_ALLOWED_GUILDS"]);
    expect(loadConfig({ ...validSettings(), ...discord, DISCORD_ALLOWED_GUILDS: "*" }).discord?.allowedGuilds).toEqual([]);
  });

  it("refuse the example's <…> placeholders by name", () => {
    expect(problems({ ...discord, DISCORD_PUBLIC_KEY: "<discord public key>", DISCORD_BOT_TOKEN: "<discord bot token>" })).toEqual([
      "DISCORD_PUBLIC_KEY",
      "DISCORD_BOT_TOKEN",
    ]);
  });
});
