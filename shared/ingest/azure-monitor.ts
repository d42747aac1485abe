import { createHash } from "node:crypto";
import { z } from "zod";
import type { Level } from "../domain/issue";
import { clip, cut, iso, LIMITS, tagsFrom, timestamp, withOptions, wrongShape, type IngestOptions, type Normalized } from "./common";

const SEVERITY_LEVEL: Record<string, Level> = { Sev0: "fatal", Sev1: "error", Sev2: "warning", Sev3: "info", Sev4: "debug" };

/** Azure Monitor common alert schema (https://learn.microsoft.com/azure/azure-monitor/alerts/alerts-common-schema). */
export const azureMonitorPayload = z.object({
  schemaId: z.literal("azureMonitorCommonAlertSchema"),
  data: z.object({
    essentials: z.object({
      alertId: z.string().min(1).max(1000),
      alertRule: z.string().min(1),
      severity: z.enum(["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"]),
      signalType: z.string().optional(),
      monitorCondition: z.enum(["Fired", "Resolved"]),
      monitoringService: z.string().min(1),
      alertTargetIDs: z.array(z.string()).nullish(),
      configurationItems: z.array(z.string()).nullish(),
      originAlertId: z.string().nullish(),
      firedDateTime: timestamp,
      resolvedDateTime: timestamp.nullish(),
      description: z.string().nullish(),
    }),
    alertContext: z.unknown().optional(),
    customProperties: z.record(z.string(), z.string()).nullish(),
  }),
});

type Essentials = z.infer<typeof azureMonitorPayload>["data"]["essentials"];

/**
 * The parts of `alertContext` that say which series fired (metric and log alerts' dimensions) and what happened
 * (activity log alerts). Read leniently: the context varies by monitoring service, and an unexpected one only
 * loses these details.
 */
const dimension = z.object({ name: z.string(), value: z.union([z.string(), z.number()]).transform(String) });
const alertContext = z.object({
  condition: z.object({ allOf: z.array(z.object({ dimensions: z.array(dimension).nullish() })).nullish() }).nullish(),
  Dimensions: z.array(dimension).nullish(),
  level: z.union([z.string(), z.number()]).nullish(),
  properties: z
    .object({
      incidentType: z.string().nullish(),
      trackingId: z.string().nullish(),
      stage: z.string().nullish(),
      currentHealthStatus: z.string().nullish(),
    })
    .nullish(),
});
type AlertContext = z.infer<typeof alertContext>;

/**
 * One issue per rule and what it fired on, however many alert instances report it: a stateless rule (every
 * activity log alert, and metric or log rules set so) fires a new instance at each evaluation while its condition
 * holds, and a stateful one a new instance each time it fires again. The issue id is `azure-monitor:` and a hash of
 * the rule (its subscription and `alertRule`), its targets (`alertTargetIDs`), the dimensions of the series that
 * fired, and for Service Health the incident (`trackingId`). The alert id names the instance (the last segment of
 * `essentials.alertId`, its GUID) and its status: `monitorCondition`, except for Service Health and Resource Health,
 * whose events all come Fired and say themselves when what they reported is over (`statusOf`).
 */
export function normalizeAzureMonitor(payload: unknown, options: IngestOptions = {}): Normalized {
  const parsed = azureMonitorPayload.safeParse(payload);
  if (!parsed.success) return wrongShape("Azure Monitor common alert schema", parsed.error);
  const { essentials, customProperties } = parsed.data.data;
  const context = alertContext.safeParse(parsed.data.data.alertContext ?? {}).data ?? {};
  const instance = essentials.alertId.split("/").filter(Boolean).pop()!;
  const issueId = `azure-monitor:${issueKey(essentials, context)}`;
  const status = statusOf(essentials, context);
  const resources = essentials.configurationItems ?? [];
  return {
    ok: true,
    messages: [
      withOptions(
        {
          schemaVersion: 1,
          alertId: `${issueId}:${status}:${cut(instance, 100)}`,
          status,
          issue: {
            id: issueId,
            project: cut(essentials.monitoringService, LIMITS.project),
            title: cut(essentials.alertRule, LIMITS.title),
            culprit: clip(resources.join(", "), LIMITS.culprit),
            description: clip(essentials.description, LIMITS.description),
            level: levelOf(essentials, context),
            url: `https://portal.azure.com/#view/Microsoft_Azure_Monitoring_Alerts/AlertDetails.ReactView/alertId/${encodeURIComponent(essentials.alertId)}`,
            count: 1,
            userCount: 0,
            firstSeen: iso(essentials.firedDateTime),
            lastSeen: iso(status === "resolved" && essentials.resolvedDateTime ? essentials.resolvedDateTime : essentials.firedDateTime),
            tags: tagsFrom([
              ["severity", essentials.severity],
              ...(essentials.signalType ? [["signalType", essentials.signalType] as [string, string]] : []),
              ["monitoringService", essentials.monitoringService],
              ...resources.slice(0, 5).map((item, n) => [n === 0 ? "resource" : `resource${n + 1}`, item] as [string, string]),
              ...Object.entries(customProperties ?? {}),
            ]),
          },
          rule: { id: cut(essentials.alertRule, LIMITS.ruleId), name: cut(essentials.alertRule, LIMITS.ruleName) },
        },
        options,
        clip(customProperties?.project, LIMITS.project),
      ),
    ],
  };
}

