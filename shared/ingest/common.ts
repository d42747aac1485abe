import { z } from "zod";
import type { Alert, AlertTarget, SchemaProblem } from "../domain/alert";
import type { Level } from "../domain/issue";
import type { IssueActionMessage } from "../domain/recovery";
import type { ReleaseMessage } from "../domain/release-notice";

/** What the request adds to every alert of a payload: `?project=` and `?target=`. */
export interface IngestOptions {
  project?: string;
  target?: AlertTarget;
}

/** What one payload becomes on the `alerts` queue: schema-v1 alerts, issue actions mirrored from the tool, or releases. */
export type QueueMessage = Alert | IssueActionMessage | ReleaseMessage;

export type Normalized = { ok: true; messages: QueueMessage[]; ignored?: string } | { ok: false; error: string; issues: SchemaProblem[] };

export function problemsOf(error: z.ZodError, prefix = ""): SchemaProblem[] {
  return error.issues.map((issue) => ({ path: [prefix, ...issue.path.map(String)].filter(Boolean).join("."), message: issue.message }));
}

/** A payload that does not match its source's documented shape. */
export function wrongShape(source: string, error: z.ZodError): Normalized {
  return { ok: false, error: `The body does not match the ${source} webhook payload.`, issues: problemsOf(error) };
}

export const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "expected an RFC 3339 timestamp");
export const labels = z.record(z.string(), z.string());

/** RFC 3339 with any precision and offset → the ISO form the alert schema stores. */
export function iso(value: string): string {
  return new Date(value).toISOString();
}

/** Labels become tags within the storage budget: a bounded number of short tags. */
const MAX_TAGS = 30;
const MAX_TAG_KEY = 100;
const MAX_TAG_VALUE = 200;

export function tagsFrom(entries: Iterable<[string, string]>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (Object.keys(tags).length >= MAX_TAGS) break;
    if (!key || key.length > MAX_TAG_KEY) continue;
    tags[key] = value.slice(0, MAX_TAG_VALUE);
  }
  return tags;
}

/** Alertmanager/Grafana `severity` label → level. Unknown or absent: error, so subscriptions at error see it. */
export function levelFromSeverity(severity: string | undefined): Level {
  switch (severity?.trim().toLowerCase()) {
    case "critical":
    case "fatal":
    case "page":
      return "fatal";
    case "warning":
    case "warn":
      return "warning";
    case "info":
    case "informational":
    case "none":
      return "info";
    case "debug":
      return "debug";
    default:
      return "error";
  }
}

export function httpUrl(value: string | undefined | null): string | undefined {
  if (!value || value.length > 2000 || !URL.canParse(value)) return undefined;
  const protocol = new URL(value).protocol;
  return protocol === "https:" || protocol === "http:" ? value : undefined;
}

export function clip(value: string | undefined | null, max: number): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, max) : undefined;
}

/** The fields every normalizer sets the same way from the request. */
export function withOptions(alert: Alert, options: IngestOptions, projectFromPayload: string | undefined): Alert {
  return {
    ...alert,
    // `?.`: /api/ingest/alerts passes bodies through before validating them, an issue may be missing.
    issue: { ...alert.issue, project: projectFromPayload ?? options.project ?? alert.issue?.project },
    ...(options.target ? { targets: [options.target] } : {}),
  };
}
