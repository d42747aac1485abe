import { escapeDiscordMarkdown } from "../../cards/text";
import type { CommandReply } from "../../workflows/commands";
import { commandWords } from "../command-words";

/** A command's reply in Discord's words and markdown. */
export function discordWords(reply: Exclude<CommandReply<string>, { kind: "link" }>): string {
  return commandWords(reply, {
    markup: "markdown",
    slash: "/triage",
    automatically: "automatically",
    nouns: { place: "channel", personalChat: "DM", personalMessage: "direct message" },
    help: (unknownWord) => (unknownWord ? `I don't know "${escapeDiscordMarkdown(unknownWord)}".\n${HELP}` : HELP),
    postingHint:
      "Make sure the app can post here (View Channel, Send Messages, Embed Links; for thread lines, Create Public Threads and Send Messages in Threads).",
    escape: escapeDiscordMarkdown,
    // The project option takes a name as it is: quotes typed there would be part of it.
    typed: (project) => project,
  });
}

const HELP = [
  "Triage Relay posts alert cards you can resolve, ignore and assign from the message.",
  "`/triage subscribe PROJECT [LEVEL]` (LEVEL one of fatal, error, warning, info, debug): post a project's alerts in this channel",
  "`/triage unsubscribe PROJECT`, `/triage subscriptions`",
  "`/triage status`: who you're linked as; `/triage link`, `/triage unlink`; `/triage notify on|off`: a direct message when issues are assigned to you",
].join("\n");

/** What an unlinked person is told, with their link (none: explicit linking is off). */
export function linkWords(url: string | undefined, why: string): string {
  if (!url) return `${why} Linking isn't set up on this app (no sign-in provider): ask whoever runs Triage Relay.`;
  return `${why} Link your Discord account to your work account: ${url} (works once, for 15 minutes).`;
}
