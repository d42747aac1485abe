import { describe, expect, it } from "vitest";
import { ALERT_LIMITS, alertSchema } from "../../../shared/domain/alert";
import { issueActionMessageSchema } from "../../../shared/domain/recovery";
import { normalizeAlertmanager, normalizeGrafana } from "../../../shared/ingest/alertmanager";
import { normalizeAzureMonitor } from "../../../shared/ingest/azure-monitor";
import type { Normalized } from "../../../shared/ingest/common";
import { normalizeSentry } from "../../../shared/ingest/sentry";
import { sample } from "./fixtures";

function messages(result: Normalized) {
  if (!result.ok) throw new Error(`${result.error} ${JSON.stringify(result.issues)}`);
  // Every message a normalizer makes is one the alerts queue accepts.
  for (const message of result.messages) {
    const parsed = "kind" in message ? issueActionMessageSchema.safeParse(message) : alertSchema.safeParse(message);
    expect(parsed.error?.issues ?? []).toEqual([]);
  }
  return result.messages as Record<string, any>[];
}

describe("Alertmanager webhook v4 (documented sample)", () => {
  it("firing: one alert per alert of the group, issue by fingerprint, title from the summary, critical → fatal", () => {
    const [alert] = messages(normalizeAlertmanager(sample("alertmanager-firing")));
    expect(alert).toMatchObject({
      schemaVersion: 1,
      alertId: "alertmanager:1a30ba71cca2921f:firing:2023-02-06T13:08:45.828Z",
      status: "firing",
      issue: {
        id: "alertmanager:1a30ba71cca2921f",
        project: "sms",
        title: "BlackBox Probe Failure: https://server.example.org",
        culprit: "https://server.example.org",
        description: "Instance https://server.example.org has been down for over 5m. Job: http_checks",
        level: "fatal",
        url: "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0&g0.tab=1",
        count: 1,
        firstSeen: "2023-02-06T13:08:45.828Z",
        lastSeen: "2023-02-06T13:08:45.828Z",
        tags: { alertname: "ProbeFailure", job: "http_checks", severity: "critical" },
      },
      rule: { id: "ProbeFailure", name: "ProbeFailure" },
    });
  });

  it("resolved: same issue, a different alert id (by endsAt: each recovery its own), lastSeen = endsAt", () => {
    const [alert] = messages(normalizeAlertmanager(sample("alertmanager-resolved")));
    expect(alert).toMatchObject({
      alertId: "alertmanager:1a30ba71cca2921f:resolved:2023-02-06T13:20:45.828Z",
      status: "resolved",
      issue: { id: "alertmanager:1a30ba71cca2921f", lastSeen: "2023-02-06T13:20:45.828Z" },
    });
  });

  it("project: the `project` label first, then ?project=, then the receiver; ?target= on every alert", () => {
    const labelled = sample("alertmanager-firing") as any;
    labelled.alerts[0].labels.project = "payments";
    const target = { provider: "slack" as const, teamId: "T0123", channel: "C0456" };
    expect(messages(normalizeAlertmanager(labelled, { project: "ops", target }))[0]).toMatchObject({
      issue: { project: "payments" },
      targets: [target],
    });
    expect(messages(normalizeAlertmanager(sample("alertmanager-firing"), { project: "ops" }))[0]!.issue.project).toBe("ops");
  });

  it("a group of 50 alerts is 50 alerts", () => {
    const group = sample("alertmanager-firing") as any;
    group.alerts = Array.from({ length: 50 }, (_, n) => ({ ...group.alerts[0], fingerprint: n.toString(16).padStart(16, "0") }));
    expect(messages(normalizeAlertmanager(group))).toHaveLength(50);
  });

  it("a wrong shape is refused with the paths", () => {
    const bad = sample("alertmanager-firing") as any;
    bad.alerts[0].fingerprint = "not hex!";
    delete bad.alerts[0].startsAt;
    const result = normalizeAlertmanager(bad);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.path).sort()).toEqual(["alerts.0.fingerprint", "alerts.0.startsAt"]);
    expect(normalizeAlertmanager({ ...sample("alertmanager-firing"), version: "3" }).ok).toBe(false);
  });
});

