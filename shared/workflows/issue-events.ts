import type { ActivityRecord } from "../domain/actions";
import { queueCardRefresh, type CardRefreshMessage } from "../storage/card-refresh-queue";
import { QUEUES, type StorageClients } from "../storage/clients";
import { sleep } from "../storage/table";
import { ActivityRepository, IssueRepository, OutboxFullError, type OutboxEntry, type StoredChange, type StoredIssue } from "../storage/issues";
import { scheduleIgnoreExpiry } from "../storage/ignore-expiry";

/** One message on `issue-events` per state change: the producers' feed back (schema v1). */
export interface IssueEvent {
  schemaVersion: 1;
  eventId: string;
  issueId: string;
  action: ActivityRecord["action"];
  actor: string;
  surface: ActivityRecord["surface"];
  from: ActivityRecord["fromStatus"];
  to: ActivityRecord["toStatus"];
  detail?: string;
  issueVersion: number;
  at: string;
}

/**
 * Announces the issue's unannounced changes: their history lines (activities), one issue-event per
 * line (ids stable per change, so a repeat after a failure is recognisable), a card refresh, and the
 * wake-up of a time-bound ignore.
 *
 * `ownVersion` is the change the caller just wrote (or, for a redelivered alert, wrote before): it is
 * the caller's to announce. Other changes are announced only once nobody has them, claimed first
 * (an ETag write): so in the normal path each change goes out once, and after a failure at least once.
 * Returns the issue as read. Safe to call again; cheap when nothing is pending.
 */
export async function announcePending(
  storage: StorageClients,
  issueId: string,
  ownVersion?: number,
  written?: StoredIssue,
  options: AnnounceOptions = {},
): Promise<StoredIssue | undefined> {
  return (await announce(storage, issueId, ownVersion, written, options)).stored;
}

export interface AnnounceOptions {
  /**
   * Every copy of the issue's card will show these changes without a refresh of their own: a card refresh is queued
   * and not yet started (`RefreshGate.pendingRunCovers`), or no card of the issue was ever posted (`anyCardPosted`:
   * the deliverer of each first card reads the issue after recording it). Unless the changes have history lines
   * (their issue-events, thread lines), no refresh is queued for them. In an alert storm, most repeat alerts find
   * one or the other: each saves a queue message and the refresh's run.
   */
  cardsCovered?: boolean;
}

/** `written`: the issue as the caller just wrote it, used instead of reading it again. */
async function announce(
  storage: StorageClients,
  issueId: string,
  ownVersion?: number,
  written?: StoredIssue,
  options: AnnounceOptions = {},
): Promise<{ stored?: StoredIssue; sent: number }> {
  const repository = new IssueRepository(storage);
  const stored = written ?? (await repository.get(issueId));
  if (!stored) return { sent: 0 };
  const own = stored.outbox.filter((entry) => entry.version === ownVersion && !entry.announced);
  const now = Date.now();
  const othersPending = stored.outbox.some(
    (entry) => entry.version !== ownVersion && !entry.announced && !(entry.claimedUntil && Date.parse(entry.claimedUntil) > now),
  );
  const claimed = othersPending ? (await repository.claimUnannounced(issueId)).filter((entry) => entry.version !== ownVersion) : [];
  const entries = [...own, ...claimed].sort((a, b) => a.version - b.version);
  if (entries.length === 0) return { stored, sent: 0 };
  try {
    await send(storage, stored, entries, options);
  } catch (error) {
    // Whoever touches the issue next announces them, without waiting for the claim to run out.
    await repository
      .releaseClaims(
        issueId,
        entries.map((entry) => entry.version),
      )
      .catch(() => undefined);
    throw error;
  }
  await repository.markAnnounced(
    issueId,
    entries.map((entry) => entry.version),
  );
  return { stored, sent: entries.length };
}

