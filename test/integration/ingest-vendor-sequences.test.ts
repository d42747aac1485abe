// What the monitoring tools really send, in the order they send it, through the ingest normalizers, the alerts
// handler and the deliverer, on real storage and the Slack emulator: the issue each sequence leaves, the cards
// posted in the channel, and the history lines announced on issue-events.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Alert } from "../../shared/domain/alert";
import { normalizeAlertmanager } from "../../shared/ingest/alertmanager";
import { normalizeAzureMonitor } from "../../shared/ingest/azure-monitor";
import type { Normalized, QueueMessage } from "../../shared/ingest/common";
import { normalizeSentry } from "../../shared/ingest/sentry";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import { startEmulatedAppInSlackChannel, type SlackChannelApp } from "../support/emulated-app";
import { drain, drainIssueEventActions } from "../support/queues";
import { sample } from "../unit/ingest/fixtures";

let app: SlackChannelApp;
let target: SlackChannelApp["target"];

beforeAll(async () => {
  app = await startEmulatedAppInSlackChannel({
    name: "vendor-sequences",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000e1a1", tenantId: "72f988bf-0000-4000-8000-0000000000e1" },
  });
  ({ target } = app);
}, 60_000);
afterAll(async () => {
  await app?.stop();
});
beforeEach(async () => {
  await drain(app.azurite.connectionString, "issue-events");
});

/** The alerts handler takes each message the payload became, and the deliverer posts what it planned. */
async function takeAll(normalized: Normalized): Promise<void> {
  for (const message of messagesOf(normalized)) await app.take(message);
}

function messagesOf(normalized: Normalized): QueueMessage[] {
  if (!normalized.ok) throw new Error(`${normalized.error} ${JSON.stringify(normalized.issues)}`);
  return normalized.messages;
}

const alertsOf = (normalized: Normalized) => messagesOf(normalized) as Alert[];
const issue = async (id: string) => (await new IssueRepository(app.storage).get(id))?.issue;
/** The history lines the changes since the last look announced for the issue. */
const lines = (issueId: string) => drainIssueEventActions(app.azurite.connectionString, issueId);

describe("Alertmanager: an alert that fires again after Alertmanager resolved it (recorded from the real Alertmanager)", () => {
  const [firing, resolved, firesAgain] = sample("alertmanager-refire").notifications as Record<string, any>[];
  const issueId = `alertmanager:${firing!.alerts[0].fingerprint}`;

  it("firing, resolved, then the same firing again: the issue regresses and a new card says so; the same notification again changes nothing", async () => {
    await takeAll(normalizeAlertmanager(firing, { target }));
    await takeAll(normalizeAlertmanager(resolved, { target }));
    expect(await issue(issueId)).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    expect(app.cards(issueId)).toBe(1);
    await lines(issueId);

    await takeAll(normalizeAlertmanager(firesAgain, { target }));
    expect(await issue(issueId)).toMatchObject({ status: "unresolved", substatus: "regressed", count: 2 });
    expect(await lines(issueId)).toEqual(["regressed"]);
    expect(app.cards(issueId)).toBe(2);

    // repeat_interval, or Alertmanager retrying the POST: nothing new.
    const version = (await issue(issueId))!.version;
    await takeAll(normalizeAlertmanager(firesAgain, { target }));
    expect(await issue(issueId)).toMatchObject({ status: "unresolved", substatus: "regressed", count: 2, version });
    expect(await lines(issueId)).toEqual([]);
    expect(app.cards(issueId)).toBe(2);
  });

  it("when Alertmanager resolves it again (a later endsAt), the issue resolves again", async () => {
    const resolvedAgain = structuredClone(resolved!);
    resolvedAgain.alerts[0].endsAt = new Date(Date.parse(resolved!.alerts[0].endsAt) + 60_000).toISOString();
    await takeAll(normalizeAlertmanager(resolvedAgain, { target }));
    expect(await issue(issueId)).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    expect(await lines(issueId)).toEqual(["resolve"]);
  });

  it("an alert that keeps flapping so (30 times, more than the alert ids an issue remembers): every time it fires again it regresses", async () => {
    const flapping = (body: Record<string, any>, endsAt?: string) => {
      const copy = structuredClone(body);
      copy.alerts[0].fingerprint = "f1a99e4b00000001";
      if (endsAt) copy.alerts[0].endsAt = endsAt;
      return normalizeAlertmanager(copy);
    };
    const id = "alertmanager:f1a99e4b00000001";
    await takeAll(flapping(firing!));
    for (let n = 1; n <= 30; n++) {
      await takeAll(flapping(resolved!, new Date(Date.parse(resolved!.alerts[0].endsAt) + n * 60_000).toISOString()));
      expect((await issue(id))!.status).toBe("resolved");
      await takeAll(flapping(firesAgain!));
      await takeAll(flapping(firesAgain!));
      expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed", count: n + 1 });
    }
    expect((await lines(id)).filter((line) => line === "regressed")).toHaveLength(30);
  });
});

