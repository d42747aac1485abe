// Activity log alerts are stateless: Azure sends every Service Health and Resource Health event as one more
// alert instance with monitorCondition "Fired". The event itself says when the incident or outage is over.
import { describe, expect, it } from "vitest";
import { alertSchema } from "../../../shared/domain/alert";
import { normalizeAzureMonitor } from "../../../shared/ingest/azure-monitor";
import type { Normalized } from "../../../shared/ingest/common";
import { sample } from "./fixtures";

function alertOf(result: Normalized) {
  if (!result.ok) throw new Error(`${result.error} ${JSON.stringify(result.issues)}`);
  expect(result.messages).toHaveLength(1);
  const parsed = alertSchema.safeParse(result.messages[0]);
  expect(parsed.error?.issues ?? []).toEqual([]);
  return parsed.data!;
}

/** The fixture as another alert instance of the same rule: its own GUID, `change` applied to the event. */
function variant(name: string, guid: string, change: (properties: Record<string, unknown>, context: Record<string, unknown>) => void) {
  const payload = sample(name) as any;
  payload.data.essentials.alertId = payload.data.essentials.alertId.replace(/[^/]+$/, guid);
  change(payload.data.alertContext.properties, payload.data.alertContext);
  return alertOf(normalizeAzureMonitor(payload));
}

