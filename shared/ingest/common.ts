import { z } from "zod";
import { ALERT_LIMITS, type Alert, type AlertTarget, type SchemaProblem } from "../domain/alert";
import { ID_LIMITS } from "../domain/ids";
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

/**
 * The alert schema's limits for what a webhook fills from text of any length: such text is cut to them, never
 * refused (a monitoring tool does not retry a 4xx, so a refused batch would be lost).
 */
export const LIMITS = { ...ALERT_LIMITS, project: ID_LIMITS.project } as const;

/** Labels become tags within the storage budget: at most the schema's number of tags, each value short. */
const MAX_TAG_VALUE = 200;

export function tagsFrom(entries: Iterable<[string, string]>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (Object.keys(tags).length >= LIMITS.tags) break;
    if (!key || key.length > LIMITS.tagKey) continue;
    tags[key] = cut(value, MAX_TAG_VALUE);
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
  return trimmed ? cut(trimmed, max) : undefined;
}

/** At most `max` UTF-16 units of `value`, never ending inside a surrogate pair (half an emoji cannot be stored). */
export function cut(value: string, max: number): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
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
