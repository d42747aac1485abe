// A conversation as one viewer sees it: the emulator's messages, as they are now, and the page's own entries.
import { discordMessageVersion } from "../../shared/cards/discord-message";
import { slackMessageVersion } from "../../shared/cards/slack-message";
import type { DiscordEmulator, DiscordMessage } from "../emulators/discord";
import type { SlackEmulator, StoredMessage as SlackMessage } from "../emulators/slack";
import type { StoredMessage as TeamsMessage, TeamsEmulator } from "../emulators/teams";
import type { Conversation, Directory } from "./directory";
import type { LocalEntry, LocalLog } from "./local-log";

const ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive";
const APP_NAME = "Triage Relay";

export interface TimelineEntry {
  /** Teams activity id, Slack ts, or a page-local id. */
  id: string;
  at: number;
  author: string;
  fromApp: boolean;
  edited: boolean;
  /** Only the viewer sees it (a Slack ephemeral). */
  onlyYou: boolean;
  /** Clicks can reach the app: the emulator holds the message. */
  actionable: boolean;
  note?: string;
  /** Teams: markdown; Slack: mrkdwn. */
  text?: string;
  /** Teams: Adaptive Cards. */
  cards?: unknown[];
  /** Slack: Block Kit blocks. */
  blocks?: unknown[];
  /** Discord: the message's embeds and components (action rows). */
  embeds?: unknown[];
  components?: unknown[];
  /** Attachments the page doesn't render, by content type. */
  unrendered?: string[];
  /** The issue version an app card shows (Slack: the title block's block_id; Teams: the actions' `cardVersion`; Discord: the embed's footer). */
  version?: number;
  /** The message's thread, drawn under it: Slack replies with its `thread_ts`, Teams replies under a channel post, a Discord thread started from it. */
  thread?: Thread;
  /** Slack: a thread reply also sent to the channel, shown there with the start of the message it replied to. */
  repliedToThread?: string;
  /** Slack: a reply in a thread that was also sent to the channel. */
  alsoSentToChannel?: boolean;
}

export interface Thread {
  /** Oldest first, as the viewer sees them (someone else's ephemerals left out). */
  replies: TimelineEntry[];
  /** Discord: the thread's name. */
  name?: string;
}

/**
 * The newest render of each card the emulators held, by issue version. Updates can land out of order (the
 * refresh a first click started may finish after a second click's answer): the page shows the newest render
 * until the message catches up, never an older one over a newer one. Fed as changes happen, so a newer
 * render that lived only between two polls still counts.
 */
class NewestRenders<T> {
  private readonly newest = new Map<string, { version: number; message: T }>();

  saw(key: string, version: number | undefined, message: T): void {
    const known = this.newest.get(key);
    if (version !== undefined && (!known || version >= known.version)) this.newest.set(key, { version, message });
  }

  /** What to show for `current`: itself, or the newer render it would otherwise cover. */
  shown(key: string, current: T, version: number | undefined): T {
    const known = this.newest.get(key);
    return known && version !== undefined && known.version > version ? known.message : current;
  }
}

export class Timeline {
  private readonly slackRenders = new NewestRenders<SlackMessage>();
  private readonly teamsRenders = new NewestRenders<TeamsMessage>();
  private readonly discordRenders = new NewestRenders<DiscordMessage>();
  readonly stop: () => void;

  constructor(
    private readonly teams: TeamsEmulator,
    private readonly slack: SlackEmulator,
    private readonly directory: Directory,
    private readonly log: LocalLog,
    private readonly discord?: DiscordEmulator,
  ) {
    const unsubscribe = [
      slack.onMessage((m) => this.slackRenders.saw(slackKey(m), slackMessageVersion(m.blocks), m)),
      teams.onMessage((m) => this.teamsRenders.saw(teamsKey(m), teamsMessageVersion(m), m)),
      ...(discord ? [discord.onMessage((m) => this.discordRenders.saw(discordKey(m), discordVersion(m), m))] : []),
    ];
    this.stop = () => unsubscribe.forEach((off) => off());
  }

