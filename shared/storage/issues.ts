import { createHash } from "node:crypto";
import type { ActivityRecord } from "../domain/actions";
import { isAlertId } from "../domain/ids";
import type { IgnoreCondition, Issue, Person, ReleaseRegression, ReleaseResolution } from "../domain/issue";
import { isConflict, isNotFound, isPreconditionFailed, sleep, escapeOData, stripUndefined } from "./table";
import { TABLES, type StorageClients } from "./clients";

/** The issue's fields stored as they are; the rest below are kept as plain strings or JSON. */
type PlainIssueFields = Pick<
  Issue,
  "shortId" | "project" | "title" | "culprit" | "description" | "environment" | "url" | "count" | "userCount" | "firstSeen" | "lastSeen" | "ruleName"
>;

interface IssueEntity extends PlainIssueFields {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  timestamp?: string;
  activityAt?: string;
  level: string;
  tags: string;
  status: string;
  substatus?: string;
  statusDetails?: string;
  assignee?: string;
  assigneeName?: string;
  statusChangedBy?: string;
  statusChangedAt?: string;
  statusChange?: string;
  /** JSON of Issue.resolution: resolved in the current or next release. */
  resolution?: string;
  /** JSON of Issue.regression: why the issue came back from a release resolution. */
  regression?: string;
  version: number;
  recentAlertIds?: string;
  /** Written by earlier versions: every change up to it was announced. */
  announcedVersion?: number;
  outbox?: string;
  /** `announcedV<version>` marks (see markAnnounced). */
  [mark: `announcedV${number}`]: boolean | undefined;
}

export interface StoredIssue {
  issue: Issue;
  etag: string;
  /** Alert ids already folded into this issue, newest last (idempotency for alert intake). */
  recentAlertIds: string[];
  /**
   * The changes and what they must announce (history lines, issue events, a card refresh), written in
   * the same ETag write as the change itself, so a crash between the write and the announcement loses
   * nothing. Entries not yet announced are never dropped; a few announced ones are kept (a redelivered
   * alert finds its `notify` there).
   */
  outbox: OutboxEntry[];
  /** When the row was last written (the table's own Timestamp); absent on a row not read from the table. */
  writtenAt?: string;
  /**
   * When a change with a history line other than the issue's creation (a click, an API call, a regression, an
   * ignore running out) was last written: the thread lines look for changes to tell only when this is recent.
   */
  activityAt?: string;
}

export interface OutboxEntry {
  version: number;
  activities: ActivityRecord[];
  /** The alert that caused the change, and whether it deserves a new card everywhere. */
  alertId?: string;
  notify?: "regressed" | "level-rose";
  /** Its announcements went out. */
  announced?: true;
  /**
   * Until when one announcer has it: its writer, from the write on, or whoever claimed it since (an
   * ETag write). Nobody else sends it before then, so in the normal path each change goes out once;
   * a writer that fails gives its claim back, one that dies lets it run out.
   */
  claimedUntil?: string;
}

/** What a change function returns: the new issue and its history lines, or nothing to do. */
export type IssueChange =
  | { issue: Issue; activities: ActivityRecord[]; recentAlertIds?: string[]; alertId?: string; notify?: OutboxEntry["notify"] }
  | undefined;

export interface StoredChange {
  issue: Issue;
  activities: ActivityRecord[];
  entry: OutboxEntry;
}

/** How long the writer of a change (or a claimant) has to announce it before others may. */
export const ANNOUNCE_CLAIM_SECONDS = 30;
/**
 * The outbox is one string property (at most 32,768 UTF-16 characters). Unannounced entries never
 * leave it: when they fill it, the next change waits for them to be announced (`OutboxFullError`).
 */
const OUTBOX_JSON_BUDGET = 24_000;
const MAX_UNANNOUNCED = 50;
const ANNOUNCED_KEPT = 20;
/** Marks written without an ETag (so marking never has to retry), folded into the outbox by the next change. */
const ANNOUNCED_MARK = /^announcedV(\d{1,15})$/;

export const MAX_CHANGE_ATTEMPTS = 30;
const RECENT_ALERT_IDS = 50;

