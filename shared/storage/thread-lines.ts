import type { TableClient, TableEntityResult } from "@azure/data-tables";
import type { ActivityRecord } from "../domain/actions";
import { safeKey, isConflict, isNotFound, isPreconditionFailed, escapeOData, stripUndefined } from "./table";
import { TABLES, type StorageClients } from "./clients";

/** A change of an issue as its history line, with the issue version it made (from the line's stable key). */
export interface IssueChange extends ActivityRecord {
  version: number;
  /** Its place among the lines of that version. */
  index: number;
}

/** An activity row's key ends in `-<version>.<n>` (ActivityRepository): the change it belongs to. */
const CHANGE_KEY = /-(\d{1,15})\.(\d{1,4})$/;
const MAX_CHANGES_READ = 500;

/**
 * The issue's changes made since `sinceMs` (by their own time), oldest first. The activities come newest first
 * (inverted time), so the read stops at the first older one.
 */
export async function changesSince(storage: StorageClients, issueId: string, sinceMs: number): Promise<IssueChange[]> {
  const table = await storage.table(TABLES.activities);
  const changes: IssueChange[] = [];
  let read = 0;
  for await (const row of table.listEntities<Record<string, unknown> & { rowKey: string }>({
    queryOptions: { filter: `PartitionKey eq '${escapeOData(issueId)}'` },
  })) {
    if (++read > MAX_CHANGES_READ) break;
    const at = String(row.at ?? "");
    if (Date.parse(at) < sinceMs) break;
    const key = CHANGE_KEY.exec(row.rowKey);
    if (!key) continue;
    changes.push(
      stripUndefined({
        issueId,
        action: row.action as ActivityRecord["action"],
        actor: String(row.actor ?? ""),
        surface: row.surface as ActivityRecord["surface"],
        fromStatus: row.fromStatus as ActivityRecord["fromStatus"],
        toStatus: row.toStatus as ActivityRecord["toStatus"],
        detail: typeof row.detail === "string" && row.detail ? row.detail : undefined,
        at,
        version: Number(key[1]),
        index: Number(key[2]),
      }),
    );
  }
  return changes.sort((a, b) => a.version - b.version || a.index - b.index);
}

/** `<version>.<index>` as stored, or undefined (none, or not one). */
function positionOf(stored: string | undefined): ChangePosition | undefined {
  const match = /^(\d{1,15})\.(\d{1,4})$/.exec(stored ?? "");
  return match ? { version: Number(match[1]), index: Number(match[2]) } : undefined;
}

/** How long one run has a thread (or a notice) to itself before another may take it over (its instance died). */
export const CLAIM_SECONDS = 60;

/**
 * Where a card's thread stands: the changes up to `linedVersion` have their line there. A row in the issue's
 * `cards` partition (`~lines:<copy's row key>`), written on its ETag, so of two runs only one posts a line.
 */
export interface ThreadCursor {
  threadKey: string;
  linedVersion: number;
  /** When the newest lined change was made: reads of the history stop about there. */
  linedAt?: string;
  claimedUntil?: string;
  /** Real failures (not throttling) of the line now pending. */
  attempts: number;
  /** The thread takes no more lines (the card is gone, or the conversation). */
  dead?: string;
  /** Discord: the thread started from the card (or found there), once known; Teams and Slack threads need none. */
  threadId?: string;
  /**
   * The last change a released attempt's line carried, when that line may have been posted (an answer lost): the
   * retry carries exactly those changes again, under the same key, so the platform recognises it.
   */
  attemptedThrough?: ChangePosition;
  etag: string;
}

/** Where a change stands in the issue's history: its version, and its place among that version's changes. */
export interface ChangePosition {
  version: number;
  index: number;
}

interface ThreadCursorEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  linedVersion?: number;
  linedAt?: string;
  claimedUntil?: string;
  attempts?: number;
  dead?: string;
  threadId?: string;
  /** `<version>.<index>`: ThreadCursor.attemptedThrough. */
  attemptedThrough?: string;
}

const LINES_PREFIX = "~lines:";

export class ThreadCursors {
  constructor(private readonly storage: StorageClients) {}

  /** Every thread cursor of the issue: one query on its `cards` partition. */
  async list(issueId: string): Promise<Map<string, ThreadCursor>> {
    return rowsUnder<ThreadCursorEntity, ThreadCursor>(this.storage, issueId, LINES_PREFIX, (entity, threadKey) =>
      stripUndefined({
        threadKey,
        linedVersion: Number(entity.linedVersion ?? 0),
        linedAt: entity.linedAt || undefined,
        claimedUntil: entity.claimedUntil || undefined,
        attempts: Number(entity.attempts ?? 0),
        dead: entity.dead || undefined,
        threadId: entity.threadId || undefined,
        attemptedThrough: positionOf(entity.attemptedThrough),
        etag: entity.etag!,
      }),
    );
  }

  /** Takes the thread for one line: false when another run has it (or took it since `known` was read). */
  async claim(issueId: string, threadKey: string, known: ThreadCursor | undefined, now = Date.now()): Promise<boolean> {
    const table = await this.storage.table(TABLES.cards);
    const claimedUntil = new Date(now + CLAIM_SECONDS * 1000).toISOString();
    const keys = { partitionKey: safeKey(issueId), rowKey: `${LINES_PREFIX}${threadKey}` };
    return conditionally(() =>
      known
        ? table.updateEntity({ ...keys, claimedUntil }, "Merge", { etag: known.etag })
        : table.createEntity<ThreadCursorEntity>({ ...keys, linedVersion: 0, claimedUntil }),
    );
  }