describe("Azure Monitor: one rule on one resource is one issue, whatever alert instance reports it", () => {
  const instance = (guid: string, condition: "fired" | "resolved", firedDateTime = "2019-03-22T13:58:24.3713213Z") => {
    const payload = sample(`azure-monitor-${condition}`) as any;
    payload.data.essentials.alertId = payload.data.essentials.alertId.replace(/[^/]+$/, guid);
    payload.data.essentials.firedDateTime = firedDateTime;
    return normalizeAzureMonitor(payload, { target });
  };
  const first = "11111111-1111-4111-8111-111111111111";
  const second = "22222222-2222-4222-8222-222222222222";

  it("a second instance Fired (a stateless rule evaluating again): the same issue, one more event, no second card", async () => {
    const [one] = alertsOf(instance(first, "fired"));
    const [two] = alertsOf(instance(second, "fired", "2019-03-22T14:00:24.0000000Z"));
    expect(two!.issue.id).toBe(one!.issue.id);
    expect(two!.alertId).not.toBe(one!.alertId);

    await takeAll(instance(first, "fired"));
    await takeAll(instance(second, "fired", "2019-03-22T14:00:24.0000000Z"));
    expect(await issue(one!.issue.id)).toMatchObject({ status: "unresolved", count: 2 });
    expect(app.cards(one!.issue.id)).toBe(1);
  });

  it("the first instance Resolved: the issue (both instances' events) is resolved by azure-monitor", async () => {
    const [recovery] = alertsOf(instance(first, "resolved"));
    await takeAll(instance(first, "resolved"));
    expect(await issue(recovery!.issue.id)).toMatchObject({ status: "resolved", statusChangedBy: "azure-monitor", count: 2 });
  });
});

describe("Sentry metric alert: critical, warning, critical within one incident", () => {
  // As Sentry sends them: the same incident, each notification with its own notification_uuid in web_url.
  const notification = (action: string, uuid: string, value: number) => {
    const payload = sample("sentry-metric-alert-critical") as any;
    payload.action = action;
    payload.data.metric_alert.status = action === "critical" ? 20 : 10;
    payload.data.description_title = `${action === "critical" ? "Critical" : "Warning"}: Too many errors`;
    payload.data.description_text = `${value} events in the last 10 minutes\\nFilter: level:error`;
    payload.data.web_url = `https://sentry.io/organizations/baz/alerts/rules/details/7/?alert=1&referrer=metric_alert_sentry_app&detection_type=static&notification_uuid=${uuid}`;
    return normalizeSentry("metric_alert", payload, { target });
  };

  it("the second critical raises the card back to fatal and posts it again (the level rose)", async () => {
    await takeAll(notification("critical", "0d4b1c55-6d0e-4b8e-9d35-1f0c8d7b0a01", 1000));
    await takeAll(notification("warning", "0d4b1c55-6d0e-4b8e-9d35-1f0c8d7b0a02", 600));
    expect(await issue("sentry:incident-4")).toMatchObject({ level: "warning" });
    expect(app.cards("sentry:incident-4")).toBe(1);
    await takeAll(notification("critical", "0d4b1c55-6d0e-4b8e-9d35-1f0c8d7b0a03", 1200));
    expect(await issue("sentry:incident-4")).toMatchObject({ level: "fatal", status: "unresolved" });
    expect(app.cards("sentry:incident-4")).toBe(2);
  });
});