/** The issue holds as many unannounced changes as it can: announce them before changing it again. */
export class OutboxFullError extends Error {
  constructor(
    readonly issueId: string,
    readonly unannounced: number,
    options?: { cause?: unknown },
  ) {
    super(`Issue ${issueId} has ${unannounced} changes not yet announced; announce them before changing it again.`, options);
    this.name = "OutboxFullError";
  }
}

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
   * The project's issues that are resolved or were regressed (release notices), at most `limit`. A filtered
   * query over the table: release notices are rare, and the issues table has no per-project index.
   */
  async listResolvedOrRegressed(project: string, limit = 1000): Promise<Issue[]> {
    const table = await this.storage.table(TABLES.issues);
    const issues: Issue[] = [];
    const filter = `project eq '${escapeOData(project)}' and (status eq 'resolved' or substatus eq 'regressed')`;
    for await (const entity of table.listEntities<IssueEntity>({ queryOptions: { filter } })) {
      issues.push(fromEntity(entity).issue);
      if (issues.length >= limit) break;
    }
    return issues;
  }

  /**
   * Reads the issue, lets `decide` compute the change from what is stored, and writes it only if
   * nobody changed the issue meanwhile (ETag); on a conflict it reads again and decides again.
   * The change and what it must announce are written together (see `outbox`), claimed by the caller,
   * who announces it (`announcePending` with its version). Returns the stored change, or undefined when
   * `decide` had nothing to change. Throws `OutboxFullError`, writing nothing, when the outbox is full.
   */
  async change(issueId: string, decide: (current: StoredIssue | undefined) => IssueChange): Promise<StoredChange | undefined> {
    const table = await this.storage.table(TABLES.issues);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(issueId);
      const change = decide(current);
      if (!change) return undefined;
      const entry: OutboxEntry = stripUndefined({
        version: change.issue.version,
        activities: change.activities,
        alertId: change.alertId,
        notify: change.notify,
        claimedUntil: new Date(Date.now() + ANNOUNCE_CLAIM_SECONDS * 1000).toISOString(),
      });
      const entity = toEntity(change.issue, {
        recentAlertIds: change.recentAlertIds ?? current?.recentAlertIds ?? [],
        outbox: withEntry(issueId, current?.outbox ?? [], entry),
        activityAt: change.activities.some((activity) => activity.action !== "created") ? new Date().toISOString() : current?.activityAt,
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
      return { issue: change.issue, activities: change.activities, entry };
    }
  }

  /**
   * Claims the unannounced entries nobody has (or whose claim ran out), with an ETag write so two
   * announcers never both take one. Returns them, or [] when there are none.
   */
  async claimUnannounced(issueId: string, now = new Date()): Promise<OutboxEntry[]> {
    const claimed = await this.updateOutbox(issueId, (outbox) => {
      const claimable = outbox.filter((entry) => !entry.announced && !(entry.claimedUntil && Date.parse(entry.claimedUntil) > now.getTime()));
      const until = new Date(now.getTime() + ANNOUNCE_CLAIM_SECONDS * 1000).toISOString();
      const versions = new Set(claimable.map((entry) => entry.version));
      return { outbox: outbox.map((entry) => (versions.has(entry.version) ? { ...entry, claimedUntil: until } : entry)), result: claimable };
    });
    return claimed ?? [];
  }

  /** Gives back the claim on entries whose announcement failed, so the next toucher announces them at once. */
  async releaseClaims(issueId: string, versions: number[]): Promise<void> {
    const released = new Set(versions);
    await this.updateOutbox(issueId, (outbox) => ({
      outbox: outbox.map((entry) =>
        released.has(entry.version) && !entry.announced ? stripUndefined({ ...entry, claimedUntil: undefined }) : entry,
      ),
      result: undefined,
    }));
  }

  /**
   * Records that these changes were announced. A merge without an ETag, one property per change,
   * so it never has to retry against changes; the next change folds the marks into the outbox.
   */
  async markAnnounced(issueId: string, versions: number[]): Promise<void> {
    if (versions.length === 0) return;
    const table = await this.storage.table(TABLES.issues);
    const marks = Object.fromEntries(versions.map((version) => [`announcedV${version}`, true]));
    try {
      await table.updateEntity({ partitionKey: issueId, rowKey: "", ...marks }, "Merge");
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** A read-modify-write of the outbox alone, conditional on the ETag, retried on conflicts. */
  private async updateOutbox<T>(issueId: string, update: (outbox: OutboxEntry[]) => { outbox: OutboxEntry[]; result: T }): Promise<T | undefined> {
    const table = await this.storage.table(TABLES.issues);
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(issueId);
      if (!current) return undefined;
      const { outbox, result } = update(current.outbox);
      if (Array.isArray(result) && result.length === 0) return result;
      try {
        await table.updateEntity({ partitionKey: issueId, rowKey: "", outbox: JSON.stringify(outbox) }, "Merge", { etag: current.etag });
        return result;
      } catch (error) {
        if (!isPreconditionFailed(error) || attempt >= MAX_CHANGE_ATTEMPTS) throw error;
        await sleep(Math.random() * Math.min(200, 10 * attempt));
      }
    }
  }
}

/**
 * The outbox with a new entry: every unannounced entry stays; announced ones are kept, newest first,
 * while they fit. Throws `OutboxFullError` when the unannounced ones alone would not fit.
 */
function withEntry(issueId: string, outbox: OutboxEntry[], entry: OutboxEntry): OutboxEntry[] {
  const unannounced = [...outbox.filter((e) => !e.announced), entry];
  if (unannounced.length > MAX_UNANNOUNCED || jsonLength(unannounced) > OUTBOX_JSON_BUDGET) {
    throw new OutboxFullError(issueId, unannounced.length - 1);
  }
  const kept = [...unannounced];
  let size = jsonLength(kept);
  const announced = outbox.filter((e) => e.announced).sort((a, b) => b.version - a.version);
  for (const old of announced.slice(0, ANNOUNCED_KEPT)) {
    size += jsonLength(old) + 1;
    if (size > OUTBOX_JSON_BUDGET) break;
    kept.push(old);
  }
  return kept.sort((a, b) => a.version - b.version);
}

function jsonLength(value: unknown): number {
  return JSON.stringify(value).length;
}

export function rememberAlert(recent: string[], alertId: string): string[] {
  return [...recent.filter((id) => id !== alertId), alertId].slice(-RECENT_ALERT_IDS);
}

/**
 * Kept among the alert ids where the issue was resolved (a recovery, or a person's resolve): this prefix, what
 * resolved it, then the same prefix and when that was taken (rows written before had no time). Alert ids have no
 * control characters, so no alert id is ever one of these.
 */
const RESOLVED_MARK = "\u0001";
/** A person's resolve in the mark, where a recovery has its alert id. */
const PERSON_RESOLVE = "\u0002";

/** A recovery that resolved the issue, taken `at`: the alert ids taken before it are now from before a resolve. */
export function rememberRecovery(recent: string[], alertId: string, at: Date): string[] {
  return rememberAlert([...recent.filter((id) => id !== alertId), resolvedMark(alertId, at)], alertId);
}

/**
 * A person resolved the issue (to its version `version`) `at`: for the alerts taken before, like a recovery. The
 * source sending one of them again after that still fires it, which reopens the issue (`priorTake`).
 */
export function rememberResolvedByPerson(recent: string[], version: number, at: Date): string[] {
  // A resolve with no alert taken since the last one replaces its mark: only the latest mark before an alert decides
  // (`priorTake`), and resolving and reopening over and over must not push the alerts out of the list.
  const kept = recent.length > 0 && isResolvedMark(recent[recent.length - 1]!) ? recent.slice(0, -1) : recent;
  return [...kept, resolvedMark(`${PERSON_RESOLVE}v${version}`, at)].slice(-RECENT_ALERT_IDS);
}

export interface PriorTake {
  kind: "new" | "repeat" | "fires-again";
  /** The id it is taken under. */
  alertId: string;
}

/**
 * Whether this alert was taken before. `repeat`: the same notification again. `fires-again`: taken, then the issue
 * was resolved (a recovery, or a person), and now sent again (Alertmanager reports an alert that fires again after
 * it resolved it, or that still fires, with the same startsAt): a new firing, taken under an id of its own derived
 * from that resolve, so that its deliveries are new ones. Remember both (`rememberFiringAgain`): a resend of either
 * is then a repeat of that firing. `new` otherwise.
 *
 * `insertedAt`, when the message was put on the queue: one put there before the resolve was taken is the queue
 * delivering an earlier message again (at least once), a repeat. Without it, or for a resolve remembered without a
 * time, a message taken before the resolve fires again.
 */
export function priorTake(recent: string[], alertId: string, insertedAt?: Date): PriorTake {
  const at = recent.lastIndexOf(alertId);
  if (at < 0) return { kind: "new", alertId };
  const resolvedAfter = recent.slice(at + 1).findLast(isResolvedMark);
  if (resolvedAfter && !queuedBefore(insertedAt, resolvedAfter)) {
    const again = firesAgainId(alertId, resolvedAfter);
    return recent.includes(again) ? { kind: "repeat", alertId: again } : { kind: "fires-again", alertId: again };
  }
  // Taken since the issue was last resolved, or queued before that: the original firing, or the one that fired again
  // after the resolve before.
  const resolvedBefore = recent.slice(0, at).findLast(isResolvedMark);
  const again = resolvedBefore && firesAgainId(alertId, resolvedBefore);
  return { kind: "repeat", alertId: again && recent.indexOf(again) > at ? again : alertId };
}

/** A firing taken again after a resolve: its own id (now taken since that resolve), then the id it was taken under. */
export function rememberFiringAgain(recent: string[], alertId: string, takenAs: string): string[] {
  return rememberAlert(rememberAlert(recent, alertId), takenAs);
}

function resolvedMark(resolvedBy: string, at: Date): string {
  return `${RESOLVED_MARK}${resolvedBy}${RESOLVED_MARK}${at.toISOString()}`;
}

function isResolvedMark(id: string): boolean {
  return id.startsWith(RESOLVED_MARK);
}

function readResolvedMark(mark: string): { resolvedBy: string; at?: number } {
  const body = mark.slice(RESOLVED_MARK.length);
  const split = body.indexOf(RESOLVED_MARK);
  if (split < 0) return { resolvedBy: body };
  const at = Date.parse(body.slice(split + RESOLVED_MARK.length));
  return { resolvedBy: body.slice(0, split), ...(Number.isNaN(at) ? {} : { at }) };
}

/**
 * Whether the message was put on the queue before the resolve was taken. Queues tell insertion times in whole
 * seconds: one of the resolve's own second counts as before it, so a firing really sent after it that second waits
 * for the source's next resend, rather than a redelivery reopening an issue nothing will resolve again.
 */
function queuedBefore(insertedAt: Date | undefined, mark: string): boolean {
  const resolvedAt = readResolvedMark(mark).at;
  if (!insertedAt || resolvedAt === undefined || Number.isNaN(insertedAt.getTime())) return false;
  return insertedAt.getTime() < resolvedAt;
}

function firesAgainId(alertId: string, resolvedMark: string): string {
  const hash = createHash("sha256")
    .update(`${alertId}\n${readResolvedMark(resolvedMark).resolvedBy}`)
    .digest("hex");
  const readable = `${alertId}:again:${hash.slice(0, 12)}`;
  return isAlertId(readable) ? readable : `again:${hash.slice(0, 32)}`;
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

function toEntity(issue: Issue, bookkeeping: { recentAlertIds: string[]; outbox: OutboxEntry[]; activityAt?: string }): IssueEntity {
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
    statusChange: issue.statusChange,
    resolution: issue.resolution ? JSON.stringify(issue.resolution) : undefined,
    regression: issue.regression ? JSON.stringify(issue.regression) : undefined,
    version: issue.version,
    recentAlertIds: JSON.stringify(bookkeeping.recentAlertIds),
    outbox: JSON.stringify(bookkeeping.outbox),
    activityAt: bookkeeping.activityAt,
  });
}

