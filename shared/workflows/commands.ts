import type { AlertTarget } from "../domain/alert";
import { ID_LIMITS, isPrintableText, isProjectName } from "../domain/ids";
import { LEVELS, type Level } from "../domain/issue";
import type { ChatIdentity, ChatProvider, IdentityRepository } from "../storage/identities";
import type { StorageClients } from "../storage/clients";
import { setNotices } from "../storage/person-settings";
import { listSubscriptions, subscribe, unsubscribe, type Subscription } from "../storage/subscriptions";

// What people type to the bot, on any platform: parsed against one table of commands and run here. Each
// platform turns what it received into a `CommandRequest` and words the `CommandReply` in its own markup.

/** A command as a platform received it. */
export interface CommandRequest {
  provider: ChatProvider;
  /** Teams tenant id, or Slack team id. */
  scope: string;
  /** Who typed it (Teams: Entra object id, absent when Teams didn't say; Slack: user id). */
  chatUserId?: string;
  /** What they typed, without the bot's @mention or the slash command's name. */
  text: string;
  conversation: {
    /** The subscriptions partition: `msteams:<conversation>` or `slack:<team>:<channel>`. */
    key: string;
    /** A 1:1 chat with the bot: no place for a project's alerts. */
    personal: boolean;
    /** Where alerts for this conversation are posted; absent when alerts can't be delivered to it. */
    target?: AlertTarget;
  };
}

/** Why the app can't post in a conversation: removed from it, or the conversation archived or deleted. */
export type PostingStop = "removed" | "archived" | "deleted";

/** What the command flow needs from the platform it runs for. */
export interface CommandPorts<LinkAnswer> {
  storage: StorageClients;
  identities: IdentityRepository;
  log: (line: string) => void;
  /** Runs before every command but `unlink` (e.g. linking the sender automatically on first contact). */
  beforeCommand?: () => Promise<unknown>;
  /** Sends or builds the link prompt; its answer is the platform's own. */
  sendLink: () => Promise<LinkAnswer>;
  /**
   * Why cards can't be posted in the conversation now, as far as the platform knows (Slack: its channel events); empty when they can. Asked only by the commands about subscriptions; subscribing
   * still saves, so cards start once the reasons are undone.
   */
  postingStops?: () => Promise<PostingStop[]>;
}

/** A command's answer, without any platform's words or markup. */
export type CommandReply<LinkAnswer = unknown> =
  | { kind: "help"; unknownWord?: string }
  | { kind: "invalid"; reason: string }
  | { kind: "status"; identity?: ChatIdentity }
  | { kind: "link"; answer: LinkAnswer }
  | { kind: "unlinked"; previous?: ChatIdentity }
  | { kind: "subscribed"; project: string; minLevel: Level; thread: boolean; stopped?: PostingStop[] }
  | { kind: "not-subscribable"; why: "personal-chat" | "undeliverable" }
  | { kind: "unsubscribed"; project: string; wasSubscribed: boolean }
  | { kind: "subscriptions"; subscriptions: Subscription[]; stopped?: PostingStop[] }
  /** `person` absent: the sender isn't linked, so there is no one to turn notices on or off for. */
  | { kind: "notify"; on: boolean; person?: ChatIdentity["person"] };

type Parsed<Args> = { args: Args } | { invalid: string };

/** A word typed after the command's name. */
interface Word {
  text: string;
  /** Typed in quotes: may hold spaces, and is never a flag. */
  quoted: boolean;
  /** An opening quote with no closing one: `text` is everything after it. */
  unclosed?: boolean;
}

interface CommandDefinition<Args> {
  /** Reads the words after the command's name; an `invalid` reason says what was expected. */
  parse(words: Word[]): Parsed<Args>;
  run<LinkAnswer>(request: CommandRequest, ports: CommandPorts<LinkAnswer>, args: Args): Promise<CommandReply<LinkAnswer>>;
  /** Whether the sender is identified (and auto-linked) first; true unless said otherwise. */
  identifiesSender?: boolean;
}

/**
 * A project typed without quotes: one word of letters, digits, `.`, `_` and `-`. Anything else an alert's project
 * may hold (spaces, `/`, quotes) is typed in quotes, so a stray `<project>` or `???` is not taken for a name.
 */
