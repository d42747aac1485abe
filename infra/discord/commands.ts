// npm run discord:commands: registers `/triage` and its subcommands for the app (PUT the whole list: idempotent).
// Reads DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN and DISCORD_API_URL (optional) from the environment.
import { registerDiscordCommands } from "../../shared/discord/register-commands";

const applicationId = process.env.DISCORD_APPLICATION_ID?.trim();
const botToken = process.env.DISCORD_BOT_TOKEN?.trim();
if (!applicationId || !botToken) {
  console.error("Set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (and DISCORD_API_URL for an emulator).");
  process.exit(2);
}
void registerDiscordCommands({ applicationId, botToken, apiUrl: process.env.DISCORD_API_URL?.trim() || "https://discord.com/api/v10" }).then(
  (result) => {
    console.log(result);
    process.exit(result.startsWith("Registered") ? 0 : 1);
  },
);
