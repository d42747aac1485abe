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

/**
 * One alert instance per notification. The issue id is `azure-monitor:` + the alert's GUID, the last segment
 * of `essentials.alertId` (`/subscriptions/…/alerts/<guid>`): issue ids may not contain `/`.
 */
export function normalizeAzureMonitor(payload: unknown, options: IngestOptions = {}): Normalized {
  const parsed = azureMonitorPayload.safeParse(payload);
  if (!parsed.success) return wrongShape("Azure Monitor common alert schema", parsed.error);
  const { essentials, customProperties } = parsed.data.data;
  const alertGuid = essentials.alertId.split("/").filter(Boolean).pop()!;
  const issueId = `azure-monitor:${alertGuid}`;
  const status = essentials.monitorCondition === "Resolved" ? "resolved" : "firing";
  const resources = essentials.configurationItems ?? [];
  return {
    ok: true,
    messages: [
      withOptions(
        {
          schemaVersion: 1,
          alertId: `${issueId}:${status}:${essentials.firedDateTime}`,
          status,
          issue: {
            id: issueId,
            project: cut(essentials.monitoringService, LIMITS.project),
            title: cut(essentials.alertRule, LIMITS.title),
            culprit: clip(resources.join(", "), LIMITS.culprit),
            description: clip(essentials.description, LIMITS.description),
            level: SEVERITY_LEVEL[essentials.severity]!,
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
