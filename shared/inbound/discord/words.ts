import type { CommandReply } from "../../workflows/commands";
import { statusWords, unlinkedWords } from "../identity-words";

/** A command's reply in Discord's words and markdown. */
export function discordWords(reply: Exclude<CommandReply<string>, { kind: "link" }>): string {
  switch (reply.kind) {
    case "help":
      return reply.unknownWord ? `I don't know "${reply.unknownWord}".\n${HELP}` : HELP;
    case "invalid":
      return reply.reason.replace(/^Usage: /, "Usage: /triage ");
    case "status":
      return statusWords(reply.identity, WORDING);
    case "unlinked":
      return unlinkedWords(reply.previous, WORDING);
    case "not-subscribable":
      return reply.why === "personal-chat"
        ? "Alerts can't be subscribed to in a DM: use `/triage subscribe` in a server channel."
        : "I can't post alerts to this conversation.";
    case "subscribed":
      return `Subscribed: alerts for **${reply.project}** at level ${reply.minLevel} or above will be posted in this channel${reply.thread ? "" : ", without thread replies saying who did what"}. Make sure the app can post here (View Channel, Send Messages, Embed Links).`;
    case "notify":
      if (!reply.person) return "Link your account first (`/triage link`): notices go to the person you are linked as.";
      return reply.on
        ? "Notices on: you'll get a direct message when someone assigns an issue to you or unassigns it."
        : "Notices off: no direct message when issues are assigned to you. `/triage notify on` turns them back on.";
    case "unsubscribed":
      return reply.wasSubscribed ? `Unsubscribed this channel from **${reply.project}**.` : `This channel wasn't subscribed to **${reply.project}**.`;
    case "subscriptions":
      return reply.subscriptions.length
        ? `Subscribed in this channel:\n${reply.subscriptions.map((s) => `• **${s.project}** (${s.minLevel} and above)`).join("\n")}`
        : "No subscriptions in this channel yet. Try `/triage subscribe PROJECT [LEVEL]`.";
  }
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

const WORDING = { command: (words: string) => `\`/triage ${words}\``, automatically: "automatically" };
