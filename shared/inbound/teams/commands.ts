import { escapeTeamsMarkdown } from "../../cards/text";
import { statusWords, unlinkedWords } from "../identity-words";
import { safeKey } from "../../storage/table";
import { isTeamsConversationId } from "../../domain/ids";
import { personalSendNote, sendTeamsLinkPrompt } from "../../identity/prompts";
import { runCommand, type CommandReply } from "../../workflows/commands";
import { baseConversationId, commandText, conversationTypeOf, tenantOf, type TeamsActivity } from "../../teams/activity";
import { safeSend } from "./safe-send";
import type { AppContext } from "../../context";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor } from "./people";

// What people type to the bot: in a personal chat, or with an @mention in a channel or group chat.
// Translation only: the activity in, the command flow's reply out as a Teams message.

type ConversationType = ReturnType<typeof conversationTypeOf>;

export async function onCommand(bot: AppContext, received: TeamsActivity): Promise<void> {
  const activity = await withSenderObjectId(bot, received);
  const type = conversationTypeOf(activity);
  const tenantId = tenantOf(activity)!;
  const conversationId = baseConversationId(activity);
  const reply = await runCommand(
    {
      provider: "msteams",
      scope: tenantId,
      chatUserId: activity.from.aadObjectId,
      text: commandText(activity),
      conversation: {
        key: `msteams:${safeKey(conversationId)}`,
        personal: type === "personal",
        target: isTeamsConversationId(conversationId) ? { provider: "msteams", conversationId } : undefined,
      },
    },
    {
      storage: bot.storage,
      identities: bot.identities,
      log: (line) => bot.log(`Teams: ${line}`),
      // First contact links a member automatically (when allowed), so "status" and the Assign menu know them.
      beforeCommand: () => identifyActor(bot, activity, tenantId),
      sendLink: () => sendLink(bot, activity, tenantId, type),
    },
  );
  const text = teamsWords(reply, type);
  if (text === undefined) return; // the link card is the answer
  await safeSend(bot, activity.serviceUrl, activity.conversation.id, { type: "message", text, textFormat: "markdown" });
}

/** A command's reply in Teams' words and markdown; undefined when the answer was already sent (the link card). */
export function teamsWords(reply: CommandReply<string | undefined>, type: ConversationType): string | undefined {
  switch (reply.kind) {
    case "help":
      return helpText(type, reply.unknownWord);
    case "invalid":
      return reply.reason;
    case "status":
      return statusWords(reply.identity, WORDING);
    case "link":
      return reply.answer;
    case "unlinked":
      return unlinkedWords(reply.previous, WORDING);
    case "not-subscribable":
      return reply.why === "personal-chat"
        ? "Subscriptions send a project's alerts to a channel: mention me with **subscribe** in that channel."
        : "I can't post alerts to this conversation: its id isn't one I can deliver to.";
    case "subscribed":
      return `Subscribed: alerts for **${reply.project}** at level ${reply.minLevel} or above will be posted here${reply.thread ? "" : ", without replies saying who did what"}.`;
    case "notify":
      if (!reply.person) return "Link your account first (**link**): notices go to the person you are linked as.";
      return reply.on
        ? "Notices on: you'll get a personal message when someone assigns an issue to you or unassigns it."
        : "Notices off: no personal message when issues are assigned to you. **notify on** turns them back on.";
    case "unsubscribed":
      return reply.wasSubscribed ? `Unsubscribed from **${reply.project}**.` : `This conversation wasn't subscribed to **${reply.project}**.`;
    case "subscriptions":
      return reply.subscriptions.length
        ? `Subscribed here:\n\n${reply.subscriptions.map((s) => `- **${s.project}** (${s.minLevel} and above)`).join("\n")}`
        : "No subscriptions here yet. Mention me with **subscribe PROJECT [LEVEL]**.";
    default:
      return unworded(reply);
  }
}

/** A reply kind with no Teams words yet fails the typecheck here, rather than answering with silence. */
function unworded(reply: never): never {
  throw new Error(`no Teams words for the command reply ${(reply as { kind: string }).kind}`);
}

/**
 * Sends the link prompt: in a 1:1 chat, right here (the chat the person is typing in, whatever else is
 * stored); elsewhere, in their 1:1 chat with the bot. Returns what to answer here, if anything.
 */
async function sendLink(bot: AppContext, activity: TeamsActivity, tenantId: string, type: ConversationType): Promise<string | undefined> {
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return "I couldn't send you a link: Teams didn't tell me which account you are. Try again in a minute.";
  const here = type === "personal" ? { serviceUrl: activity.serviceUrl, conversationId: activity.conversation.id } : undefined;
  const user = { serviceUrl: activity.serviceUrl, tenantId, aadObjectId, teamsUserId: activity.from.id, name: activity.from.name };
  const result = await sendTeamsLinkPrompt(bot, user, "Here's your link.", here);
  // Typed in the 1:1 chat and answered there: the link card is the answer.
  if (here && result.sent && !result.replaced) return undefined;
  return personalSendNote(result, "a link");
}

function helpText(type: ConversationType, unknown?: string): string {
  const intro = unknown ? `I don't know "${escapeTeamsMarkdown(unknown)}". ` : "";
  if (type === "personal") {
    return `${intro}I post alert cards you can act on. Commands here: **help**, **status** (who you're linked as), **link**, **unlink**, **notify on|off** (a message when issues are assigned to you). In a channel, mention me with **subscribe PROJECT [LEVEL]**, **unsubscribe PROJECT** or **subscriptions**.`;
  }
  return `${intro}Mention me with: **subscribe PROJECT [LEVEL] [--no-thread]**, **unsubscribe PROJECT**, **subscriptions**, **help**. Use the buttons on a card to resolve, ignore or assign it.`;
}

const WORDING = { command: (words: string) => `**${words}**`, automatically: "automatically, by your Teams account" };
