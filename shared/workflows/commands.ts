import type { AlertTarget } from "../domain/alert";
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

interface CommandDefinition<Args> {
  /** Reads the words after the command's name; an `invalid` reason says what was expected. */
  parse(words: string[]): Parsed<Args>;
  run<LinkAnswer>(request: CommandRequest, ports: CommandPorts<LinkAnswer>, args: Args): Promise<CommandReply<LinkAnswer>>;
  /** Whether the sender is identified (and auto-linked) first; true unless said otherwise. */
  identifiesSender?: boolean;
}

const PROJECT = /^[A-Za-z0-9._-]{1,100}$/;
/** `subscribe … --no-thread`: the subscription's cards get no thread lines. */
const NO_THREAD = "--no-thread";
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
      const thread = !words.some((word) => word.toLowerCase() === NO_THREAD);
      const [project, level = "error", ...rest] = words.filter((word) => word.toLowerCase() !== NO_THREAD);
      if (!project || !PROJECT.test(project) || rest.length > 0)
        return { invalid: `Usage: subscribe PROJECT [LEVEL] [${NO_THREAD}], LEVEL one of fatal, error, warning, info, debug` };
      if (!(LEVELS as readonly string[]).includes(level.toLowerCase()))
        return { invalid: `"${level}" is not a level. Use one of: ${LEVELS.join(", ")}.` };
      return { args: { project, minLevel: level.toLowerCase() as Level, thread } };
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
    parse: ([project]) => (project && PROJECT.test(project) ? { args: { project } } : { invalid: "Usage: unsubscribe PROJECT" }),
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
    parse: ([word = ""]) => (word === "on" || word === "off" ? { args: { on: word === "on" } } : { invalid: "Usage: notify on|off" }),
    run: async (request, ports, { on }) => {
      const identity = request.chatUserId ? await ports.identities.get(request.provider, request.scope, request.chatUserId) : undefined;
      if (!identity) return { kind: "notify", on };
      await setNotices(ports.storage, identity.person, on);
      return { kind: "notify", on, person: identity.person };
    },
  }),
} satisfies Record<string, CommandDefinition<unknown>>;

/** Why cards can't be posted in the conversation, for a reply: nothing when they can. */
async function stoppedHere(ports: CommandPorts<unknown>): Promise<{ stopped?: PostingStop[] }> {
  const stopped = (await ports.postingStops?.()) ?? [];
  return stopped.length ? { stopped } : {};
}

export type CommandName = keyof typeof COMMANDS;

export type ParsedCommand = { name: CommandName; args: unknown } | { name: "unknown"; text: string } | { name: "invalid"; reason: string };

/** Parses what someone typed (mention or slash command already removed); nothing typed is `help`. */
export function parseCommand(text: string): ParsedCommand {
  const [word = "", ...words] = text.trim().split(/\s+/);
  const name = word === "" ? "help" : word.toLowerCase();
  if (!Object.hasOwn(COMMANDS, name)) return { name: "unknown", text: word.slice(0, 50) };
  const parsed = COMMANDS[name as CommandName].parse(words);
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
