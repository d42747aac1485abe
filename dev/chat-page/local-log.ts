// What happened on the page that neither emulator keeps: messages people typed to the bot in Teams (the
// emulator stores only the bot's side) and the app's answers to Slack slash commands (Slack shows those
// to the person who typed, without storing a message).
import { randomUUID } from "node:crypto";

export interface LocalEntry {
  id: string;
  /** The conversation key. */
  key: string;
  at: number;
  author: string;
  fromApp: boolean;
  text?: string;
  blocks?: unknown[];
  /** Only this user sees it. */
  visibleTo?: string;
  note?: string;
}

const KEEP = 500;

export class LocalLog {
  private entries: LocalEntry[] = [];

  add(entry: Omit<LocalEntry, "id" | "at">): LocalEntry {
    const added = { ...entry, id: `local-${randomUUID()}`, at: Date.now() };
    this.entries = [...this.entries.slice(-(KEEP - 1)), added];
    return added;
  }

  seenBy(key: string, viewer: string | undefined): LocalEntry[] {
    return this.entries.filter((e) => e.key === key && (e.visibleTo === undefined || e.visibleTo === viewer));
  }
}
