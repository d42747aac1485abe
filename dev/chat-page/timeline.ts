// A conversation as one viewer sees it: the emulator's messages, as they are now, and the page's own entries.
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
  /** Attachments the page doesn't render, by content type. */
  unrendered?: string[];
}

export class Timeline {
  constructor(
    private readonly teams: TeamsEmulator,
    private readonly slack: SlackEmulator,
    private readonly directory: Directory,
    private readonly log: LocalLog,
  ) {}

  /** `viewer`: the user the page acts as here; Slack ephemerals for anyone else are left out. */
  seenBy(conversation: Conversation, viewer: string | undefined): TimelineEntry[] {
    const { ref } = conversation;
    const stored =
      ref.platform === "teams"
        ? this.teams.messages(ref.conversationId).map(teamsEntry)
        : this.slack
            .messages(ref.channel)
            .filter((m) => !m.ephemeral || m.ephemeral.user === viewer)
            .map((m) => this.slackEntry(m));
    const local = this.log.seenBy(conversation.key, viewer).map(localEntry);
    return [...stored, ...local].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
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
    };
  }
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