  /** The line went out: the changes up to `linedVersion` are in the thread (`threadId`: the thread, newly known). */
  async lined(issueId: string, threadKey: string, linedVersion: number, linedAt: string, threadId?: string): Promise<void> {
    await this.merge(issueId, threadKey, stripUndefined({ linedVersion, linedAt, claimedUntil: "", attempts: 0, threadId, attemptedThrough: "" }));
  }

  /**
   * The line must wait (throttled, or a failure to retry): the thread is free again, `attempts` recorded.
   * `attemptedThrough`: the line may have been posted, so its retry carries exactly these changes (kept until lined).
   */
  async release(
    issueId: string,
    threadKey: string,
    attempts: number,
    { threadId, attemptedThrough }: { threadId?: string; attemptedThrough?: ChangePosition } = {},
  ): Promise<void> {
    const through = attemptedThrough ? `${attemptedThrough.version}.${attemptedThrough.index}` : undefined;
    await this.merge(issueId, threadKey, stripUndefined({ claimedUntil: "", attempts, threadId, attemptedThrough: through }));
  }

  async markDead(issueId: string, threadKey: string, reason: string): Promise<void> {
    await this.merge(issueId, threadKey, { claimedUntil: "", dead: reason, attemptedThrough: "" });
  }

  private async merge(issueId: string, threadKey: string, fields: Partial<ThreadCursorEntity>): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.upsertEntity({ partitionKey: safeKey(issueId), rowKey: `${LINES_PREFIX}${threadKey}`, ...fields }, "Merge");
  }
}

/** Where one assignment notice (a change × a personal chat) stands: a row `~notice:<version>:<target key>`. */
export interface NoticeMark {
  noticeKey: string;
  state: "posting" | "sent" | "waiting" | "dead";
  claimedUntil?: string;
  /** A waiting notice is tried again from then on. */
  notBefore?: string;
  attempts: number;
  etag: string;
}

interface NoticeMarkEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  state: NoticeMark["state"];
  claimedUntil?: string;
  notBefore?: string;
  attempts?: number;
  reason?: string;
}

const NOTICE_PREFIX = "~notice:";

export const noticeKey = (version: number, targetKey: string) => `${version}:${safeKey(targetKey)}`;

export class NoticeMarks {
  constructor(private readonly storage: StorageClients) {}

  async list(issueId: string): Promise<Map<string, NoticeMark>> {
    return rowsUnder<NoticeMarkEntity, NoticeMark>(this.storage, issueId, NOTICE_PREFIX, (entity, key) =>
      stripUndefined({
        noticeKey: key,
        state: entity.state,
        claimedUntil: entity.claimedUntil || undefined,
        notBefore: entity.notBefore || undefined,
        attempts: Number(entity.attempts ?? 0),
        etag: entity.etag!,
      }),
    );
  }

  /** Takes the notice to send it: false when another run has it (or it was settled since `known` was read). */
  async claim(issueId: string, key: string, known: NoticeMark | undefined, now = Date.now()): Promise<boolean> {
    const table = await this.storage.table(TABLES.cards);
    const fields = {
      partitionKey: safeKey(issueId),
      rowKey: `${NOTICE_PREFIX}${key}`,
      state: "posting" as const,
      claimedUntil: new Date(now + CLAIM_SECONDS * 1000).toISOString(),
    };
    return conditionally(() =>
      known ? table.updateEntity(fields, "Merge", { etag: known.etag }) : table.createEntity<NoticeMarkEntity>({ ...fields, attempts: 0 }),
    );
  }

  async settle(
    issueId: string,
    key: string,
    fields: { state: "sent" | "dead"; reason?: string } | { state: "waiting"; notBefore: string; attempts: number },
  ): Promise<void> {
    const table = await this.storage.table(TABLES.cards);
    await table.upsertEntity({ partitionKey: safeKey(issueId), rowKey: `${NOTICE_PREFIX}${key}`, claimedUntil: "", ...fields }, "Merge");
  }
}

/** The rows of the issue's `cards` partition whose keys start with `prefix`. */
function prefixed<T extends { rowKey: string }>(table: TableClient, issueId: string, prefix: string) {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return table.listEntities<T>({
    queryOptions: {
      filter: `PartitionKey eq '${escapeOData(safeKey(issueId))}' and RowKey ge '${escapeOData(prefix)}' and RowKey lt '${escapeOData(end)}'`,
    },
  });
}

/** The issue's `cards` rows whose key starts with the prefix, read into values by the rest of their key: one query. */
async function rowsUnder<T extends { rowKey: string }, V>(
  storage: StorageClients,
  issueId: string,
  prefix: string,
  read: (entity: TableEntityResult<T>, key: string) => V,
): Promise<Map<string, V>> {
  const table = await storage.table(TABLES.cards);
  const rows = new Map<string, V>();
  for await (const entity of prefixed<T>(table, issueId, prefix)) {
    const key = entity.rowKey.slice(prefix.length);
    rows.set(key, read(entity, key));
  }
  return rows;
}

/** A conditional write: false when it lost a race (the row exists, or changed, or went). */
async function conditionally(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConflict(error) || isPreconditionFailed(error) || isNotFound(error)) return false;
    throw error;
  }
}