  /** `viewer`: the user the page acts as here; Slack ephemerals for anyone else are left out. */
  seenBy(conversation: Conversation, viewer: string | undefined): TimelineEntry[] {
    const { ref } = conversation;
    const stored =
      ref.platform === "discord"
        ? this.discordEntries(ref.channelId, viewer)
        : ref.platform === "teams"
          ? this.teamsEntries(ref.conversationId)
          : this.slackEntries(ref.channel, viewer);
    const local = this.log.seenBy(conversation.key, viewer).map(localEntry);
    return [...stored, ...local].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  }

  /**
   * Replies (`thread_ts` of a message in the channel) go under their parent, as Slack shows them; a broadcast
   * reply (`reply_broadcast`) is also in the channel. A reply whose parent the viewer can't see stays in the channel.
   */
  private slackEntries(channel: string, viewer: string | undefined): TimelineEntry[] {
    const messages = this.slack
      .messages(channel)
      .filter((m) => !m.ephemeral || m.ephemeral.user === viewer)
      .map((m) => this.slackRenders.shown(slackKey(m), m, slackMessageVersion(m.blocks)));
    const parents = new Map(messages.filter((m) => !isSlackReply(m)).map((m) => [m.ts, m]));
    const parentOf = (m: SlackMessage) => (isSlackReply(m) ? parents.get(m.threadTs) : undefined);
    const replies = groupBy(
      messages.filter((m) => parentOf(m) !== undefined),
      (m) => m.threadTs ?? "",
    );
    return messages.flatMap((m) => {
      const parent = parentOf(m);
      if (parent && !m.replyBroadcast) return [];
      const thread = replies.get(m.ts);
      return [
        {
          ...this.slackEntry(m),
          ...(parent ? { repliedToThread: firstLine(parent.text) } : {}),
          ...(thread ? { thread: { replies: thread.map((reply) => this.slackReplyEntry(reply)) } } : {}),
        },
      ];
    });
  }

  /** Replies under a channel post (`;messageid=<post>`) go under the post, as Teams shows them. */
  private teamsEntries(conversationId: string): TimelineEntry[] {
    const messages = this.teams.messages(conversationId).map((m) => this.teamsRenders.shown(teamsKey(m), m, teamsMessageVersion(m)));
    const posts = new Set(messages.filter((m) => m.threadId === undefined).map((m) => m.activityId));
    const inThread = (m: TeamsMessage) => m.threadId !== undefined && posts.has(m.threadId);
    const replies = groupBy(messages.filter(inThread), (m) => m.threadId ?? "");
    return messages
      .filter((m) => !inThread(m))
      .map((m) => {
        const thread = replies.get(m.activityId);
        return { ...teamsEntry(m), ...(thread ? { thread: { replies: thread.map(teamsEntry) } } : {}) };
      });
  }

  /** A thread started from a message (its id is the message's) is shown under the message with its name, as Discord does. */
  private discordEntries(channelId: string, viewer: string | undefined): TimelineEntry[] {
    const visible = (id: string) =>
      (this.discord?.messages(id) ?? [])
        .filter((m) => !m.ephemeral || m.visibleTo === viewer)
        .map((m) => this.discordRenders.shown(discordKey(m), m, discordVersion(m)));
    return visible(channelId).map((m) => {
      const thread = this.discord?.thread(m.id);
      if (thread?.parentId !== channelId) return discordEntry(m);
      // Its messages are in another channel: a click on one couldn't be routed from here (and thread lines have no buttons).
      const replies = visible(thread.id).map((reply) => ({ ...discordEntry(reply), actionable: false }));
      return { ...discordEntry(m), thread: { name: thread.name, replies } };
    });
  }

  private slackReplyEntry(reply: SlackMessage): TimelineEntry {
    return { ...this.slackEntry(reply), ...(reply.replyBroadcast ? { alsoSentToChannel: true } : {}) };
  }