describe("Grafana webhook contact point (documented sample)", () => {
  it("firing: both alerts, issues by fingerprint, no severity label → error", () => {
    const alerts = messages(normalizeGrafana(sample("grafana-firing")));
    expect(alerts.map((a) => a.issue.id)).toEqual(["grafana:c6eadffa33fcdf37", "grafana:bc97ff14869b13e3"]);
    expect(alerts[0]).toMatchObject({
      alertId: "grafana:c6eadffa33fcdf37:firing:2021-10-12T09:51:03.157076+02:00",
      issue: {
        project: "My Super Webhook",
        title: "This alert was triggered for zone us-1",
        level: "error",
        url: "https://play.grafana.org/alerting/1afz29v7z/edit",
        firstSeen: "2021-10-12T07:51:03.157Z",
        tags: { team: "blue", zone: "us-1" },
      },
    });
  });

  it("resolved", () => {
    const [alert] = messages(normalizeGrafana(sample("grafana-resolved")));
    expect(alert).toMatchObject({ status: "resolved", issue: { id: "grafana:c6eadffa33fcdf37", lastSeen: "2021-10-12T08:06:03.157Z" } });
  });

  it("an Alertmanager payload without orgId is not a Grafana one", () => {
    expect(normalizeGrafana(sample("alertmanager-firing")).ok).toBe(false);
  });
});

