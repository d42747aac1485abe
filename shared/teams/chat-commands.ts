import { escapeTeamsMarkdown } from "../cards/text";
import { safeKey } from "../delivery/deliveries";
import { isTeamsConversationId } from "../domain/ids";
import { listSubscriptions, subscribe, unsubscribe } from "../workflows/subscriptions";
import { baseConversationId, commandText, conversationTypeOf, tenantOf, type TeamsActivity } from "./activity";
import { safeSend, type TeamsBot } from "./bot-context";
import { parseCommand } from "./commands";
import { personalSendNote, sendTeamsLinkPrompt } from "../identity/prompts";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor } from "./people";

// What people type to the bot: in a personal chat, or with an @mention in a channel or group chat.

export async function onCommand(bot: TeamsBot, received: TeamsActivity): Promise<void> {
  const activity = await withSenderObjectId(bot, received);
  const command = parseCommand(commandText(activity));
  const type = conversationTypeOf(activity);
  const tenantId = tenantOf(activity)!;
  const conversationId = baseConversationId(activity);
  const conversationKey = `msteams:${safeKey(conversationId)}`;
  // First contact links a member automatically (when allowed), so "status" and the Assign menu know them.
  if (command.name !== "unlink") await identifyActor(bot, activity, tenantId);
  let text: string;
  switch (command.name) {
    case "help":
    case "unknown":
      text = helpText(type, command.name === "unknown" ? command.text : undefined);
      break;
    case "invalid":
      text = command.reason;
      break;
    case "status": {
      const identity = activity.from.aadObjectId
        ? await bot.identities.get("msteams", tenantId, activity.from.aadObjectId)
        : undefined;
      text = identity
        ? `You're linked as ${identity.person.email} (${identity.how === "auto" ? "automatically, by your Teams account" : "by sign-in"}).`
        : "You're not linked to anyone yet. Type **link** to link your account.";
      break;
    }
    case "link": {
      const answer = await sendLink(bot, activity, tenantId, type);
      if (!answer) return; // the link card is the answer
      text = answer;
      break;
    }
    case "unlink": {
      const aadObjectId = activity.from.aadObjectId;
      const previous = aadObjectId ? await bot.identities.unlink("msteams", tenantId, aadObjectId) : undefined;
      text = previous
        ? `You're unlinked (you were ${previous.person.email}). Type **link** to link again.`
        : "You weren't linked. Type **link** to link your account.";
      break;
    }
    case "subscribe":
      if (type === "personal") {
        text = "Subscriptions send a project's alerts to a channel: mention me with **subscribe** in that channel.";
        break;
      }
      // Only an id deliveries accept: a subscription to anything else would fail every alert.
      if (!isTeamsConversationId(conversationId)) {
        bot.log("Teams: subscribe refused: the conversation id is not one alerts can be delivered to");
        text = "I can't post alerts to this conversation: its id isn't one I can deliver to.";
        break;
      }
      await subscribe(bot.storage, {
        conversationKey,
        project: command.project,
        minLevel: command.minLevel,
        target: { provider: "msteams", conversationId },
        createdBy: activity.from.aadObjectId,
      });
      text = `Subscribed: alerts for **${command.project}** at level ${command.minLevel} or above will be posted here.`;
      break;
    case "unsubscribe":
      text = (await unsubscribe(bot.storage, conversationKey, command.project))
        ? `Unsubscribed from **${command.project}**.`
        : `This conversation wasn't subscribed to **${command.project}**.`;
      break;
    case "subscriptions": {
      const subscriptions = await listSubscriptions(bot.storage, conversationKey);
      text = subscriptions.length
        ? `Subscribed here:\n\n${subscriptions.map((s) => `- **${s.project}** (${s.minLevel} and above)`).join("\n")}`
        : "No subscriptions here yet. Mention me with **subscribe PROJECT [LEVEL]**.";
      break;
    }
  }
  await safeSend(bot, activity.serviceUrl, activity.conversation.id, { type: "message", text, textFormat: "markdown" });
}

/**
 * Sends the link prompt: in a 1:1 chat, right here (the chat the person is typing in, whatever else is
 * stored); elsewhere, in their 1:1 chat with the bot. Returns what to answer here, if anything.
 */
async function sendLink(bot: TeamsBot, activity: TeamsActivity, tenantId: string, type: string): Promise<string | undefined> {
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return "I couldn't send you a link: Teams didn't tell me which account you are. Try again in a minute.";
  const here = type === "personal" ? { serviceUrl: activity.serviceUrl, conversationId: activity.conversation.id } : undefined;
  const user = { serviceUrl: activity.serviceUrl, tenantId, aadObjectId, teamsUserId: activity.from.id, name: activity.from.name };
  const result = await sendTeamsLinkPrompt(bot, user, "Here's your link.", here);
  // Typed in the 1:1 chat and answered there: the link card is the answer.
  if (here && result.sent && !result.replaced) return undefined;
  return personalSendNote(result, "a link");
}

function helpText(type: string, unknown?: string): string {
  const intro = unknown ? `I don't know "${escapeTeamsMarkdown(unknown)}". ` : "";
  if (type === "personal") {
    return `${intro}I post alert cards you can act on. Commands here: **help**, **status** (who you're linked as), **link**, **unlink**. In a channel, mention me with **subscribe PROJECT [LEVEL]**, **unsubscribe PROJECT** or **subscriptions**.`;
  }
  return `${intro}Mention me with: **subscribe PROJECT [LEVEL]**, **unsubscribe PROJECT**, **subscriptions**, **help**. Use the buttons on a card to resolve, ignore or assign it.`;
}
