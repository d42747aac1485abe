import type { Config } from "../config";
import { IdentityRepository } from "../identity/identities";
import { slackLinkPrompt } from "../identity/prompts";
import type { StorageClients } from "../storage/clients";
import { parseCommand } from "../teams/commands";
import { listSubscriptions, subscribe, unsubscribe } from "../workflows/subscriptions";
import type { SlackTokens } from "./client";
import type { SlashCommand } from "./payloads";
import { ephemeral } from "./responses";

/** Answers a slash command in the HTTP response: ephemeral, so only the person who typed it sees it. */
export async function handleSlashCommand(deps: { config: Config; storage: StorageClients; slackTokens: SlackTokens }, command: SlashCommand) {
  const name = deps.config.slack?.command ?? "/triage";
  // Whether the app serves the workspace, from storage: no token refresh inside Slack's 3 seconds.
  if (!(await deps.slackTokens.serves(command.team_id))) {
    return ephemeral("Triage Relay isn't installed for this workspace (or not allowed to serve it), so it can't do anything here. Ask an admin to install it.");
  }
  const parsed = parseCommand(command.text);
  const conversationKey = `slack:${command.team_id}:${command.channel_id}`;
  switch (parsed.name) {
    case "help":
      return ephemeral(help(name));
    case "unknown":
      return ephemeral(`I don't know "${parsed.text}".\n${help(name)}`);
    case "invalid":
      return ephemeral(`${parsed.reason.replace(/^Usage: /, `Usage: ${name} `)}`);
    case "status": {
      const identity = await new IdentityRepository(deps.storage).get("slack", command.team_id, command.user_id);
      return ephemeral(
        identity
          ? `You're linked as ${identity.person.email} (${identity.how === "auto" ? "automatically, by your Slack email" : "by sign-in"}).`
          : `You're not linked to anyone yet. Type \`${name} link\` to link your account.`,
      );
    }
    case "link":
      return slackLinkPrompt(deps.config, { teamId: command.team_id, userId: command.user_id, name: command.user_name, responseUrl: command.response_url }, "Here's your link.");
    case "unlink": {
      const previous = await new IdentityRepository(deps.storage).unlink("slack", command.team_id, command.user_id);
      return ephemeral(
        previous
          ? `You're unlinked (you were ${previous.person.email}). Type \`${name} link\` to link again.`
          : `You weren't linked. Type \`${name} link\` to link your account.`,
      );
    }
    case "subscribe":
      await subscribe(deps.storage, {
        conversationKey,
        project: parsed.project,
        minLevel: parsed.minLevel,
        target: { provider: "slack", teamId: command.team_id, channel: command.channel_id },
        createdBy: command.user_id,
      });
      return ephemeral(`Subscribed: alerts for *${parsed.project}* at level ${parsed.minLevel} or above will be posted in this channel. Make sure the app can post here (invite it to private channels).`);
    case "unsubscribe":
      return ephemeral(
        (await unsubscribe(deps.storage, conversationKey, parsed.project))
          ? `Unsubscribed this channel from *${parsed.project}*.`
          : `This channel wasn't subscribed to *${parsed.project}*.`,
      );
    case "subscriptions": {
      const subscriptions = await listSubscriptions(deps.storage, conversationKey);
      return ephemeral(
        subscriptions.length
          ? `Subscribed in this channel:\n${subscriptions.map((s) => `• *${s.project}* (${s.minLevel} and above)`).join("\n")}`
          : `No subscriptions in this channel yet. Try \`${name} subscribe PROJECT [LEVEL]\`.`,
      );
    }
  }
}

function help(name: string): string {
  return [
    "Triage Relay posts alert cards you can resolve, ignore and assign from the message.",
    `\`${name} subscribe PROJECT [LEVEL]\` (LEVEL one of fatal, error, warning, info, debug): post a project's alerts in this channel`,
    `\`${name} unsubscribe PROJECT\`, \`${name} subscriptions\``,
    `\`${name} status\`: who you're linked as; \`${name} link\`, \`${name} unlink\``,
  ].join("\n");
}