describe("Azure Monitor common alert schema (documented sample)", () => {
  it("fired: issue by rule and target, alert id by the alert instance's GUID, title = alert rule, Sev3 → info, portal link, project = monitoring service", () => {
    const [alert] = messages(normalizeAzureMonitor(sample("azure-monitor-fired")));
    expect(alert!.issue.id).toMatch(/^azure-monitor:[0-9a-f]{32}$/);
    expect(alert).toMatchObject({
      alertId: `${alert!.issue.id}:firing:aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e`,
      status: "firing",
      issue: {
        project: "Platform",
        title: "WCUS-R2-Gen2",
        culprit: "wcus-r2-gen2",
        level: "info",
        firstSeen: "2019-03-22T13:58:24.371Z",
        tags: { severity: "Sev3", signalType: "Metric", monitoringService: "Platform", resource: "wcus-r2-gen2" },
      },
    });
    expect(alert!.issue.url).toMatch(/^https:\/\/portal\.azure\.com\/.*alertId\/%2Fsubscriptions%2F/);
  });

  it("resolved: same issue, lastSeen = resolvedDateTime", () => {
    const [fired] = messages(normalizeAzureMonitor(sample("azure-monitor-fired")));
    const [alert] = messages(normalizeAzureMonitor(sample("azure-monitor-resolved")));
    expect(alert).toMatchObject({
      alertId: `${fired!.issue.id}:resolved:aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e`,
      status: "resolved",
      issue: { id: fired!.issue.id, lastSeen: "2019-03-22T14:03:16.224Z" },
    });
  });

  it("another rule, another target or another metric series (dimension) is another issue; the target's letter case is not", () => {
    const variant = (change: (essentials: any, context: any) => void) => {
      const payload = sample("azure-monitor-fired") as any;
      change(payload.data.essentials, payload.data.alertContext);
      return messages(normalizeAzureMonitor(payload))[0]!.issue.id;
    };
    const original = variant(() => undefined);
    expect(variant((e) => (e.alertRule = "Another rule"))).not.toBe(original);
    expect(variant((e) => (e.alertTargetIDs = [`${e.alertTargetIDs[0]}-2`]))).not.toBe(original);
    expect(variant((_, c) => (c.condition.allOf[0].dimensions[0].value = "another-vm"))).not.toBe(original);
    expect(variant((e) => (e.alertTargetIDs = [e.alertTargetIDs[0].toUpperCase()]))).toBe(original);
  });

  it("Sev0 → fatal … Sev4 → debug", () => {
    const levels = ["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"].map((severity) => {
      const payload = sample("azure-monitor-fired") as any;
      payload.data.essentials.severity = severity;
      return messages(normalizeAzureMonitor(payload))[0]!.issue.level;
    });
    expect(levels).toEqual(["fatal", "error", "warning", "info", "debug"]);
  });

  it("an activity log alert, which Azure always sends as Sev4: the level comes from what happened, a Service Health incident is an error", () => {
    const [outage] = messages(normalizeAzureMonitor(sample("azure-monitor-service-health")));
    expect(outage).toMatchObject({ status: "firing", issue: { level: "error", title: "Service Health - East US" } });
    const level = (change: (essentials: any, context: any) => void) => {
      const payload = sample("azure-monitor-service-health") as any;
      change(payload.data.essentials, payload.data.alertContext);
      return messages(normalizeAzureMonitor(payload))[0]!.issue.level;
    };
    expect(level((_, c) => (c.properties.incidentType = "Security"))).toBe("error");
    expect(level((_, c) => (c.properties.incidentType = "Maintenance"))).toBe("warning");
    expect(level((_, c) => (c.properties.incidentType = "ActionRequired"))).toBe("warning");
    expect(level((_, c) => (c.properties.incidentType = "Informational"))).toBe("info");
    const resourceHealth = (status: string) =>
      level((e, c) => {
        e.monitoringService = "Resource Health";
        c.properties = { title: "The virtual machine is unavailable", currentHealthStatus: status, previousHealthStatus: "Available" };
      });
    expect(["Unavailable", "Degraded", "Unknown", "Available"].map(resourceHealth)).toEqual(["error", "warning", "warning", "info"]);
    const administrative = (activityLevel: string) =>
      level((e, c) => {
        e.monitoringService = "Activity Log - Administrative";
        c.properties = null;
        c.level = activityLevel;
        c.operationName = "Microsoft.Compute/virtualMachines/delete";
      });
    expect(["Informational", "Critical"].map(administrative)).toEqual(["error", "fatal"]);
  });

  it("Service Health: each incident (trackingId) its own issue; its updates the same one", () => {
    const incident = (trackingId: string, guid: string) => {
      const payload = sample("azure-monitor-service-health") as any;
      payload.data.alertContext.properties.trackingId = trackingId;
      payload.data.essentials.alertId = payload.data.essentials.alertId.replace(/[^/]+$/, guid);
      return messages(normalizeAzureMonitor(payload))[0]!.issue.id;
    };
    expect(incident("7S5L-PJ8", "11111111-1111-4111-8111-111111111111")).toBe(incident("7S5L-PJ8", "22222222-2222-4222-8222-222222222222"));
    expect(incident("7S5L-PJ8", "11111111-1111-4111-8111-111111111111")).not.toBe(incident("9TQ1-XY2", "11111111-1111-4111-8111-111111111111"));
  });

  it("another schema is refused", () => {
    const result = normalizeAzureMonitor({ ...sample("azure-monitor-fired"), schemaId: "Microsoft.Insights/activityLogs" });
    expect(result.ok || result.issues.map((i) => i.path)).toEqual(["schemaId"]);
  });
});

