import { escapeSlack } from "../../cards/text";
import { IdentityRepository } from "../../storage/identities";
import { channelMarks, SlackChannels } from "../../storage/slack-channels";
import { commandWords } from "../command-words";
import { slackLinkPrompt } from "../../identity/prompts";
import { runCommand, type CommandReply, type PostingStop } from "../../workflows/commands";
import { SlackUnreachableError } from "../../slack/client";
import type { SlashCommand } from "../../slack/payloads";
import { ephemeral, postToResponseUrl } from "../../slack/responses";
import type { SlackContext } from "../../context";
import { AckDeadline } from "./ack-deadline";
import { subscribedWhereStopped, whyStopped } from "./channel-problems";
import { queueChannelCheck } from "./subscribe-check";

type LinkPrompt = Awaited<ReturnType<typeof slackLinkPrompt>>;
type Subscribed = Extract<CommandReply, { kind: "subscribed" }>;

const STILL_WORKING = "Still working on it: this is taking longer than usual. The answer will follow here in a moment.";
/** Without a response_url nothing can follow the answer; every command is safe to type twice. */
const CANT_TELL_YET =
  "This is taking longer than usual, so I can't tell yet whether it worked. Type the command again in a minute: doing it twice is safe.";
const SOMETHING_WENT_WRONG =
  "Something went wrong on our side, so this may not have been done. Type the command again in a minute: doing it twice is safe.";
const SLACK_UNREACHABLE =
  "Triage Relay couldn't reach Slack to check this workspace, so nothing was done. Try again in a minute; if it keeps happening, ask an admin to look at the app's logs.";
/** After the ack a response_url post has no deadline but its own. */
const FOLLOW_UP_TIMEOUT_MS = 5_000;

/**
 * Answers a slash command in the HTTP response: ephemeral, so only the person who typed it sees it, and always within
 * Slack's 3 s. A command whose storage (or, in single-workspace mode, Slack's `auth.test`) isn't done by the ack deadline
 * is answered "still working" and carries on; its answer follows through the command's response_url (30 minutes).
 */
export async function handleSlashCommand(deps: SlackContext, command: SlashCommand, receivedAt = Date.now()) {
  const deadline = new AckDeadline(receivedAt);
  const answering = answerCommand(deps, command);
  const answered = await deadline.race(answering);
  if (answered.inTime) {
    const { answer, subscribed } = answered.value;
    if (subscribed) await queueChannelCheck(deps, command, subscribed, deadline);
    return answer;
  }
  deps.log(
    `Slack: a command not done within the ack budget: answered that it is still being done${command.response_url ? ", the answer follows" : ""}`,
  );
  const responseUrl = command.response_url;
  const followUp = (body: unknown) => (responseUrl ? postToResponseUrl(responseUrl, body, FOLLOW_UP_TIMEOUT_MS) : Promise.resolve(false));
  answering
    .then(
      async ({ answer, subscribed }) => {
        if (!(await followUp(answer))) deps.log("Slack: a late command's answer could not be posted to its response_url");
        if (subscribed) await queueChannelCheck(deps, command, subscribed);
      },
      async (error: Error) => {
        deps.log(`Slack: a late command failed: ${error.name}`);
        await followUp(ephemeral(SOMETHING_WENT_WRONG));
      },
    )
    .catch((error: Error) => deps.log(`Slack: finishing a late command failed: ${error.name}`));
  return ephemeral(responseUrl ? STILL_WORKING : CANT_TELL_YET);
}

/** The command run, and its answer in Slack's words; `subscribed` when a channel check is to follow. */
async function answerCommand(deps: SlackContext, command: SlashCommand): Promise<{ answer: unknown; subscribed?: Subscribed }> {
  const name = deps.config.slack?.command ?? "/triage";
  // Whether the app serves the workspace, from storage: no token refresh inside Slack's 3 seconds.
  let served: boolean | undefined;
  try {
    served = await deps.slack.serves(command.team_id);
  } catch (error) {
    if (!(error instanceof SlackUnreachableError)) throw error;
    deps.log(`Slack: a command not run: ${error.message}`);
    return { answer: ephemeral(SLACK_UNREACHABLE) };
  }
  if (!served) {
    return {
      answer: ephemeral(
        "Triage Relay isn't installed for this workspace (or not allowed to serve it), so it can't do anything here. Ask an admin to install it.",
      ),
    };
  }
  const reply = await runCommand(
    {
      provider: "slack",
      scope: command.team_id,
      chatUserId: command.user_id,
      text: unescapeSlackText(command.text),
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
      postingStops: () => postingStops(deps, command),
    },
  );
  if (reply.kind === "link") return { answer: reply.answer };
  // No channel event said why cards can't come here, but Slack sends none for a private channel the app was never
  // invited to: Slack is asked off the ack, and a second answer follows if the app can't post here.
  const subscribed = reply.kind === "subscribed" && !reply.stopped ? reply : undefined;
  return { answer: ephemeral(slackWords(reply, name)), ...(subscribed ? { subscribed } : {}) };
}

/**
 * Slack escapes `&`, `<` and `>` in all text it sends, a slash command's included, and nothing else. One pass, so
 * an `&lt;` someone typed (sent as `&amp;lt;`) stays `&lt;`.
 */
function unescapeSlackText(text: string): string {
  return text.replace(/&(amp|lt|gt);/g, (_entity, name: string) => (name === "amp" ? "&" : name === "lt" ? "<" : ">"));
}

/**
 * Why the app can't post cards in the command's channel, as Slack's channel events recorded it (removed, archived,
 * deleted). No Slack call is made inside the 3-second ack.
 */
async function postingStops(deps: SlackContext, command: SlashCommand): Promise<PostingStop[]> {
  return channelMarks(await new SlackChannels(deps.storage).get(command.team_id, command.channel_id));
}

/** A command's reply in Slack's words and mrkdwn, naming the slash command as the workspace knows it. */
export function slackWords(reply: Exclude<CommandReply<LinkPrompt>, { kind: "link" }>, name: string): string {
  if (reply.kind === "subscribed" && reply.stopped) return subscribedWhereStopped(reply, reply.stopped, name);
  const words = commandWords(reply, {
    markup: "mrkdwn",
    slash: name,
    automatically: "automatically, by your Slack email",
    nouns: { place: "channel", personalChat: "DM", personalMessage: "direct message" },
    help: (unknownWord) => (unknownWord ? `I don't know "${escapeSlack(unknownWord)}".\n${slackHelp(name)}` : slackHelp(name)),
    postingHint: "Make sure the app can post here (invite it to private channels).",
  });
  if (reply.kind === "subscriptions" && reply.stopped) return `${words}\n\n*Cards are stopped here.* ${whyStopped(reply.stopped)}`;
  return words;
}

/** What the app does and its commands, named as the workspace knows the slash command: `help`'s answer, and a mention's. */
export function slackHelp(name: string): string {
  return [
    "Triage Relay posts alert cards you can resolve, ignore and assign from the message.",
    `\`${name} subscribe PROJECT [LEVEL] [--no-thread]\` (LEVEL one of fatal, error, warning, info, debug): post a project's alerts in this channel (\`--no-thread\`: no thread replies saying who did what)`,
    `\`${name} unsubscribe PROJECT\`, \`${name} subscriptions\``,
    `A PROJECT with spaces goes in quotes: \`${name} subscribe "Resource Health" warning\``,
    `\`${name} status\`: who you're linked as; \`${name} link\`, \`${name} unlink\`; \`${name} notify on|off\`: a direct message when issues are assigned to you`,
  ].join("\n");
}
