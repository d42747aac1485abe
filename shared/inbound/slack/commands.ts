import { IdentityRepository } from "../../storage/identities";
import { statusWords, unlinkedWords, type IdentityWording } from "../identity-words";
import { slackLinkPrompt } from "../../identity/prompts";
import { runCommand, type CommandReply } from "../../workflows/commands";
import type { SlashCommand } from "../../slack/payloads";
import { ephemeral } from "../../slack/responses";
import type { SlackContext } from "../../context";

type LinkPrompt = Awaited<ReturnType<typeof slackLinkPrompt>>;

/**
 * Answers a slash command in the HTTP response: ephemeral, so only the person who typed it sees it.
 * Translation only: the slash command in, the command flow's reply out as a Slack message.
 */
export async function handleSlashCommand(deps: SlackContext, command: SlashCommand) {
  const name = deps.config.slack?.command ?? "/triage";
  // Whether the app serves the workspace, from storage: no token refresh inside Slack's 3 seconds.
  if (!(await deps.slack.serves(command.team_id))) {
    return ephemeral(
      "Triage Relay isn't installed for this workspace (or not allowed to serve it), so it can't do anything here. Ask an admin to install it.",
    );
  }
  const reply = await runCommand(
    {
      provider: "slack",
      scope: command.team_id,
      chatUserId: command.user_id,
      text: command.text,
      conversation: {
        key: `slack:${command.team_id}:${command.channel_id}`,
        personal: false,
        target: { provider: "slack", teamId: command.team_id, channel: command.channel_id },
      },
    },
    {
      storage: deps.storage,
      identities: new IdentityRepository(deps.storage),
      log: (line) => deps.log(`Slack: ${line}`),
      sendLink: () =>
        slackLinkPrompt(
          deps.config,
          { teamId: command.team_id, userId: command.user_id, name: command.user_name, responseUrl: command.response_url },
          "Here's your link.",
        ),
    },
  );
  return reply.kind === "link" ? reply.answer : ephemeral(slackWords(reply, name));
}

/** A command's reply in Slack's words and mrkdwn, naming the slash command as the workspace knows it. */
export function slackWords(reply: Exclude<CommandReply<LinkPrompt>, { kind: "link" }>, name: string): string {
  switch (reply.kind) {
    case "help":
      return reply.unknownWord ? `I don't know "${reply.unknownWord}".\n${help(name)}` : help(name);
    case "invalid":
      return reply.reason.replace(/^Usage: /, `Usage: ${name} `);
    case "status":
      return statusWords(reply.identity, slackWording(name));
    case "unlinked":
      return unlinkedWords(reply.previous, slackWording(name));
    case "not-subscribable":
      // Not reached: a Slack channel is always a target. Said plainly should that change.
      return "I can't post alerts to this conversation.";
    case "subscribed":
      return `Subscribed: alerts for *${reply.project}* at level ${reply.minLevel} or above will be posted in this channel${reply.thread ? "" : ", without thread replies saying who did what"}. Make sure the app can post here (invite it to private channels).`;
    case "notify":
      if (!reply.person) return `Link your account first (\`${name} link\`): notices go to the person you are linked as.`;
      return reply.on
        ? "Notices on: you'll get a direct message when someone assigns an issue to you or unassigns it."
        : `Notices off: no direct message when issues are assigned to you. \`${name} notify on\` turns them back on.`;
    case "unsubscribed":
      return reply.wasSubscribed ? `Unsubscribed this channel from *${reply.project}*.` : `This channel wasn't subscribed to *${reply.project}*.`;
    case "subscriptions":
      return reply.subscriptions.length
        ? `Subscribed in this channel:\n${reply.subscriptions.map((s) => `• *${s.project}* (${s.minLevel} and above)`).join("\n")}`
        : `No subscriptions in this channel yet. Try \`${name} subscribe PROJECT [LEVEL]\`.`;
  }
}

function help(name: string): string {
  return [
    "Triage Relay posts alert cards you can resolve, ignore and assign from the message.",
    `\`${name} subscribe PROJECT [LEVEL] [--no-thread]\` (LEVEL one of fatal, error, warning, info, debug): post a project's alerts in this channel (\`--no-thread\`: no thread replies saying who did what)`,
    `\`${name} unsubscribe PROJECT\`, \`${name} subscriptions\``,
    `\`${name} status\`: who you're linked as; \`${name} link\`, \`${name} unlink\`; \`${name} notify on|off\`: a direct message when issues are assigned to you`,
  ].join("\n");
}

function slackWording(name: string): IdentityWording {
  return { command: (words) => `\`${name} ${words}\``, automatically: "automatically, by your Slack email" };
}
