import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../../dev/emulators/discord";
import { TRIAGE_COMMANDS } from "../../../shared/discord/commands";
import { registerDiscordCommands } from "../../../shared/discord/register-commands";
import { parseCommand } from "../../../shared/workflows/commands";

let discord: DiscordEmulator;
beforeAll(async () => {
  discord = await startDiscordEmulator();
});
afterAll(async () => {
  await discord?.stop();
});

describe("npm run discord:commands", () => {
  it("PUTs /triage with every subcommand; running it again leaves the same list", async () => {
    const settings = { applicationId: discord.applicationId, botToken: discord.botToken, apiUrl: discord.apiUrl };
    expect(await registerDiscordCommands(settings)).toBe("Registered 1 command(s): /triage");
    expect(await registerDiscordCommands(settings)).toBe("Registered 1 command(s): /triage");
    expect(discord.calls.filter((c) => c.method === "PUT").map((c) => c.status)).toEqual([200, 200]);
    expect(discord.commands).toEqual(TRIAGE_COMMANDS);
  });

  it("registers exactly the command flow's commands", () => {
    const subcommands = ((TRIAGE_COMMANDS[0] as { options?: { name: string }[] }).options ?? []).map((option) => option.name);
    expect(subcommands).toEqual(["help", "status", "link", "unlink", "subscribe", "unsubscribe", "subscriptions", "notify"]);
    for (const name of subcommands) expect(parseCommand(name).name).not.toBe("unknown");
  });

  it("says why when Discord refuses", async () => {
    expect(await registerDiscordCommands({ applicationId: discord.applicationId, botToken: "wrong-token", apiUrl: discord.apiUrl })).toMatch(
      /refused the commands \(401/,
    );
  });
});