describe("Sentry integration-platform webhooks (documented samples)", () => {
  it("event_alert: issue by Sentry issue id, event title, project slug, the issue's page", () => {
    const [alert] = messages(normalizeSentry("event_alert", sample("sentry-event-alert")));
    expect(alert).toMatchObject({
      alertId: "sentry:1117540176:firing:e4874d664c3540c1a32eab185f12c5ab",
      status: "firing",
      issue: {
        id: "sentry:1117540176",
        project: "front-end",
        title: "ReferenceError: heck is not defined",
        culprit: "?(<anonymous>)",
        level: "error",
        url: "https://sentry.io/organizations/test-org/issues/1117540176/",
        firstSeen: "2019-08-19T21:06:17.677Z",
        tags: { browser: "Chrome 75.0.3770", handled: "no" },
      },
      rule: { name: "Very Important Alert Rule!" },
    });
  });

  it("metric_alert: critical fires (fatal), resolved recovers the same incident", () => {
    const [critical] = messages(normalizeSentry("metric_alert", sample("sentry-metric-alert-critical")));
    const [resolved] = messages(normalizeSentry("metric_alert", sample("sentry-metric-alert-resolved")));
    expect(critical).toMatchObject({
      status: "firing",
      issue: {
        id: "sentry:incident-4",
        project: "bar",
        title: "Too many errors",
        level: "fatal",
        url: "https://sentry.io/organizations/baz/alerts/1/",
      },
    });
    expect(resolved).toMatchObject({ status: "resolved", issue: { id: "sentry:incident-4" } });
  });

  it("metric_alert: each notification of an incident is its own alert (notification_uuid, else its text); the same one sent twice is one", () => {
    const notification = (action: string, changes: Record<string, string> = {}) => {
      const payload = sample("sentry-metric-alert-critical") as any;
      payload.action = action;
      Object.assign(payload.data, changes);
      return messages(normalizeSentry("metric_alert", payload))[0]!.alertId;
    };
    const uuid = (id: string) => ({ web_url: `https://sentry.io/organizations/baz/alerts/rules/details/7/?alert=1&notification_uuid=${id}` });
    expect(notification("critical", uuid("a1"))).not.toBe(notification("critical", uuid("a2")));
    expect(notification("critical", uuid("a1"))).toBe(notification("critical", uuid("a1")));
    expect(notification("critical", { description_text: "1000 events" })).not.toBe(notification("critical", { description_text: "1200 events" }));
    expect(notification("critical")).toBe(notification("critical"));
    expect(notification("critical")).not.toBe(notification("warning"));
  });

  it("issue created: a firing alert with Sentry's counts, level and short id", () => {
    const [alert] = messages(normalizeSentry("issue", sample("sentry-issue-created")));
    expect(alert).toMatchObject({
      alertId: "sentry:1234567890:firing:created",
      issue: {
        id: "sentry:1234567890",
        shortId: "PYTHON-Y",
        project: "python",
        level: "fatal",
        count: 3,
        userCount: 3,
        url: "https://example-org.sentry.io/issues/1234567890/",
      },
    });
  });

  it("issue resolved / unresolved / archived / assigned: mirrored as issue actions by sentry", () => {
    const action = (name: string, payload = sample(name)) => messages(normalizeSentry("issue", payload))[0];
    expect(action("sentry-issue-resolved")).toEqual({
      schemaVersion: 1,
      kind: "issue-action",
      issueId: "sentry:1234567890",
      source: "sentry",
      action: { type: "resolve", inRelease: "next" },
    });
    expect(action("sentry-issue-resolved", { ...sample("sentry-issue-resolved"), action: "unresolved" })).toMatchObject({
      action: { type: "unresolve" },
    });
    const regressed = sample("sentry-issue-resolved") as any;
    Object.assign(regressed, { action: "unresolved" });
    Object.assign(regressed.data.issue, { status: "unresolved", substatus: "regressed", lastSeen: "2025-11-12T09:00:00.000000+00:00" });
    expect(action("sentry-issue-resolved", regressed)).toEqual({
      schemaVersion: 1,
      kind: "issue-action",
      issueId: "sentry:1234567890",
      source: "sentry",
      action: { type: "regress", at: "2025-11-12T09:00:00.000Z" },
    });
    expect(action("sentry-issue-archived")).toMatchObject({ action: { type: "ignore", ignore: { mode: "events", count: 100 } } });
    expect(action("sentry-issue-assigned")).toMatchObject({ action: { type: "assign", assignee: { email: "ana@contoso.com" } } });
  });

  it("resources that are not alerts, and assignments without an email, are acknowledged with nothing to take", () => {
    expect(normalizeSentry("installation", { action: "created" })).toMatchObject({ ok: true, messages: [] });
    const team = sample("sentry-issue-assigned") as any;
    team.data.issue.assignedTo = { type: "team", id: "3", name: "backend" };
    expect(normalizeSentry("issue", team)).toMatchObject({ ok: true, messages: [] });
  });
});

