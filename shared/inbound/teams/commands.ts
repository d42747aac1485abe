import { NO_SIGN_IN_LINKING } from "../../cards/link-prompts";
import { escapeTeamsMarkdown } from "../../cards/text";
import { commandWords } from "../command-words";
import { safeKey } from "../../storage/table";
import { isTeamsConversationId } from "../../domain/ids";
import { ProfileReadUnavailable } from "../../identity/auto-link";
import { personalSendNote, sendTeamsLinkPrompt } from "../../identity/prompts";
import { parseCommand, runCommand, type CommandReply, type ParsedCommand } from "../../workflows/commands";
import { baseConversationId, commandText, conversationTypeOf, tenantOf, type TeamsActivity } from "../../teams/activity";
import { safeSend } from "./safe-send";
import type { AppContext } from "../../context";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor, linkPromptOffersLink } from "./people";

// What people type to the bot: in a personal chat, or with an @mention in a channel or group chat.
// Translation only: the activity in, the command flow's reply out as a Teams message.

type ConversationType = ReturnType<typeof conversationTypeOf>;

/** Answered from what was typed alone: help, and what an unknown word or a malformed command gets. */
const ASKS_NOBODY: ReadonlySet<ParsedCommand["name"]> = new Set(["help", "unknown", "invalid"]);
/** About the sender themselves: answered only once Teams has said who they are. */
const ABOUT_THE_SENDER: ReadonlySet<ParsedCommand["name"]> = new Set(["status", "notify"]);
const COULD_NOT_LOOK_YOU_UP = "I couldn't look you up in Teams just now, so I can't answer that yet. Try again in a minute.";

export async function onCommand(ctx: AppContext, received: TeamsActivity): Promise<void> {
  const text = decodeHtmlEntities(commandText(received));
  const command = parseCommand(text).name;
  const asksNobody = ASKS_NOBODY.has(command);
  const activity = asksNobody ? received : await withSenderObjectId(ctx, received);
  const type = conversationTypeOf(activity);
  const tenantId = tenantOf(activity)!;
  const conversationId = baseConversationId(activity);
  const say = (answer: string) =>
    safeSend(
      ctx,
      { serviceUrl: activity.serviceUrl, conversationId: activity.conversation.id, tenantId },
      {
        type: "message",
        text: answer,
        textFormat: "markdown",
      },
    );
  let reply: CommandReply<string | undefined>;
  try {
    reply = await runCommand(
      {
        provider: "msteams",
        scope: tenantId,
        chatUserId: activity.from.aadObjectId,
        text,
        conversation: {
          key: `msteams:${safeKey(conversationId)}`,
          personal: type === "personal",
          target: isTeamsConversationId(conversationId) ? { provider: "msteams", conversationId } : undefined,
        },
      },
      {
        storage: ctx.storage,
        identities: ctx.identities,
        log: (line) => ctx.log(`Teams: ${line}`),
        beforeCommand: asksNobody ? undefined : () => identifySender(ctx, activity, tenantId, command),
        sendLink: () => sendLink(ctx, activity, tenantId, type),
      },
    );
  } catch (error) {
    if (!(error instanceof ProfileReadUnavailable)) throw error;
    await say(COULD_NOT_LOOK_YOU_UP);
    return;
  }
  const answer = teamsWords(reply, type);
  if (answer !== undefined) await say(answer); // undefined: the link card is the answer
}

/**
 * First contact links a member automatically (when allowed), so "status" and the Assign menu know them. When Teams
 * can't say who they are just now, a command about them throws (`ProfileReadUnavailable`); any other goes on.
 */
async function identifySender(ctx: AppContext, activity: TeamsActivity, tenantId: string, command: ParsedCommand["name"]): Promise<void> {
  try {
    await identifyActor(ctx, activity, tenantId);
  } catch (error) {
    if (!(error instanceof ProfileReadUnavailable)) throw error;
    ctx.log(`Teams: could not look up who typed "${command}": ${error.reason}`);
    if (ABOUT_THE_SENDER.has(command)) throw error;
  }
}

/** A command's reply in Teams' words and markdown; undefined when the answer was already sent (the link card). */
export function teamsWords(reply: CommandReply<string | undefined>, type: ConversationType): string | undefined {
  if (reply.kind === "link") return reply.answer;
  return commandWords(reply, { ...TEAMS_WORDING, help: (unknownWord) => helpText(type, unknownWord) });
}

/**
 * Sends the link prompt: in a 1:1 chat, right here (the chat the person is typing in, whatever else is
 * stored); elsewhere, in their 1:1 chat with the bot. Returns what to answer here, if anything.
 */
async function sendLink(ctx: AppContext, activity: TeamsActivity, tenantId: string, type: ConversationType): Promise<string | undefined> {
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return "I couldn't send you a link: Teams didn't tell me which account you are. Try again in a minute.";
  const here = type === "personal" ? { serviceUrl: activity.serviceUrl, conversationId: activity.conversation.id } : undefined;
  const user = { serviceUrl: activity.serviceUrl, tenantId, aadObjectId, teamsUserId: activity.from.id, name: activity.from.name };
  const result = await sendTeamsLinkPrompt(ctx, user, "Here's your link.", here);
  // Typed in the 1:1 chat and answered there: the link card is the answer.
  if (here && result.sent && !result.replaced) return undefined;
  return linkPromptOffersLink(ctx) ? personalSendNote(result, "a link") : `${NO_SIGN_IN_LINKING}. ${personalSendNote(result, "the details")}`;
}

function helpText(type: ConversationType, unknown?: string): string {
  const intro = unknown ? `I don't know "${escapeTeamsMarkdown(unknown)}". ` : "";
  if (type === "personal") {
    return `${intro}I post alert cards you can act on. Commands here: **help**, **status** (who you're linked as), **link**, **unlink**, **notify on|off** (a message when issues are assigned to you). In a channel, mention me with **subscribe PROJECT [LEVEL]**, **unsubscribe PROJECT** or **subscriptions**. ${QUOTING_HELP}`;
  }
  return `${intro}Mention me with: **subscribe PROJECT [LEVEL] [--no-thread]**, **unsubscribe PROJECT**, **subscriptions**, **help**. ${QUOTING_HELP} Use the buttons on a card to resolve, ignore or assign it.`;
}

const QUOTING_HELP = 'A PROJECT with spaces goes in quotes: **subscribe "Resource Health" warning**.';

/** The characters of the entities Teams writes in message text for what people typed (`"` as `&quot;`). */
const NAMED_ENTITIES: Record<string, string> = {
  amp: "&",
  lt: "<",
  gt: ">",
  quot: '"',
  apos: "'",
  nbsp: " ",
  ldquo: "“",
  rdquo: "”",
  bdquo: "„",
  lsquo: "‘",
  rsquo: "’",
};

/** Teams' message text is HTML: a quote typed in a command may come as `&quot;` or `&#34;`. */
function decodeHtmlEntities(text: string): string {
  return text.replace(/&(?:#(\d{1,7})|#x([0-9a-f]{1,6})|([a-z]+));/gi, (entity, decimal?: string, hex?: string, name?: string) => {
    if (name) return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
    const code = decimal ? Number(decimal) : Number.parseInt(hex!, 16);
    const isScalar = code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    return isScalar ? String.fromCodePoint(code) : entity;
  });
}

const TEAMS_WORDING = {
  markup: "markdown",
  escape: escapeTeamsMarkdown,
  automatically: "automatically, by your Teams account",
  nouns: { place: "conversation", personalChat: "personal chat", personalMessage: "personal message" },
} as const;
