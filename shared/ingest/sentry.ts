import { createHash } from "node:crypto";
import { z } from "zod";
import type { Alert } from "../domain/alert";
import type { Level } from "../domain/issue";
import type { IssueActionMessage } from "../domain/recovery";
import { clip, cut, httpUrl, iso, LIMITS, tagsFrom, timestamp, withOptions, wrongShape, type IngestOptions, type Normalized } from "./common";

/** Sentry-Hook-Resource values we take; other resources (installation, comment, …) are acknowledged and dropped. */
export const SENTRY_RESOURCES = ["event_alert", "metric_alert", "issue"] as const;

const sentryId = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, "expected a Sentry id"));
const sentryLevel = z.string().optional();

/** https://docs.sentry.io/integrations/integration-platform/webhooks/issue-alerts/ */
export const eventAlertPayload = z.object({
  action: z.literal("triggered"),
  data: z.object({
    event: z.object({
      event_id: z.string().min(1).max(64),
      issue_id: sentryId,
      title: z.string().min(1),
      culprit: z.string().nullish(),
      level: sentryLevel,
      datetime: timestamp,
      environment: z.string().nullish(),
      project: z.union([z.string(), z.number()]).optional(),
      url: z.string().optional(),
      web_url: z.string().optional(),
      tags: z.array(z.tuple([z.string(), z.string()])).nullish(),
    }),
    triggered_rule: z.string().optional(),
  }),
});

/** https://docs.sentry.io/integrations/integration-platform/webhooks/metric-alerts/ */
export const metricAlertPayload = z.object({
  action: z.enum(["critical", "warning", "resolved"]),
  data: z.object({
    description_text: z.string().optional(),
    description_title: z.string().optional(),
    metric_alert: z.object({
      id: sentryId,
      title: z.string().optional(),
      date_started: timestamp,
      date_closed: timestamp.nullish(),
      projects: z.array(z.string()).optional(),
      alert_rule: z.object({ id: sentryId, name: z.string().min(1), environment: z.string().nullish(), projects: z.array(z.string()).optional() }),
    }),
    web_url: z.string().optional(),
  }),
});

/** https://docs.sentry.io/integrations/integration-platform/webhooks/issues/ */
export const issuePayload = z.object({
  action: z.string().min(1),
  data: z.object({
    issue: z.object({
      id: sentryId,
      shortId: z.string().optional(),
      title: z.string().min(1),
      culprit: z.string().nullish(),
      level: sentryLevel,
      status: z.string().optional(),
      substatus: z.string().nullish(),
      statusDetails: z.record(z.string(), z.unknown()).nullish(),
      project: z.object({ slug: z.string().min(1) }),
      count: z.union([z.string(), z.number()]).optional(),
      userCount: z.number().int().nonnegative().optional(),
      firstSeen: timestamp,
      lastSeen: timestamp,
      permalink: z.string().nullish(),
      web_url: z.string().optional(),
      assignedTo: z.object({ type: z.string().optional(), email: z.string().optional() }).nullish(),
    }),
  }),
});

export function normalizeSentry(resource: string | null, payload: unknown, options: IngestOptions = {}): Normalized {
  switch (resource) {
    case "event_alert": {
      const parsed = eventAlertPayload.safeParse(payload);
      return parsed.success ? { ok: true, messages: [eventAlert(parsed.data, options)] } : wrongShape("Sentry event_alert", parsed.error);
    }
    case "metric_alert": {
      const parsed = metricAlertPayload.safeParse(payload);
      return parsed.success ? { ok: true, messages: [metricAlert(parsed.data, options)] } : wrongShape("Sentry metric_alert", parsed.error);
    }
    case "issue": {
      const parsed = issuePayload.safeParse(payload);
      if (!parsed.success) return wrongShape("Sentry issue", parsed.error);
      const message = issueChange(parsed.data, options);
      return typeof message === "string" ? { ok: true, messages: [], ignored: message } : { ok: true, messages: [message] };
    }
    default:
      return { ok: true, messages: [], ignored: `Sentry-Hook-Resource ${resource ?? "(none)"} is not an alert` };
  }
}

function levelOf(level: string | undefined): Level {
  const known: Level[] = ["debug", "info", "warning", "error", "fatal"];
  return known.includes(level as Level) ? (level as Level) : "error";
}