  private slackEntry(message: SlackMessage): TimelineEntry {
    const person = this.directory.slackUserName(message.teamId, message.user);
    return {
      id: message.ts,
      at: Math.round(Number(message.ts) * 1000),
      author: person ?? APP_NAME,
      fromApp: person === undefined,
      edited: message.updates > 0,
      onlyYou: message.ephemeral !== undefined,
      actionable: true,
      text: message.text,
      blocks: message.blocks,
      ...(message.attachments?.length ? { unrendered: ["Slack attachments"] } : {}),
      ...optional("version", slackMessageVersion(message.blocks)),
    };
  }
}

const slackKey = (m: SlackMessage) => `${m.channel}|${m.ts}`;
const isSlackReply = (m: SlackMessage): m is SlackMessage & { threadTs: string } => m.threadTs !== undefined && m.threadTs !== m.ts;
const firstLine = (text: string) => text.split("\n", 1)[0] ?? "";
const discordKey = (m: DiscordMessage) => `${m.channelId}|${m.id}`;
const discordVersion = (m: DiscordMessage) => discordMessageVersion(m.embeds as { footer?: { text?: string } }[]);

/** Items by key, each group in the items' order. */
function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}

/** Every message the Discord emulator holds is the bot's: cards, and answers to interactions. */
function discordEntry(message: DiscordMessage): TimelineEntry {
  return {
    id: message.id,
    at: message.createdAt,
    author: APP_NAME,
    fromApp: true,
    edited: message.edits > 0,
    onlyYou: message.ephemeral === true,
    actionable: true,
    ...(message.content ? { text: message.content } : {}),
    embeds: message.embeds,
    components: message.components,
    ...optional("version", discordVersion(message)),
  };
}
const teamsKey = (m: TeamsMessage) => `${m.conversationId}|${m.activityId}`;

/** The newest `cardVersion` in a Teams message's card actions (every action of an issue card carries the issue and version it shows). */
export function teamsMessageVersion(message: TeamsMessage): number | undefined {
  return cardVersionIn(message.activity.attachments);
}

function cardVersionIn(node: unknown): number | undefined {
  let found: number | undefined;
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== "object") return;
    const payload = (value as { payload?: { cardVersion?: unknown } }).payload;
    const version = Number(payload?.cardVersion);
    if (payload && payload.cardVersion !== undefined && Number.isSafeInteger(version)) found = Math.max(found ?? 0, version);
    Object.values(value).forEach(visit);
  };
  visit(node);
  return found;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function teamsEntry(message: TeamsMessage): TimelineEntry {
  const activity = message.activity;
  const attachments = Array.isArray(activity.attachments) ? (activity.attachments as { contentType?: unknown; content?: unknown }[]) : [];
  const cards = attachments.filter((a) => a.contentType === ADAPTIVE_CARD).map((a) => a.content);
  const unrendered = attachments.filter((a) => a.contentType !== ADAPTIVE_CARD).map((a) => String(a.contentType));
  const from = activity.from as { name?: unknown } | undefined;
  return {
    id: message.activityId,
    // Teams activity ids are epoch milliseconds (the emulator keeps that).
    at: Number(message.activityId) || 0,
    author: typeof from?.name === "string" ? from.name : APP_NAME,
    fromApp: true,
    edited: message.updates > 0,
    onlyYou: false,
    actionable: true,
    ...(typeof activity.text === "string" && activity.text ? { text: activity.text } : {}),
    cards,
    ...(unrendered.length ? { unrendered } : {}),
    ...optional("version", teamsMessageVersion(message)),
  };
}

function localEntry(entry: LocalEntry): TimelineEntry {
  return {
    id: entry.id,
    at: entry.at,
    author: entry.author,
    fromApp: entry.fromApp,
    edited: false,
    onlyYou: entry.visibleTo !== undefined,
    actionable: false,
    ...(entry.note ? { note: entry.note } : {}),
    ...(entry.text ? { text: entry.text } : {}),
    ...(entry.blocks ? { blocks: entry.blocks } : {}),
  };
}
