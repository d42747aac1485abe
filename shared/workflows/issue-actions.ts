import { applyAction, type ActionOutcome, type IssueAction } from "../domain/actions";
import type { Actor } from "../domain/issue";
import type { StorageClients } from "../storage/clients";
import { announcePending, changeIssue } from "./issue-events";

export type ActOutcome = ActionOutcome | { kind: "not-found"; reason: string };

/** A person's action on an issue, from any surface: decide, store (ETag), then announce. */
export async function actOnIssue(
  storage: StorageClients,
  issueId: string,
  action: IssueAction,
  actor: Actor,
  now: () => Date = () => new Date(),
): Promise<ActOutcome> {
  let outcome: ActionOutcome | undefined;
  let unannounced = false;
  const stored = await changeIssue(storage, issueId, (current) => {
    if (!current) {
      outcome = undefined;
      return undefined;
    }
    unannounced = current.outbox.some((entry) => !entry.announced);
    outcome = applyAction(current.issue, action, actor, now());
    if (outcome.kind === "changed") return { issue: outcome.issue, activities: outcome.activities };
    // The action changes nothing, but an ignore that ran out is stored as such: what the person is told is what is kept.
    if (outcome.kind === "unchanged" && outcome.expiry) return { issue: outcome.issue, activities: [outcome.expiry] };
    return undefined;
  });
  if (!outcome) return { kind: "not-found", reason: `There is no issue ${issueId} (it may have been deleted).` };
  // When this action changed nothing: an earlier change may have been stored but never announced.
  if (!stored && unannounced) await announcePending(storage, issueId);
  return outcome;
}
