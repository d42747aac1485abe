import { TRIAGE_COMMANDS } from "./commands";
import { DiscordRest } from "./rest";

/** PUTs the app's global commands (replacing the list: running it again changes nothing). Returns a line to print. */
export async function registerDiscordCommands(settings: { applicationId: string; botToken: string; apiUrl: string }): Promise<string> {
  const rest = new DiscordRest({ apiUrl: settings.apiUrl.replace(/\/+$/, ""), botToken: settings.botToken });
  const result = await rest.request<unknown[]>("PUT", `/applications/${settings.applicationId}/commands`, TRIAGE_COMMANDS);
  switch (result.kind) {
    case "ok":
      return `Registered ${result.body.length} command(s): ${TRIAGE_COMMANDS.map((c) => `/${c.name}`).join(", ")}`;
    case "throttled":
      return `Discord rate limit: try again in ${Math.ceil(result.retryAfterSeconds)}s`;
    case "error":
      return `Discord refused the commands (${result.status}${result.code ? ` ${result.code}` : ""}): ${result.message}`;
    case "unanswered":
      return "Discord didn't answer: check DISCORD_API_URL and the network";
  }
}
