import { z } from "zod";
import type { Alert } from "../domain/alert";
import {
  clip,
  cut,
  httpUrl,
  iso,
  labels,
  LIMITS,
  levelFromSeverity,
  tagsFrom,
  timestamp,
  withOptions,
  wrongShape,
  type IngestOptions,
  type Normalized,
} from "./common";

/** One alert of a group (prometheus/alertmanager template.Alert; Grafana adds values, silenceURL, …). */
const groupAlert = z.object({
  status: z.enum(["firing", "resolved"]),
  labels,
  annotations: labels.default({}),
  startsAt: timestamp,
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().regex(/^[0-9a-fA-F]{1,64}$/, "expected the alert's hex fingerprint"),
});

const group = {
  receiver: z.string(),
  status: z.enum(["firing", "resolved"]),
  // No count limit of our own: the 1 MiB body limit bounds a group (a refused group would be dropped by the sender).
  alerts: z.array(groupAlert).min(1),
  groupLabels: labels.default({}),
  commonLabels: labels.default({}),
  commonAnnotations: labels.default({}),
  externalURL: z.string().optional(),
  groupKey: z.string().optional(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
};

/** Prometheus Alertmanager `webhook_config` payload, version 4. */
export const alertmanagerPayload = z.object({ ...group, version: z.literal("4") });

/** Grafana Alerting webhook contact point: the same group plus `orgId` (its `version` is Grafana's own). */
export const grafanaPayload = z.object({ ...group, orgId: z.number().int(), version: z.string().optional() });

type Group = z.infer<typeof alertmanagerPayload> | z.infer<typeof grafanaPayload>;
type Source = "alertmanager" | "grafana";

export function normalizeAlertmanager(payload: unknown, options: IngestOptions = {}): Normalized {
  return normalizeGroup("alertmanager", alertmanagerPayload.safeParse(payload), options);
}

export function normalizeGrafana(payload: unknown, options: IngestOptions = {}): Normalized {
  return normalizeGroup("grafana", grafanaPayload.safeParse(payload), options);
}

/** Every alert of the group becomes one schema-v1 alert: a group of 50 is 50 alerts. */
function normalizeGroup(source: Source, parsed: z.ZodSafeParseResult<Group>, options: IngestOptions): Normalized {
  if (!parsed.success) return wrongShape(source === "grafana" ? "Grafana" : "Alertmanager", parsed.error);
  const payload = parsed.data;
  return { ok: true, messages: payload.alerts.map((alert) => toAlert(source, payload, alert, options)) };
}

function toAlert(source: Source, payload: Group, alert: z.infer<typeof groupAlert>, options: IngestOptions): Alert {
  const issueId = `${source}:${alert.fingerprint.toLowerCase()}`;
  const ended = alert.status === "resolved" && alert.endsAt && !alert.endsAt.startsWith("0001-") && !Number.isNaN(Date.parse(alert.endsAt));
  const name = alert.labels.alertname;
  return withOptions(
    {
      schemaVersion: 1,
      // An alert that fires again after a recovery keeps its startsAt (the intake takes that firing again); each of
      // its recoveries has its own endsAt.
      alertId: `${issueId}:${alert.status}:${ended ? alert.endsAt : alert.startsAt}`,
      status: alert.status,
      issue: {
        id: issueId,
        project: clip(payload.receiver, LIMITS.project) ?? source,
        title: clip(alert.annotations.summary, LIMITS.title) ?? clip(name, LIMITS.title) ?? `${source} alert ${alert.fingerprint}`,
        culprit: clip(alert.labels.instance ?? alert.labels.job, LIMITS.culprit),
        description: clip(alert.annotations.description, LIMITS.description),
        level: levelFromSeverity(alert.labels.severity),
        environment: clip(alert.labels.environment ?? alert.labels.env, LIMITS.environment),
        url: httpUrl(alert.generatorURL) ?? httpUrl(payload.externalURL),
        count: 1,
        userCount: 0,
        firstSeen: iso(alert.startsAt),
        lastSeen: iso(ended ? alert.endsAt! : alert.startsAt),
        tags: tagsFrom(Object.entries(alert.labels)),
      },
      ...(name ? { rule: { id: cut(name, LIMITS.ruleId), name: cut(name, LIMITS.ruleName) } } : {}),
    },
    options,
    clip(alert.labels.project, LIMITS.project),
  );
}