/** `https://sentry.io/api/0/projects/<org>/<project>/events/<id>/` → `<project>` */
function projectSlugFromApiUrl(url: string | undefined): string | undefined {
  return url?.match(/\/projects\/[^/]+\/([^/]+)\//)?.[1];
}

function eventAlert(payload: z.infer<typeof eventAlertPayload>, options: IngestOptions): Alert {
  const event = payload.data.event;
  const issueId = `sentry:${event.issue_id}`;
  const tags = event.tags ?? [];
  return withOptions(
    {
      schemaVersion: 1,
      alertId: `${issueId}:firing:${event.event_id}`,
      status: "firing",
      issue: {
        id: issueId,
        project: projectSlugFromApiUrl(event.url) ?? String(event.project ?? "sentry"),
        title: cut(event.title, LIMITS.title),
        culprit: clip(event.culprit, LIMITS.culprit),
        level: levelOf(event.level),
        environment: clip(event.environment ?? tags.find(([key]) => key === "environment")?.[1], LIMITS.environment),
        // The event's page, cut back to its issue's page.
        url: httpUrl(event.web_url?.replace(/events\/[^/]+\/?$/, "")),
        count: 1,
        userCount: 0,
        firstSeen: iso(event.datetime),
        lastSeen: iso(event.datetime),
        tags: tagsFrom(tags),
      },
      ...(payload.data.triggered_rule
        ? { rule: { id: cut(payload.data.triggered_rule, LIMITS.ruleId), name: cut(payload.data.triggered_rule, LIMITS.ruleName) } }
        : {}),
    },
    options,
    undefined,
  );
}

/**
 * Within one incident Sentry notifies each change of status (critical → warning → critical …), and the incident's
 * fields stay the same: each notification is told apart by its `notification_uuid` (in `web_url`), else by its
 * text (the metric's value when it changed).
 */
function metricAlertId(issueId: string, status: string, payload: z.infer<typeof metricAlertPayload>): string {
  const url = payload.data.web_url;
  const uuid = url && URL.canParse(url) ? new URL(url).searchParams.get("notification_uuid") : null;
  const text = payload.data.description_text;
  const notification =
    uuid && /^[0-9A-Za-z-]{1,64}$/.test(uuid) ? uuid : text ? createHash("sha256").update(text).digest("hex").slice(0, 16) : undefined;
  return [issueId, status, payload.action, notification].filter(Boolean).join(":");
}

function metricAlert(payload: z.infer<typeof metricAlertPayload>, options: IngestOptions): Alert {
  const incident = payload.data.metric_alert;
  const rule = incident.alert_rule;
  const issueId = `sentry:incident-${incident.id}`;
  const status = payload.action === "resolved" ? "resolved" : "firing";
  return withOptions(
    {
      schemaVersion: 1,
      alertId: metricAlertId(issueId, status, payload),
      status,
      issue: {
        id: issueId,
        project: rule.projects?.[0] ?? incident.projects?.[0] ?? "sentry",
        title: cut(rule.name, LIMITS.title),
        description: clip(payload.data.description_text?.replaceAll("\\n", "\n"), LIMITS.description),
        level: payload.action === "critical" ? "fatal" : "warning",
        environment: clip(rule.environment, LIMITS.environment),
        url: httpUrl(payload.data.web_url),
        count: 1,
        userCount: 0,
        firstSeen: iso(incident.date_started),
        lastSeen: iso(status === "resolved" && incident.date_closed ? incident.date_closed : incident.date_started),
        tags: { incident: incident.id },
      },
      rule: { id: rule.id, name: cut(rule.name, LIMITS.ruleName) },
    },
    options,
    undefined,
  );
}

/**
 * `created` is the issue's first alert; resolved/unresolved/archived/ignored/assigned mirror the change made
 * in Sentry onto the issue (surface alert, actor sentry). `unresolved` with substatus `regressed` is Sentry's own
 * regression (a new event reopened the resolved issue; its `event_alert` follows): a regression here too, with the
 * request's target for its new cards. Returns why when there is nothing to mirror.
 */
function issueChange(payload: z.infer<typeof issuePayload>, options: IngestOptions): Alert | IssueActionMessage | string {
  const issue = payload.data.issue;
  const issueId = `sentry:${issue.id}`;
  const action = (type: IssueActionMessage["action"]): IssueActionMessage => ({
    schemaVersion: 1,
    kind: "issue-action",
    issueId,
    source: "sentry",
    action: type,
  });
  switch (payload.action) {
    case "created":
      return withOptions(
        {
          schemaVersion: 1,
          alertId: `${issueId}:firing:created`,
          status: "firing",
          issue: {
            id: issueId,
            shortId: clip(issue.shortId, LIMITS.shortId),
            project: cut(issue.project.slug, LIMITS.project),
            title: cut(issue.title, LIMITS.title),
            culprit: clip(issue.culprit, LIMITS.culprit),
            level: levelOf(issue.level),
            url: httpUrl(issue.web_url) ?? httpUrl(issue.permalink),
            count: Math.max(1, Number.parseInt(String(issue.count ?? "1"), 10) || 1),
            userCount: issue.userCount ?? 0,
            firstSeen: iso(issue.firstSeen),
            lastSeen: iso(issue.lastSeen),
            tags: {},
          },
        },
        options,
        undefined,
      );
    case "resolved":
      return action({ type: "resolve", ...releaseChoice(issue.statusDetails ?? {}) });
    case "unresolved":
      if (issue.substatus === "regressed")
        return action({ type: "regress", at: iso(issue.lastSeen), ...(options.target ? { targets: [options.target] } : {}) });
      return action({ type: "unresolve" });
    case "archived":
    case "ignored":
      return action({ type: "ignore", ignore: ignoreFrom(issue.statusDetails ?? {}) });
    case "assigned": {
      const email = issue.assignedTo?.email;
      if (!email || !z.email().safeParse(email).success) return "assigned to a team or a person without an email: nothing to mirror";
      return action({ type: "assign", assignee: { email: email.toLowerCase() } });
    }
    default:
      return `issue action ${payload.action.slice(0, 40)} is not mirrored`;
  }
}

/** Sentry's "resolved in the next release" / "in release X" (statusDetails) as our release choice. */
function releaseChoice(details: Record<string, unknown>): { inRelease?: "current" | "next" } {
  if (details.inNextRelease === true) return { inRelease: "next" };
  if (typeof details.inRelease === "string" && details.inRelease) return { inRelease: "current" };
  return {};
}

/** Sentry's archive conditions (statusDetails) as our ignore conditions; anything else is "forever". */
function ignoreFrom(details: Record<string, unknown>): Extract<IssueActionMessage["action"], { type: "ignore" }>["ignore"] {
  const whole = (value: unknown) => (typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined);
  const minutes = whole(details.ignoreDuration);
  if (minutes) return { mode: "minutes", minutes };
  const count = whole(details.ignoreCount);
  if (count) return { mode: "events", count };
  const users = whole(details.ignoreUserCount);
  if (users) return { mode: "users", count: users };
  return { mode: "forever" };
}