describe("text longer than the alert schema allows is cut to fit, never refused", () => {
  const emoji = "\u{1F525}"; // two UTF-16 units: a cut must not split it
  const long = (units: number) => `${"x".repeat(units - 1)}${emoji}${"y".repeat(50)}`;

  it("Alertmanager (kube-prometheus labels): 25 labels, a long summary, instance and description", () => {
    const payload = sample("alertmanager-firing") as any;
    for (let n = 0; n < 22; n++) payload.alerts[0].labels[`label_${String(n).padStart(2, "0")}`] = `value ${n}`;
    payload.alerts[0].annotations.summary = long(ALERT_LIMITS.title);
    payload.alerts[0].annotations.description = "d".repeat(ALERT_LIMITS.description + 500);
    payload.alerts[0].labels.instance = "i".repeat(ALERT_LIMITS.culprit + 500);
    const [alert] = messages(normalizeAlertmanager(payload));
    expect(Object.keys(alert!.issue.tags)).toHaveLength(ALERT_LIMITS.tags);
    expect(alert!.issue.title).toBe("x".repeat(ALERT_LIMITS.title - 1));
    expect(alert!.issue.culprit).toHaveLength(ALERT_LIMITS.culprit);
    expect(alert!.issue.description).toHaveLength(ALERT_LIMITS.description);
  });

  it("Sentry event alert: 24 tags and a long title", () => {
    const payload = sample("sentry-event-alert") as any;
    payload.data.event.tags = Array.from({ length: 24 }, (_, n) => [`tag${n}`, `value ${n}`]);
    payload.data.event.title = long(ALERT_LIMITS.title + 10);
    const [alert] = messages(normalizeSentry("event_alert", payload));
    expect(Object.keys(alert!.issue.tags)).toHaveLength(ALERT_LIMITS.tags);
    expect(alert!.issue.title).toHaveLength(ALERT_LIMITS.title);
  });

  it("Azure Monitor: 5 resources and 13 custom properties, a long rule name", () => {
    const payload = sample("azure-monitor-fired") as any;
    payload.data.essentials.configurationItems = Array.from({ length: 5 }, (_, n) => `vm-${n}-${"r".repeat(300)}`);
    payload.data.customProperties = Object.fromEntries(Array.from({ length: 13 }, (_, n) => [`property${n}`, `value ${n}`]));
    payload.data.essentials.alertRule = "rule ".repeat(600);
    const [alert] = messages(normalizeAzureMonitor(payload));
    expect(Object.keys(alert!.issue.tags)).toHaveLength(ALERT_LIMITS.tags);
    expect(alert!.issue.culprit).toHaveLength(ALERT_LIMITS.culprit);
    expect(alert!.rule.name).toHaveLength(ALERT_LIMITS.ruleName);
  });
});

describe("alert schema v1 over HTTP", () => {
  it("a body without an issue is reported by path, never thrown", async () => {
    const { normalizeAlerts } = await import("../../../shared/ingest/alerts");
    const result = normalizeAlerts({ schemaVersion: 1, alertId: "a" });
    expect(result.ok).toBe(true);
    const parsed = alertSchema.safeParse(result.ok ? result.messages[0] : undefined);
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual(expect.arrayContaining(["issue.title", "issue.project"]));
    expect(normalizeAlerts([]).ok).toBe(false);
  });
});
