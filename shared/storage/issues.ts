import type { ActivityRecord } from "../domain/actions";
import type { IgnoreCondition, Issue, Person } from "../domain/issue";
import { isConflict, isNotFound, isPreconditionFailed, sleep } from "./errors";
import { TABLES, type StorageClients } from "./clients";

interface IssueEntity {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  shortId?: string;
  project: string;
  title: string;
  culprit?: string;
  description?: string;
  level: string;
  environment?: string;
  url?: string;
  count: number;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  tags: string;
  ruleName?: string;
  status: string;
  substatus?: string;
  statusDetails?: string;
  assignee?: string;
  assigneeName?: string;
  statusChangedBy?: string;
  statusChangedAt?: string;
  version: number;
  recentAlertIds?: string;
  announcedVersion?: number;
  outbox?: string;
}

export interface StoredIssue {
  issue: Issue;
  etag: string;
  /** Alert ids already folded into this issue, newest last (idempotency for alert intake). */
  recentAlertIds: string[];
  /**
   * The recent changes and what they must announce (issue events, card refresh), written in the same
   * ETag write as the change itself, so a crash between the write and the announcement loses nothing:
   * whoever touches the issue next announces what is still pending (`version > announcedVersion`).
   */
  outbox: OutboxEntry[];
  announcedVersion: number;
}

export interface OutboxEntry {
  version: number;
  activities: ActivityRecord[];
  /** The alert that caused the change, and whether it deserves a new card everywhere. */
  alertId?: string;
  notify?: "regressed" | "level-rose";
}

/** What a change function returns: the new issue and its history lines, or nothing to do. */
export type IssueChange =
  | { issue: Issue; activities: ActivityRecord[]; recentAlertIds?: string[]; alertId?: string; notify?: OutboxEntry["notify"] }
  | undefined;

const OUTBOX_ENTRIES = 20;

export const MAX_CHANGE_ATTEMPTS = 30;
const RECENT_ALERT_IDS = 50;

export class IssueRepository {
  constructor(private readonly storage: StorageClients) {}

  async get(issueId: string): Promise<StoredIssue | undefined> {
    const table = await this.storage.table(TABLES.issues);
    try {
      const entity = await table.getEntity<IssueEntity>(issueId, "");
      return fromEntity(entity);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Reads the issue, lets `decide` compute the change from what is stored, and writes it only if
   * nobody changed the issue meanwhile (ETag); on a conflict it reads again and decides again.
   * The change and what it must announce are written together (see `outbox`); the caller announces
   * it with `announcePending`. Returns the stored result, or undefined when `decide` had nothing to change.
   */
  async change(
    issueId: string,
    decide: (current: StoredIssue | undefined) => IssueChange,
  ): Promise<{ issue: Issue; activities: ActivityRecord[] } | undefined> {
    const table = await this.storage.table(TABLES.issues);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(issueId);
      const change = decide(current);
      if (!change) return undefined;
      const entry: OutboxEntry = stripUndefined({ version: change.issue.version, activities: change.activities, alertId: change.alertId, notify: change.notify });
      const entity = toEntity(change.issue, {
        recentAlertIds: change.recentAlertIds ?? current?.recentAlertIds ?? [],
        outbox: [...(current?.outbox ?? []), entry].slice(-OUTBOX_ENTRIES),
        announcedVersion: current?.announcedVersion ?? 0,
      });
      try {
        if (current) await table.updateEntity(entity, "Replace", { etag: current.etag });
        else await table.createEntity(entity);
      } catch (error) {
        const lostRace = current ? isPreconditionFailed(error) : isConflict(error);
        if (!lostRace || attempt >= MAX_CHANGE_ATTEMPTS) throw error;
        await sleep(Math.random() * Math.min(200, 10 * attempt));
        continue;
      }
      return { issue: change.issue, activities: change.activities };
    }
  }

  /**
   * Records that everything up to `version` was announced. Conditional on the row read for the
   * announcement: if the issue changed meanwhile, the next announcer covers both (events carry
   * stable ids, so a repeat is recognisable).
   */
  async markAnnounced(issueId: string, version: number, etag: string): Promise<void> {
    const table = await this.storage.table(TABLES.issues);
    try {
      await table.updateEntity({ partitionKey: issueId, rowKey: "", announcedVersion: version }, "Merge", { etag });
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
    }
  }
}

export function rememberAlert(recent: string[], alertId: string): string[] {
  return [...recent.filter((id) => id !== alertId), alertId].slice(-RECENT_ALERT_IDS);
}

interface ActivityEntity extends Omit<ActivityRecord, "issueId"> {
  partitionKey: string;
  rowKey: string;
}

export class ActivityRepository {
  constructor(private readonly storage: StorageClients) {}

