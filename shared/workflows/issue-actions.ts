import { applyAction, type ActionOutcome, type IssueAction } from "../domain/actions";
import type { Actor } from "../domain/issue";
import type { StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import { announcePending } from "./issue-events";

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
  const stored = await new IssueRepository(storage).change(issueId, (current) => {
    if (!current) {
      outcome = undefined;
      return undefined;
    }
    unannounced = current.announcedVersion < current.issue.version;
    outcome = applyAction(current.issue, action, actor, now());
    return outcome.kind === "changed" ? { issue: outcome.issue, activities: [outcome.activity] } : undefined;
  });
  if (!outcome) return { kind: "not-found", reason: `There is no issue ${issueId} (it may have been deleted).` };
  // Also when this action changed nothing: an earlier change may have been stored but never announced.
  if (stored || unannounced) await announcePending(storage, issueId);
  return outcome;
}
