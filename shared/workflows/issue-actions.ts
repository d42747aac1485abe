import { applyAction, type ActionOutcome, type IssueAction } from "../domain/actions";
import type { Actor } from "../domain/issue";
import type { StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import { announceChange } from "./issue-events";
import { scheduleIgnoreExpiry } from "./refresh-cards";

export type ActOutcome = ActionOutcome | { kind: "not-found"; reason: string };

/** A person's action on an issue, from any surface: decide, store (ETag), record, announce. */
export async function actOnIssue(
  storage: StorageClients,
  issueId: string,
  action: IssueAction,
  actor: Actor,
  now: () => Date = () => new Date(),
): Promise<ActOutcome> {
  let outcome: ActionOutcome | undefined;
  const stored = await new IssueRepository(storage).change(issueId, (current) => {
    if (!current) {
      outcome = undefined;
      return undefined;
    }
    outcome = applyAction(current.issue, action, actor, now());
    return outcome.kind === "changed" ? { issue: outcome.issue, activities: [outcome.activity] } : undefined;
  });
  if (!outcome) return { kind: "not-found", reason: `There is no issue ${issueId} (it may have been deleted).` };
  if (stored) {
    await announceChange(storage, stored.issue, stored.activities);
    await scheduleIgnoreExpiry(storage, stored.issue);
  }
  return outcome;
}