function fromEntity(entity: IssueEntity): StoredIssue {
  const assignee: Person | undefined = entity.assignee ? stripUndefined({ email: entity.assignee, name: entity.assigneeName }) : undefined;
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
    statusChange: entity.statusChange as Issue["statusChange"],
    resolution: entity.resolution ? parseJson<ReleaseResolution | undefined>(entity.resolution, undefined) : undefined,
    regression: entity.regression ? parseJson<ReleaseRegression | undefined>(entity.regression, undefined) : undefined,
    version: Number(entity.version),
  });
  return {
    issue,
    etag: entity.etag!,
    recentAlertIds: parseJson<string[]>(entity.recentAlertIds, []),
    outbox: foldAnnounced(entity, parseJson<OutboxEntry[]>(entity.outbox, [])),
    ...(entity.timestamp ? { writtenAt: entity.timestamp } : {}),
    ...(entity.activityAt ? { activityAt: entity.activityAt } : {}),
  };
}

/** The outbox with the announcements recorded beside it: `announcedV<n>` marks, and older rows' `announcedVersion`. */
function foldAnnounced(entity: IssueEntity, outbox: OutboxEntry[]): OutboxEntry[] {
  const marked = new Set<number>();
  for (const [name, value] of Object.entries(entity)) {
    const match = ANNOUNCED_MARK.exec(name);
    if (match && value === true) marked.add(Number(match[1]));
  }
  const upTo = Number(entity.announcedVersion ?? 0);
  return outbox.map((entry) => {
    if (entry.announced || !(marked.has(entry.version) || entry.version <= upTo)) return entry;
    const { claimedUntil: _claim, ...rest } = entry;
    return { ...rest, announced: true };
  });
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
