import type { SchemaProblem } from "../domain/alert";
import type { Issue } from "../domain/issue";

/** What an operator reads on `alerts-poison` (ARCHITECTURE.md, the poison format). */
export interface PoisonMessage {
  error: string;
  issues: SchemaProblem[];
  original: string;
  /** Set when `original` was cut to fit a queue message. */
  truncated?: true;
}

export type AlertIntakeResult =
  | { kind: "poisoned"; poison: PoisonMessage }
  /** `deliveries`: targets queued for the deliverer; `posted`: targets the alerts handler posted to itself (a new issue's first cards). */
  | { kind: "accepted"; issue: Issue; duplicate: boolean; deliveries: number; posted?: number }
  /** An issue action (a change mirrored from the monitoring tool) for an issue this relay never received. */
  | { kind: "no-issue"; issueId: string };

/** A queue message holds 64 KiB of base64 text, so about 48 KiB of JSON: keep the poison message well inside. */
const MAX_POISON_BYTES = 40_000;
const MAX_ISSUES = 20;

export function poisonFor(error: string, issues: SchemaProblem[], original: string): PoisonMessage {
  const poison: PoisonMessage = {
    error,
    issues: issues.slice(0, MAX_ISSUES).map((issue) => ({ path: issue.path.slice(0, 200), message: issue.message.slice(0, 300) })),
    original,
  };
  while (Buffer.byteLength(JSON.stringify(poison)) > MAX_POISON_BYTES) {
    poison.original = poison.original.slice(0, Math.floor(poison.original.length * 0.8));
    poison.truncated = true;
  }
  return poison;
}