/**
 * Service Health stages that end the event: an incident or security advisory Resolved or its RCA published,
 * maintenance Resolved, Complete or Canceled.
 */
const SERVICE_HEALTH_FINAL_STAGES = new Set(["resolved", "rca", "complete", "canceled"]);

/**
 * Activity log alerts are stateless: Azure sends each Service Health or Resource Health event as one more Fired
 * alert, the one that ends an incident or outage included. That one is a recovery: a Service Health event at a
 * final stage, or a resource Resource Health reports Available again. Any other event fires (a Service Health
 * update at stage Active is one more event of the same incident; a resource Degraded or Unknown is not back).
 */
function statusOf(essentials: Essentials, context: AlertContext): "firing" | "resolved" {
  if (essentials.monitorCondition === "Resolved") return "resolved";
  switch (healthService(essentials)) {
    case "service":
      return SERVICE_HEALTH_FINAL_STAGES.has(context.properties?.stage?.toLowerCase() ?? "") ? "resolved" : "firing";
    case "resource":
      return context.properties?.currentHealthStatus?.toLowerCase() === "available" ? "resolved" : "firing";
    default:
      return "firing";
  }
}

/** Which health service sent an activity log alert, whichever way Azure spells it ("ResourceHealth", "Resource Health"). */
function healthService(essentials: Essentials): "service" | "resource" | undefined {
  switch (essentials.monitoringService.toLowerCase().replace(/\s+/g, "")) {
    case "servicehealth":
      return "service";
    case "resourcehealth":
      return "resource";
    default:
      return undefined;
  }
}

function issueKey(essentials: Essentials, context: AlertContext): string {
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(essentials.alertId)?.[1]?.toLowerCase() ?? "";
  // Resource ids are case-insensitive, and Azure writes them in either case.
  const targets = [...new Set((essentials.alertTargetIDs ?? []).map((id) => id.toLowerCase()))].sort();
  const dimensions = [...(context.condition?.allOf ?? []).flatMap((criterion) => criterion.dimensions ?? []), ...(context.Dimensions ?? [])]
    .map(({ name, value }) => `${name}=${value}`)
    .sort();
  const incident = essentials.monitoringService === "ServiceHealth" ? (context.properties?.trackingId ?? "") : "";
  const key = JSON.stringify([subscription, essentials.alertRule, targets, [...new Set(dimensions)], incident]);
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

/**
 * The rule's severity, except for activity log alerts: Azure gives every one of them Sev4, whatever happened, so
 * their level comes from the event. A Service Health incident or security advisory is an error, planned maintenance
 * and required actions a warning, information info; a resource that became unavailable is an error, degraded or
 * unknown a warning, available again info; any other event (administrative, policy, autoscale, …) someone chose to
 * alert on is an error, or fatal when the activity log calls it critical.
 */
function levelOf(essentials: Essentials, context: AlertContext): Level {
  // "Activity Log" in alerts Azure sends, "ActivityLog" in its Service Health test payload.
  if (essentials.signalType?.toLowerCase().replace(/\s+/g, "") !== "activitylog") return SEVERITY_LEVEL[essentials.severity]!;
  const service = healthService(essentials);
  if (service === "service") {
    switch (context.properties?.incidentType?.toLowerCase()) {
      case "maintenance":
      case "actionrequired":
        return "warning";
      case "information":
      case "informational":
        return "info";
      default:
        return "error";
    }
  }
  if (service === "resource") {
    switch (context.properties?.currentHealthStatus?.toLowerCase()) {
      case "degraded":
      case "unknown":
        return "warning";
      case "available":
        return "info";
      default:
        return "error";
    }
  }
  return String(context.level ?? "").toLowerCase() === "critical" ? "fatal" : "error";
}
