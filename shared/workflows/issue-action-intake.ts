import { issueActionMessageSchema, toIssueAction } from "../domain/recovery";
import { QUEUES, type StorageClients } from "../storage/clients";
import { IssueRepository } from "../storage/issues";
import { poisonFor, type AlertIntakeResult } from "./intake-result";
import { actOnIssue } from "./issue-actions";

/**
 * An issue action off the `alerts` queue (a change made in the monitoring tool, e.g. resolved in Sentry):
 * applied with the same actions and workflow as a click on a card, by the source (surface `alert`).
 * Actions are idempotent, so a redelivered message changes nothing the second time.
 */
export async function takeIssueAction(storage: StorageClients, message: unknown, originalText: string): Promise<AlertIntakeResult> {
  const input = typeof message === "string" ? JSON.parse(message) : message; // isIssueActionMessage parsed it already
  const parsed = issueActionMessageSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
    const poison = poisonFor("The message does not match the issue-action message.", issues, originalText);
    await storage.send(`${QUEUES.alerts}-poison`, poison);
    return { kind: "poisoned", poison };
  }
  const request = parsed.data;
  const actor = { label: request.source, surface: "alert" as const };
  const action = toIssueAction(request);
  let outcome = await actOnIssue(storage, request.issueId, action, actor);
  if (outcome.kind === "refused" && action.type === "resolve" && action.inRelease) {
    // The tool has resolved it; with no release known here, mirroring it resolved beats leaving the card open.
    outcome = await actOnIssue(storage, request.issueId, { type: "resolve" }, actor);
  }
  if (outcome.kind === "not-found") return { kind: "no-issue", issueId: request.issueId };
  // Refused (e.g. ignoring an issue resolved here meanwhile): the issue stays as it is, like a refused click.
  const issue = outcome.kind === "refused" ? (await new IssueRepository(storage).get(request.issueId))?.issue : outcome.issue;
  if (!issue) return { kind: "no-issue", issueId: request.issueId };
  return { kind: "accepted", issue, duplicate: outcome.kind !== "changed", deliveries: 0 };
}
