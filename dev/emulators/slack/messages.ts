import type { Block } from "./blocks";
import type { TsGenerator } from "./clock";

export interface StoredMessage {
  channel: string;
  ts: string;
  teamId: string;
  /** Author: the bot user for app messages, a human for `addMessage` fixtures. */
  user: string;
  text: string;
  blocks: Block[];
  attachments?: unknown[];
  threadTs?: string;
  /** A thread reply also shown in the channel (`reply_broadcast`); Slack lists it with subtype `thread_broadcast`. */
  replyBroadcast?: true;
  /** How many times the message was edited (chat.update or response_url `replace_original`). */
  updates: number;
  ephemeral?: { user: string };
}

export interface NewMessage {
  channel: string;
  teamId: string;
  user: string;
  text: string;
  blocks?: Block[];
  attachments?: unknown[];
  threadTs?: string;
  replyBroadcast?: boolean;
  ephemeral?: { user: string };
}

export class MessageStore {
  private readonly byChannel = new Map<string, StoredMessage[]>();
  private readonly listeners = new Set<(message: StoredMessage) => void>();

  /** Called with a copy of every message posted or replaced, as it happens; returns the unsubscribe. */
  onChange(listener: (message: StoredMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(message: StoredMessage): void {
    for (const listener of this.listeners) listener(structuredClone(message));
  }

  constructor(private readonly ts: TsGenerator) {}

  post(input: NewMessage): StoredMessage {
    const message: StoredMessage = {
      channel: input.channel,
      ts: this.ts.next(),
      teamId: input.teamId,
      user: input.user,
      text: input.text,
      blocks: input.blocks ?? [],
      ...(input.attachments ? { attachments: input.attachments } : {}),
      ...(input.threadTs ? { threadTs: input.threadTs } : {}),
      ...(input.threadTs && input.replyBroadcast ? { replyBroadcast: true as const } : {}),
      updates: 0,
      ...(input.ephemeral ? { ephemeral: input.ephemeral } : {}),
    };
    const list = this.byChannel.get(input.channel) ?? [];
    list.push(message);
    this.byChannel.set(input.channel, list);
    this.changed(message);
    return message;
  }

  find(channel: string, ts: string): StoredMessage | undefined {
    return this.byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  replace(message: StoredMessage, content: { text: string; blocks: Block[]; attachments?: unknown[] }): void {
    message.text = content.text;
    message.blocks = content.blocks;
    if (content.attachments) message.attachments = content.attachments;
    else delete message.attachments;
    message.updates += 1;
    this.changed(message);
  }

  delete(message: StoredMessage): void {
    const list = this.byChannel.get(message.channel);
    if (list)
      this.byChannel.set(
        message.channel,
        list.filter((m) => m !== message),
      );
  }

  list(channel?: string): StoredMessage[] {
    const all = channel === undefined ? [...this.byChannel.values()].flat() : (this.byChannel.get(channel) ?? []);
    return all.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  }
}