  async append(activities: ActivityRecord[]): Promise<void> {
    if (activities.length === 0) return;
    const table = await this.storage.table(TABLES.activities);
    for (const activity of activities) {
      const { issueId, ...rest } = activity;
      await table.upsertEntity<ActivityEntity>({ partitionKey: issueId, rowKey: activityRowKey(activity), ...rest }, "Replace");
    }
  }

  /** Newest first. */
  async list(issueId: string, limit = 50): Promise<ActivityRecord[]> {
    const table = await this.storage.table(TABLES.activities);
    const rows: ActivityRecord[] = [];
    const query = table.listEntities<ActivityEntity>({ queryOptions: { filter: `PartitionKey eq '${escapeOData(issueId)}'` } });
    for await (const row of query) {
      const { partitionKey, rowKey: _rowKey, ...rest } = row;
      rows.push({ issueId: partitionKey, ...pickActivity(rest) });
      if (rows.length >= limit) break;
    }
    return rows;
  }
}

/**
 * Inverted time sorts newest first. The tail names the change (issue version and place in it), so
 * announcing a change twice writes the same row, and rows of one millisecond stay apart.
 */
function activityRowKey(activity: ActivityRecord): string {
  const inverted = (8_640_000_000_000_000 - Date.parse(activity.at)).toString().padStart(16, "0");
  return `${inverted}-${activity.key ?? crypto.randomUUID()}`;
}

function pickActivity(row: Record<string, unknown>): Omit<ActivityRecord, "issueId"> {
  return {
    action: row.action as ActivityRecord["action"],
    actor: row.actor as string,
    surface: row.surface as ActivityRecord["surface"],
    fromStatus: row.fromStatus as ActivityRecord["fromStatus"],
    toStatus: row.toStatus as ActivityRecord["toStatus"],
    ...(row.detail ? { detail: row.detail as string } : {}),
    at: row.at as string,
  };
}

export function escapeOData(value: string): string {
  return value.replace(/'/g, "''");
}

function toEntity(issue: Issue, bookkeeping: { recentAlertIds: string[]; outbox: OutboxEntry[]; announcedVersion: number }): IssueEntity {
  return stripUndefined({
    partitionKey: issue.id,
    rowKey: "",
    shortId: issue.shortId,
    project: issue.project,
    title: issue.title,
    culprit: issue.culprit,
    description: issue.description,
    level: issue.level,
    environment: issue.environment,
    url: issue.url,
    count: issue.count,
    userCount: issue.userCount,
    firstSeen: issue.firstSeen,
    lastSeen: issue.lastSeen,
    tags: JSON.stringify(issue.tags),
    ruleName: issue.ruleName,
    status: issue.status,
    substatus: issue.substatus,
    statusDetails: issue.ignore ? JSON.stringify(issue.ignore) : undefined,
    assignee: issue.assignee?.email,
    assigneeName: issue.assignee?.name,
    statusChangedBy: issue.statusChangedBy,
    statusChangedAt: issue.statusChangedAt,
    version: issue.version,
    recentAlertIds: JSON.stringify(bookkeeping.recentAlertIds),
    outbox: JSON.stringify(bookkeeping.outbox),
    announcedVersion: bookkeeping.announcedVersion,
  });
}

function fromEntity(entity: IssueEntity): StoredIssue {
  const assignee: Person | undefined = entity.assignee
    ? stripUndefined({ email: entity.assignee, name: entity.assigneeName })
    : undefined;
  const issue: Issue = stripUndefined({
    id: entity.partitionKey,
    shortId: entity.shortId,
    project: entity.project,
    title: entity.title,
    culprit: entity.culprit,
    description: entity.description,
    level: entity.level as Issue["level"],
    environment: entity.environment,
    url: entity.url,
    count: Number(entity.count),
    userCount: Number(entity.userCount),
    firstSeen: entity.firstSeen,
    lastSeen: entity.lastSeen,
    tags: parseJson<Record<string, string>>(entity.tags, {}),
    ruleName: entity.ruleName,
    status: entity.status as Issue["status"],
    substatus: entity.substatus as Issue["substatus"],
    ignore: entity.statusDetails ? parseJson<IgnoreCondition | undefined>(entity.statusDetails, undefined) : undefined,
    assignee,
    statusChangedBy: entity.statusChangedBy,
    statusChangedAt: entity.statusChangedAt,
    version: Number(entity.version),
  });
  return {
    issue,
    etag: entity.etag!,
    recentAlertIds: parseJson<string[]>(entity.recentAlertIds, []),
    outbox: parseJson<OutboxEntry[]>(entity.outbox, []),
    announcedVersion: Number(entity.announcedVersion ?? 0),
  };
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