async function send(storage: StorageClients, stored: StoredIssue, entries: OutboxEntry[], options: AnnounceOptions): Promise<void> {
  for (const entry of entries) {
    const activities = entry.activities.map((activity, n) => ({ ...activity, key: `${entry.version}.${n}` }));
    await new ActivityRepository(storage).append(activities);
    for (const activity of activities) await storage.send(QUEUES.issueEvents, issueEvent(activity, entry.version));
  }
  if (options.cardsCovered && entries.every((entry) => entry.activities.length === 0)) return;
  const refresh: CardRefreshMessage = { issueId: stored.issue.id, version: stored.issue.version, requestedAt: new Date().toISOString() };
  await queueCardRefresh(storage, refresh);
  // One wake-up per "ignore for N minutes", not per change while it lasts.
  if (entries.some((entry) => entry.activities.some((activity) => activity.action === "ignore"))) await scheduleIgnoreExpiry(storage, stored.issue);
}

/** How long a change waits, at most, for the changes before it to be announced when the outbox is full. */
const FULL_OUTBOX_ROUNDS = 12;

/**
 * Changes an issue (`IssueRepository.change`) and announces the change. When the issue already holds
 * as many unannounced changes as it can, those are announced first (never dropped); if they can't be
 * (the queues are failing, or their writers are still at it), the change fails with an error to retry.
 */
export async function changeIssue(
  storage: StorageClients,
  issueId: string,
  decide: Parameters<IssueRepository["change"]>[1],
  options: { announceLater?: boolean } = {},
): Promise<(StoredChange & { stored: StoredIssue | undefined; announce?: (options?: AnnounceOptions) => Promise<void> }) | undefined> {
  const repository = new IssueRepository(storage);
  let before: StoredIssue | undefined;
  for (let round = 1; ; round++) {
    let change: StoredChange | undefined;
    try {
      change = await repository.change(issueId, (current) => {
        before = current;
        return decide(current);
      });
    } catch (error) {
      if (!(error instanceof OutboxFullError) || round >= FULL_OUTBOX_ROUNDS) throw error;
      const { sent } = await announce(storage, issueId).catch((cause: unknown) => {
        throw new OutboxFullError(issueId, error.unannounced, { cause });
      });
      if (sent === 0) await sleep(100 * round + Math.random() * 100 * round); // their writers are announcing them
      continue;
    }
    if (!change) return undefined;
    if (options.announceLater) return { ...change, ...announcementLater(storage, change, before) };
    const stored = await announcePending(storage, issueId, change.issue.version, writtenRow(change, before));
    return { ...change, stored };
  }
}

/**
 * With `announceLater`, for a person waiting on the answer: the change is stored (claimed by this writer, as
 * always) and `announce` sends its announcements from the issue as just written, without reading it again.
 * The caller starts it once the person has their answer. Should it never run (the instance stopped), the
 * change waits in the outbox like any change whose writer died: whoever touches the issue once the claim
 * has run out announces it.
 */
function announcementLater(
  storage: StorageClients,
  change: StoredChange,
  before: StoredIssue | undefined,
): { stored: StoredIssue; announce: (options?: AnnounceOptions) => Promise<void> } {
  const written = writtenRow(change, before);
  let announcing: Promise<void> | undefined;
  const announce = (options?: AnnounceOptions) =>
    (announcing ??= announcePending(storage, change.issue.id, change.issue.version, written, options).then(() => undefined));
  return { stored: written, announce };
}

/** The issue row as a change just wrote it (its ETag and alert ids aside), so announcing it needn't read it again. */
function writtenRow(change: StoredChange, before: StoredIssue | undefined): StoredIssue {
  return {
    issue: change.issue,
    etag: "",
    recentAlertIds: before?.recentAlertIds ?? [],
    outbox: [...(before?.outbox ?? []).filter((entry) => entry.version !== change.entry.version), change.entry],
  };
}

function issueEvent(activity: ActivityRecord & { key: string }, version: number): IssueEvent {
  return {
    schemaVersion: 1,
    eventId: `${activity.issueId}:${activity.key}`,
    issueId: activity.issueId,
    action: activity.action,
    actor: activity.actor,
    surface: activity.surface,
    from: activity.fromStatus,
    to: activity.toStatus,
    ...(activity.detail ? { detail: activity.detail } : {}),
    issueVersion: version,
    at: activity.at,
  };
}