describe("Sentry: an issue resolved in Sentry that regresses there", () => {
  const issueId = "sentry:1234567890";
  const issueWebhook = (action: string, changes: Record<string, unknown>) => {
    const payload = sample("sentry-issue-resolved") as any;
    payload.action = action;
    Object.assign(payload.data.issue, changes);
    return normalizeSentry("issue", payload, { target });
  };
  const eventAlert = (eventId: string, datetime: string) => {
    const payload = sample("sentry-event-alert") as any;
    Object.assign(payload.data.event, { issue_id: "1234567890", event_id: eventId, datetime });
    return normalizeSentry("event_alert", payload, { target });
  };

  it("created → resolved → unresolved (substatus regressed) → event_alert: regressed, one new card, one history line", async () => {
    await takeAll(normalizeSentry("issue", sample("sentry-issue-created"), { target }));
    await takeAll(issueWebhook("resolved", { status: "resolved", statusDetails: {} }));
    expect(await issue(issueId)).toMatchObject({ status: "resolved" });
    expect(app.cards(issueId)).toBe(1);
    await lines(issueId);

    // Sentry's handle_regression sends issue.unresolved (substatus regressed), then the rule's event_alert.
    await takeAll(issueWebhook("unresolved", { status: "unresolved", substatus: "regressed", lastSeen: "2025-11-12T09:00:00.000000+00:00" }));
    await takeAll(eventAlert("5c0a9e0f3b1c4a7e9d2b6f8a1c3e5d70", "2025-11-12T09:00:00.000000Z"));
    expect(await issue(issueId)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(issueId)).toEqual(["regressed"]);
    expect(app.cards(issueId)).toBe(2);

    // The same webhook delivered twice: nothing more.
    await takeAll(issueWebhook("unresolved", { status: "unresolved", substatus: "regressed", lastSeen: "2025-11-12T09:00:00.000000+00:00" }));
    expect(await lines(issueId)).toEqual([]);
    expect(app.cards(issueId)).toBe(2);
  });

  it("a regression Sentry reports for an issue never received here changes nothing", async () => {
    const payload = sample("sentry-issue-resolved") as any;
    payload.action = "unresolved";
    Object.assign(payload.data.issue, { id: "404404", status: "unresolved", substatus: "regressed" });
    const [message] = messagesOf(normalizeSentry("issue", payload, { target }));
    expect(await takeAlert(app.storage, message, JSON.stringify(message), { deliverer: app.deliverer })).toEqual({
      kind: "no-issue",
      issueId: "sentry:404404",
    });
    expect(await issue("sentry:404404")).toBeUndefined();
  });
});

describe("event counts: one event counted once", () => {
  const created = (issueId: string, at: string) => {
    const payload = sample("sentry-issue-created") as any;
    Object.assign(payload.data.issue, { id: issueId, count: "1", firstSeen: at, lastSeen: at });
    return normalizeSentry("issue", payload, { target });
  };
  const firstEvent = (issueId: string, at: string) => {
    const payload = sample("sentry-event-alert") as any;
    Object.assign(payload.data.event, { issue_id: issueId, datetime: at });
    return normalizeSentry("event_alert", payload, { target });
  };

  it("Sentry's issue.created (count 1) and the event_alert for that first event: 1 event, in either order", async () => {
    await takeAll(created("5550001", "2025-11-10T20:56:00.679000+00:00"));
    await takeAll(firstEvent("5550001", "2025-11-10T20:56:00.679000Z"));
    expect(await issue("sentry:5550001")).toMatchObject({ count: 1 });

    await takeAll(firstEvent("5550002", "2025-11-10T20:56:00.679000Z"));
    await takeAll(created("5550002", "2025-11-10T20:56:00.679000+00:00"));
    expect(await issue("sentry:5550002")).toMatchObject({ count: 1 });
  });

  it("Alertmanager, which counts nothing: each new firing is one more event", async () => {
    const start = Date.parse("2026-11-01T10:00:00.000Z");
    const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
    const forIssue = (alert: Alert): Alert => ({
      ...alert,
      alertId: alert.alertId.replace(alert.issue.id, "alertmanager:c0ffee"),
      issue: { ...alert.issue, id: "alertmanager:c0ffee" },
    });
    for (const minutes of [0, 10, 20]) {
      const alert = forIssue(alertmanagerAlert("firing", at(minutes)));
      await takeAlert(app.storage, alert, JSON.stringify(alert));
    }
    expect(await issue("alertmanager:c0ffee")).toMatchObject({ count: 3 });
  });
});