describe("Service Health: the update that says the incident is over resolves its issue", () => {
  it("incident Active, then the same incident Resolved: a recovery of the same issue, under an alert id of its own", () => {
    const outage = alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health")));
    const over = alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health-resolved")));
    expect(outage).toMatchObject({ status: "firing", issue: { level: "error" } });
    expect(over).toMatchObject({
      status: "resolved",
      alertId: `${outage.issue.id}:resolved:cccc2c2c-dd3d-ee4e-ff5f-aaaaaa6a6a6a`,
      issue: { id: outage.issue.id, title: "Service Health - East US", lastSeen: "2019-06-24T13:05:12.103Z" },
    });
    // Azure sending the same event again is a repeat: the same alert id.
    expect(alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health-resolved"))).alertId).toBe(over.alertId);
  });

  it("a new communication on the ongoing incident (stage Active) is one more firing event of the same issue", () => {
    const outage = alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health")));
    const update = variant("azure-monitor-service-health", "11111111-1111-4111-8111-111111111111", (properties) => {
      properties.communication = "<A NEWER MESSAGE>";
      properties.communicationId = "<ANOTHER GUID>";
    });
    expect(update).toMatchObject({ status: "firing", issue: { id: outage.issue.id, level: "error" } });
    expect(update.alertId).not.toBe(outage.alertId);
  });

  it("the stages that end an event are recoveries (incident and security: Resolved, RCA; maintenance: Resolved, Complete, Canceled); the others fire", () => {
    const outage = alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health")));
    const at = (incidentType: string, stage: string) =>
      variant("azure-monitor-service-health", "22222222-2222-4222-8222-222222222222", (properties) => {
        properties.incidentType = incidentType;
        properties.stage = stage;
      });
    const statuses = (incidentType: string, stages: string[]) => stages.map((stage) => [stage, at(incidentType, stage).status]);
    expect(statuses("Incident", ["Active", "Resolved", "RCA"])).toEqual([
      ["Active", "firing"],
      ["Resolved", "resolved"],
      ["RCA", "resolved"],
    ]);
    expect(statuses("Security", ["Active", "Resolved", "RCA"])).toEqual([
      ["Active", "firing"],
      ["Resolved", "resolved"],
      ["RCA", "resolved"],
    ]);
    expect(statuses("Maintenance", ["Planned", "Active", "InProgress", "Rescheduled", "Resolved", "Complete", "Canceled"])).toEqual([
      ["Planned", "firing"],
      ["Active", "firing"],
      ["InProgress", "firing"],
      ["Rescheduled", "firing"],
      ["Resolved", "resolved"],
      ["Complete", "resolved"],
      ["Canceled", "resolved"],
    ]);
    // Every stage of one incident reports the same issue.
    expect(at("Incident", "RCA").issue.id).toBe(outage.issue.id);
  });

  it("another incident's resolution is another issue's", () => {
    const outage = alertOf(normalizeAzureMonitor(sample("azure-monitor-service-health")));
    const otherOver = variant("azure-monitor-service-health-resolved", "33333333-3333-4333-8333-333333333333", (properties) => {
      properties.trackingId = "9TQ1-XY2";
    });
    expect(otherOver.status).toBe("resolved");
    expect(otherOver.issue.id).not.toBe(outage.issue.id);
  });
});

describe("Resource Health: the resource available again resolves its issue", () => {
  it("Unavailable, then Available: a recovery of the same issue, under an alert id of its own, not above the outage's level", () => {
    const down = alertOf(normalizeAzureMonitor(sample("azure-monitor-resource-health-unavailable")));
    const back = alertOf(normalizeAzureMonitor(sample("azure-monitor-resource-health-available")));
    expect(down).toMatchObject({ status: "firing", issue: { level: "error", title: "VM health - wcus-r2-gen2", culprit: "wcus-r2-gen2" } });
    expect(back).toMatchObject({
      status: "resolved",
      alertId: `${down.issue.id}:resolved:eeee4e4e-ff5f-aa6a-bb7b-cccccc8c8c8c`,
      issue: { id: down.issue.id, level: "info", lastSeen: "2019-06-24T16:02:47.551Z" },
    });
  });

  it("Degraded or Unknown is still an outage: firing, a warning, the same issue", () => {
    const down = alertOf(normalizeAzureMonitor(sample("azure-monitor-resource-health-unavailable")));
    for (const health of ["Degraded", "Unknown"]) {
      const event = variant("azure-monitor-resource-health-unavailable", "44444444-4444-4444-8444-444444444444", (properties) => {
        properties.currentHealthStatus = health;
      });
      expect([health, event.status, event.issue.level, event.issue.id]).toEqual([health, "firing", "warning", down.issue.id]);
    }
  });

  it("Available after Degraded is a recovery too, whichever way Azure spells the monitoring service", () => {
    const down = alertOf(normalizeAzureMonitor(sample("azure-monitor-resource-health-unavailable")));
    for (const monitoringService of ["Resource Health", "ResourceHealth"]) {
      const payload = sample("azure-monitor-resource-health-available") as any;
      payload.data.essentials.monitoringService = monitoringService;
      payload.data.alertContext.properties.previousHealthStatus = "Degraded";
      const back = alertOf(normalizeAzureMonitor(payload));
      expect([monitoringService, back.status, back.issue.id]).toEqual([monitoringService, "resolved", down.issue.id]);
    }
  });
});

describe("other alerts keep their monitorCondition", () => {
  it("an administrative activity log event whose status says Resolved, or a metric alert with a stage property, still fires", () => {
    const administrative = sample("azure-monitor-service-health") as any;
    administrative.data.essentials.monitoringService = "Activity Log - Administrative";
    administrative.data.alertContext.status = "Resolved";
    administrative.data.alertContext.properties.stage = "Resolved";
    expect(alertOf(normalizeAzureMonitor(administrative)).status).toBe("firing");
    const metric = sample("azure-monitor-fired") as any;
    metric.data.alertContext.properties = { stage: "Resolved", currentHealthStatus: "Available" };
    expect(alertOf(normalizeAzureMonitor(metric)).status).toBe("firing");
  });
});

describe("activity log alerts, however Azure spells their signal type", () => {
  it("`ActivityLog` (Microsoft's Service Health test payload) takes its level from the event like `Activity Log`, not from the Sev4 every activity log alert carries", () => {
    const spelled = sample("azure-monitor-service-health") as any;
    spelled.data.essentials.signalType = "ActivityLog";
    expect(alertOf(normalizeAzureMonitor(spelled)).issue.level).toBe("error");
  });
});