const BARE_PROJECT = /^[\p{L}\p{M}\p{N}._-]{1,100}$/u;
/** Straight quotes, and the curly ones Teams, macOS and iOS substitute as people type (either way round): " “ ” „ ‟ */
const QUOTE = /["\u201c\u201d\u201e\u201f]/;
/** What `projectAsTyped` escapes in a quoted name: every quote, and a backslash the parser would read as an escape. */
const NEEDS_ESCAPE = /\\(?=["\u201c\u201d\u201e\u201f\\]|$)|["\u201c\u201d\u201e\u201f]/g;
/** `subscribe … --no-thread`: the subscription's cards get no thread lines. */
const NO_THREAD = "--no-thread";
/** The flag, also as smart punctuation turns its `--` into a dash (— or –) as people type. */
const NO_THREAD_FLAG = /^(--|\u2014|\u2013)no-thread$/i;
const SUBSCRIBE_USAGE = `Usage: subscribe PROJECT [LEVEL] [${NO_THREAD}], LEVEL one of fatal, error, warning, info, debug`;
const UNSUBSCRIBE_USAGE = "Usage: unsubscribe PROJECT";
const QUOTING = 'A project name with spaces or other characters goes in quotes: "Resource Health".';
/** After "not a level": the "level" may be the second word of a project name typed without quotes. */
const QUOTING_SPACES = 'A project name with spaces goes in quotes: "Resource Health".';
const UNCLOSED =
  'The project name\'s closing quote is missing (a closing quote is followed by a space or by nothing): type the name as in "Resource Health".';
const noArgs = (): Parsed<undefined> => ({ args: undefined });
const define = <Args>(definition: CommandDefinition<Args>) => definition as CommandDefinition<unknown>;

/** Every command, by the word that starts it. A new command is one entry here, one reply kind, and its words per platform. */
const COMMANDS = {
  help: define({ parse: noArgs, run: async () => ({ kind: "help" }) }),
  status: define({
    parse: noArgs,
    run: async (request, ports) => ({
      kind: "status",
      identity: request.chatUserId ? await ports.identities.get(request.provider, request.scope, request.chatUserId) : undefined,
    }),
  }),
  link: define({ parse: noArgs, run: async (_request, ports) => ({ kind: "link", answer: await ports.sendLink() }) }),
  unlink: define({
    parse: noArgs,
    identifiesSender: false,
    run: async (request, ports) => ({
      kind: "unlinked",
      previous: request.chatUserId ? await ports.identities.unlink(request.provider, request.scope, request.chatUserId) : undefined,
    }),
  }),
  subscribe: define<{ project: string; minLevel: Level; thread: boolean }>({
    parse: (words) => {
      const isFlag = (word: Word) => !word.quoted && NO_THREAD_FLAG.test(word.text);
      const [first, levelWord, ...rest] = words.filter((word) => !isFlag(word));
      const project = readProject(first, SUBSCRIBE_USAGE);
      if ("invalid" in project) return project;
      if (rest.length > 0) return { invalid: `${SUBSCRIBE_USAGE}. ${QUOTING}` };
      const level = levelWord?.text ?? "error";
      if (!(LEVELS as readonly string[]).includes(level.toLowerCase()))
        return { invalid: `"${level}" is not a level. Use one of: ${LEVELS.join(", ")}. ${QUOTING_SPACES}` };
      return { args: { project: project.name, minLevel: level.toLowerCase() as Level, thread: !words.some(isFlag) } };
    },
    run: async (request, ports, { project, minLevel, thread }) => {
      if (request.conversation.personal) return { kind: "not-subscribable", why: "personal-chat" };
      // Only a target deliveries accept: a subscription to anything else would fail every alert.
      if (!request.conversation.target) {
        ports.log("subscribe refused: the conversation id is not one alerts can be delivered to");
        return { kind: "not-subscribable", why: "undeliverable" };
      }
      const { key, target } = request.conversation;
      const [, stopped] = await Promise.all([
        subscribe(ports.storage, { conversationKey: key, project, minLevel, target, createdBy: request.chatUserId, thread }),
        stoppedHere(ports),
      ]);
      return { kind: "subscribed", project, minLevel, thread, ...stopped };
    },
  }),
  unsubscribe: define<{ project: string }>({
    parse: ([first, ...rest]) => {
      const project = readProject(first, UNSUBSCRIBE_USAGE);
      if ("invalid" in project) return project;
      return rest.length > 0 ? { invalid: `${UNSUBSCRIBE_USAGE}. ${QUOTING}` } : { args: { project: project.name } };
    },
    run: async (request, ports, { project }) => ({
      kind: "unsubscribed",
      project,
      wasSubscribed: await unsubscribe(ports.storage, request.conversation.key, project),
    }),
  }),
  subscriptions: define({
    parse: noArgs,
    run: async (request, ports) => {
      const [subscriptions, stopped] = await Promise.all([listSubscriptions(ports.storage, request.conversation.key), stoppedHere(ports)]);
      return { kind: "subscriptions", subscriptions, ...stopped };
    },
  }),
  notify: define<{ on: boolean }>({
    parse: ([word]) => (word?.text === "on" || word?.text === "off" ? { args: { on: word.text === "on" } } : { invalid: "Usage: notify on|off" }),
    run: async (request, ports, { on }) => {
      const identity = request.chatUserId ? await ports.identities.get(request.provider, request.scope, request.chatUserId) : undefined;
      if (!identity) return { kind: "notify", on };
      await setNotices(ports.storage, identity.person, on);
      return { kind: "notify", on, person: identity.person };
    },
  }),
} satisfies Record<string, CommandDefinition<unknown>>;

/** The project a word names, as alerts name it (trimmed), or why it names none. */
function readProject(word: Word | undefined, usage: string): { name: string } | { invalid: string } {
  if (!word) return { invalid: usage };
  if (word.unclosed) return { invalid: UNCLOSED };
  if (!word.quoted) return BARE_PROJECT.test(word.text) ? { name: word.text } : { invalid: `${usage}. ${QUOTING}` };
  const name = word.text.trim();
  if (!name) return { invalid: usage };
  if (!isPrintableText(name)) return { invalid: "That project name has a control character or half an emoji: no alert's project has." };
  if (!isProjectName(name)) {
    return {
      invalid: `That project name is too long: an alert's project has at most ${ID_LIMITS.project} characters, counting / \\ # ? % as three.`,
    };
  }
  return { name };
}

/**
 * The words after a command's name: split at spaces, except inside quotes. A quote closes at the next quote
 * followed by a space or the end, so a name may hold quotes (`"Grafana "on-call""`); `\"` is a quote that
 * doesn't close, `\\` a backslash.
 */
function splitWords(text: string): Word[] {
  const words: Word[] = [];
  let at = 0;
  const spaceAt = (index: number) => index >= text.length || /\s/.test(text[index]!);
  while (at < text.length) {
    if (spaceAt(at)) {
      at++;
      continue;
    }
    if (!QUOTE.test(text[at]!)) {
      let end = at;
      while (!spaceAt(end)) end++;
      words.push({ text: text.slice(at, end), quoted: false });
      at = end;
      continue;
    }
    let quoted = "";
    for (at++; at < text.length; at++) {
      const char = text[at]!;
      const next = text[at + 1];
      if (char === "\\" && next !== undefined && (next === "\\" || QUOTE.test(next))) {
        quoted += next;
        at++;
      } else if (QUOTE.test(char) && spaceAt(at + 1)) {
        break;
      } else {
        quoted += char;
      }
    }
    if (at >= text.length) return [...words, { text: quoted, quoted: true, unclosed: true }];
    words.push({ text: quoted, quoted: true });
    at++;
  }
  return words;
}

/**
 * A project given whole (Discord's typed option), as a command reads it: without the one pair of quotes around it
 * someone typed there anyway, as the help on other platforms teaches (`"Resource Health"`).
 */
export function projectFromOption(value: string): string {
  const trimmed = value.trim();
  const quoted = trimmed.length >= 2 && QUOTE.test(trimmed[0]!) && QUOTE.test(trimmed[trimmed.length - 1]!);
  return projectAsTyped(quoted ? trimmed.slice(1, -1) : value);
}

/** How a project is typed so that a command reads it back as itself: bare when it can be, else in quotes. */
export function projectAsTyped(project: string): string {
  if (BARE_PROJECT.test(project) && !NO_THREAD_FLAG.test(project)) return project;
  return `"${project.replace(NEEDS_ESCAPE, "\\$&")}"`;
}

/** Why cards can't be posted in the conversation, for a reply: nothing when they can. */
async function stoppedHere(ports: CommandPorts<unknown>): Promise<{ stopped?: PostingStop[] }> {
  const stopped = (await ports.postingStops?.()) ?? [];
  return stopped.length ? { stopped } : {};
}

export type CommandName = keyof typeof COMMANDS;

export type ParsedCommand = { name: CommandName; args: unknown } | { name: "unknown"; text: string } | { name: "invalid"; reason: string };

/** Parses what someone typed (mention or slash command already removed); nothing typed is `help`. */
export function parseCommand(text: string): ParsedCommand {
  const trimmed = text.trim();
  const [word = ""] = trimmed.split(/\s/, 1);
  const name = word === "" ? "help" : word.toLowerCase();
  if (!Object.hasOwn(COMMANDS, name)) return { name: "unknown", text: word.slice(0, 50) };
  const parsed = COMMANDS[name as CommandName].parse(splitWords(trimmed.slice(word.length)));
  return "invalid" in parsed ? { name: "invalid", reason: parsed.invalid } : { name: name as CommandName, args: parsed.args };
}

/** Parses and runs one command. */
export async function runCommand<LinkAnswer>(request: CommandRequest, ports: CommandPorts<LinkAnswer>): Promise<CommandReply<LinkAnswer>> {
  const command = parseCommand(request.text);
  const definition = command.name === "unknown" || command.name === "invalid" ? undefined : COMMANDS[command.name];
  if (definition?.identifiesSender !== false) await ports.beforeCommand?.();
  if (command.name === "unknown") return { kind: "help", unknownWord: command.text };
  if (command.name === "invalid") return { kind: "invalid", reason: command.reason };
  return definition!.run(request, ports, (command as { args: unknown }).args);
}
