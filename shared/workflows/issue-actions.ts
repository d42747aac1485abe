import { applyAction, type ActionOutcome, type IssueAction } from "../domain/actions";
import type { Actor, Issue } from "../domain/issue";
import type { StorageClients } from "../storage/clients";
import { rememberResolvedByPerson } from "../storage/issues";
import { announcePending, changeIssue } from "./issue-events";

export type ActOutcome = ActionOutcome | { kind: "not-found"; reason: string };

/** An action decided and stored, its announcements not yet sent. */
export interface ActedOnIssue {
  outcome: ActOutcome;
  /** The issue as this action left it (written, or read when nothing changed); absent when there is none. */
  issue?: Issue;
  /** When the action wrote the issue: a moment before the write was sent, so the issue was `issue` at or after it. */
  writtenAfter?: number;
  /**
   * Sends what the action must announce (history lines, issue-events, the card refresh), or, when it changed
   * nothing, the changes an earlier writer left unannounced. Call it once (more calls share the first).
   */
  announce(): Promise<void>;
}

const nothingToAnnounce = () => Promise.resolve();

/** A person's action on an issue, from any surface: decide, store (ETag), then announce. */
export async function actOnIssue(
  storage: StorageClients,
  issueId: string,
  action: IssueAction,
  actor: Actor,
  now: () => Date = () => new Date(),
): Promise<ActOutcome> {
  const acted = await actOnIssueAnnounceLater(storage, issueId, action, actor, now);
  await acted.announce();
  return acted.outcome;
}

/** Applies one action to one issue for an actor: every surface goes through one of these. */
export type ActOnIssue = (storage: StorageClients, issueId: string, action: IssueAction, actor: Actor, now?: () => Date) => Promise<ActedOnIssue>;

/**
 * `actOnIssue` for a click, whose answer needs only the stored change: two storage requests (read, ETag write)
 * and the caller announces once the clicker has the answer. A change whose announcement never runs (the
 * instance stopped) is announced by the next toucher of the issue once its writer's claim runs out.
 */
export const actOnIssueAnnounceLater: ActOnIssue = async (storage, issueId, action, actor, now = () => new Date()) => {
  let outcome: ActionOutcome | undefined;
  let read: Issue | undefined;
  let leftUnannounced = false;
  let decidedAt = 0;
  const stored = await changeIssue(
    storage,
    issueId,
    (current) => {
      if (!current) {
        outcome = undefined;
        return undefined;
      }
      read = current.issue;
      decidedAt = Date.now();
      // Only changes nobody is announcing: one still claimed is its writer's (or claimant's) to send.
      leftUnannounced = current.outbox.some((entry) => !entry.announced && !(entry.claimedUntil && Date.parse(entry.claimedUntil) > Date.now()));
      outcome = applyAction(current.issue, action, actor, now());
      if (outcome.kind === "changed") {
        // The source still firing after this resolve reopens the issue with its next resend (`priorTake`).
        const recentAlertIds =
          action.type === "resolve" ? rememberResolvedByPerson(current.recentAlertIds, outcome.issue.version, new Date(decidedAt)) : undefined;
        return { issue: outcome.issue, activities: outcome.activities, ...(recentAlertIds ? { recentAlertIds } : {}) };
      }
      // The action changes nothing, but an ignore that ran out is stored as such: what the person is told is what is kept.
      if (outcome.kind === "unchanged" && outcome.expiry) return { issue: outcome.issue, activities: [outcome.expiry] };
      return undefined;
    },
    { announceLater: true },
  );
  if (!outcome)
    return { outcome: { kind: "not-found", reason: `There is no issue ${issueId} (it may have been deleted).` }, announce: nothingToAnnounce };
  if (stored) return { outcome, issue: stored.issue, writtenAfter: decidedAt, announce: stored.announce! };
  if (!leftUnannounced) return { outcome, issue: read, announce: nothingToAnnounce };
  // This action changed nothing, but an earlier change was stored and its writer never announced it.
  let announcing: Promise<void> | undefined;
  return { outcome, issue: read, announce: () => (announcing ??= announcePending(storage, issueId).then(() => undefined)) };
};

/**
 * Clicks on one issue in this instance: a click that arrives while another is being applied waits for it, and
 * when that one wrote the issue after this click arrived, decides from what it wrote. Twenty people clicking
 * Resolve on one card at once then cost one read and one write: the first resolves it, the others are told it
 * is already resolved without reading it again (and without twenty ETag writes racing). A click that would
 * change the issue takes its own turn, read and ETag write as ever.
 */
export const actOnIssueInTurn: ActOnIssue = async (storage, issueId, action, actor, now = () => new Date()) => {
  const arrivedAt = Date.now();
  const lines = linesOf(storage);
  const ahead = lines.get(issueId);
  if (ahead) {
    const seen = await ahead.catch(() => undefined);
    if (seen?.issue && seen.writtenAfter !== undefined && seen.writtenAfter >= arrivedAt) {
      const outcome = applyAction(seen.issue, action, actor, now());
      if (outcome.kind === "refused" || (outcome.kind === "unchanged" && !outcome.expiry))
        return { outcome, issue: seen.issue, announce: nothingToAnnounce };
    }
  }
  const mine = actOnIssueAnnounceLater(storage, issueId, action, actor, now);
  lines.set(issueId, mine);
  try {
    return await mine;
  } finally {
    if (lines.get(issueId) === mine) lines.delete(issueId);
  }
};

/** The latest click being applied per issue, per storage account (one per instance in production). */
const inFlight = new WeakMap<StorageClients, Map<string, Promise<ActedOnIssue>>>();

function linesOf(storage: StorageClients): Map<string, Promise<ActedOnIssue>> {
  let lines = inFlight.get(storage);
  if (!lines) inFlight.set(storage, (lines = new Map()));
  return lines;
}
