import { escapeSlack } from "../cards/text";
import { projectAsTyped, type CommandReply } from "../workflows/commands";

/**
 * What differs between platforms when a command's reply is put into words: their markup, how a command is
 * typed, and what they call a conversation. The sentences themselves are written once, below.
 */
export interface CommandWording {
  /** `markdown` (Teams, Discord: `**bold**`) or Slack's `mrkdwn` (`*bold*`). */
  markup: "markdown" | "mrkdwn";
  /** The slash command commands are typed after (Slack, Discord); none: typed as a message to the app (Teams). */
  slash?: string;
  /** How people were linked without signing in, e.g. "automatically, by your Slack email". */
  automatically: string;
  /** Where alerts are subscribed ("channel"), a one-to-one chat with the app ("DM") and a message there. */
  nouns: { place: string; personalChat: string; personalMessage: string };
  help: (unknownWord?: string) => string;
  /** What the app needs to post in a channel, said after subscribing it. */
  postingHint?: string;
  /** Escapes a project's name so it shows as typed in this markup; default: Slack's `&`, `<`, `>` for mrkdwn, nothing for markdown. */
  escape?: (text: string) => string;
  /** How a project's name is typed into a command, as `subscriptions` lists it; default: `projectAsTyped` (quoted when it has spaces). */
  typed?: (project: string) => string;
}

/** A command's reply (but the link prompt, which each platform answers itself) in a platform's words. */
export function commandWords(reply: Exclude<CommandReply, { kind: "link" }>, wording: CommandWording): string {
  const bold = (text: string) => (wording.markup === "mrkdwn" ? `*${text}*` : `**${text}**`);
  const command = (words: string) => (wording.slash ? `\`${wording.slash} ${words}\`` : bold(words));
  const bullet = wording.markup === "mrkdwn" ? "•" : "-";
  const escape = wording.escape ?? (wording.markup === "mrkdwn" ? escapeSlack : (text: string) => text);
  const project = (name: string) => bold(escape(name));
  const typed = wording.typed ?? projectAsTyped;
  const { place, personalChat, personalMessage } = wording.nouns;
  switch (reply.kind) {
    case "help":
      return wording.help(reply.unknownWord);
    case "invalid": {
      // A reason may quote a word as typed ("<!here>" is not a level, "[x](url)"): shown as typed, never as markup.
      const reason = escape(reply.reason);
      return wording.slash ? reason.replace(/^Usage: /, `Usage: ${wording.slash} `) : reason;
    }
    case "status":
      return reply.identity
        ? `You're linked as ${reply.identity.person.email} (${reply.identity.how === "auto" ? wording.automatically : "by sign-in"}).`
        : `You're not linked to anyone yet. Type ${command("link")} to link your account.`;
    case "unlinked":
      return reply.previous
        ? `You're unlinked (you were ${reply.previous.person.email}). Type ${command("link")} to link again.`
        : `You weren't linked. Type ${command("link")} to link your account.`;
    case "not-subscribable":
      return reply.why === "personal-chat"
        ? `Alerts can't be subscribed to in a ${personalChat}: use ${command("subscribe")} in a channel.`
        : `I can't post alerts to this ${place}: its id isn't one I can deliver to.`;
    case "subscribed": {
      const withoutThread = reply.thread ? "" : ", without thread replies saying who did what";
      const said = `Subscribed: alerts for ${project(reply.project)} at level ${reply.minLevel} or above will be posted in this ${place}${withoutThread}.`;
      return wording.postingHint ? `${said} ${wording.postingHint}` : said;
    }
    case "notify":
      if (!reply.person) return `Link your account first (${command("link")}): notices go to the person you are linked as.`;
      return reply.on
        ? `Notices on: you'll get a ${personalMessage} when someone assigns an issue to you or unassigns it.`
        : `Notices off: no ${personalMessage} when issues are assigned to you. ${command("notify on")} turns them back on.`;
    case "unsubscribed":
      return reply.wasSubscribed ? `Unsubscribed from ${project(reply.project)}.` : `This ${place} wasn't subscribed to ${project(reply.project)}.`;
    case "subscriptions":
      // Each name as it is typed (a name with spaces in quotes), so it can be copied into `unsubscribe`.
      return reply.subscriptions.length
        ? `Subscribed in this ${place}:\n\n${reply.subscriptions.map((s) => `${bullet} ${project(typed(s.project))} (${s.minLevel} and above)`).join("\n")}`
        : `No subscriptions in this ${place} yet. Try ${command("subscribe PROJECT [LEVEL]")}.`;
  }
}
