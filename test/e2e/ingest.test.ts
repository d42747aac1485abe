// Grafana, Azure Monitor and Sentry through HTTP with the vendors' documented sample payloads
// (test/fixtures/ingest, each citing its source), and everything the ingest routes refuse.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import { sentrySignature } from "../../shared/ingest/auth";
import { normalizeAzureMonitor } from "../../shared/ingest/azure-monitor";
import { IssueRepository } from "../../shared/storage/issues";
import { sampleText } from "../unit/ingest/fixtures";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { startIngestStack } from "./ingest-helpers";
import type { Stack } from "./stack";

const TOKEN = "ingest-token-for-http-e2e-0123456789abcdef";
const SENTRY_SECRET = "sentry-client-secret-for-e2e-0123456789abcdef";

let stack: Stack;
let team: TeamsTeam;
let target: string;

beforeAll(async () => {
  ({ stack, team, target } = await startIngestStack({
    INGEST_TOKENS: `another-ingest-token-0123456789abcdef,${TOKEN}`,
    SENTRY_CLIENT_SECRET: SENTRY_SECRET,
    CARD_REFRESH_COALESCE_SECONDS: "1",
  }));
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.api}/ingest/${path}`, { method: "POST", headers, body });
const bearer = { authorization: `Bearer ${TOKEN}` };
const signed = (resource: string, body: string) => ({
  "sentry-hook-resource": resource,
  "sentry-hook-signature": sentrySignature(body, SENTRY_SECRET),
  "content-type": "application/json",
});
const issue = async (id: string) => (await new IssueRepository(stack.storage).get(id))?.issue;
const cardShowing = (text: string) => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes(text));
const cardSays = async (title: string, text: string) =>
  waitFor(() => (cardShowing(title) && cardText(cardOf(cardShowing(title)!.activity)).includes(text) ? true : undefined), {
    timeoutMs: 30_000,
    description: `card "${title}" shows "${text}"`,
  });

describe("Grafana contact point (documented sample)", () => {
  it("firing: both alerts of the group become cards", async () => {
    const response = await post(`grafana?target=${target}`, sampleText("grafana-firing"), bearer);
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ accepted: 2 });
    await cardSays("This alert was triggered for zone us-1", "High memory usage");
    await cardSays("This alert was triggered for zone eu-1", "High CPU usage");
  });

  it("resolved: the issue is resolved by grafana and the card says so", async () => {
    expect((await post(`grafana?target=${target}`, sampleText("grafana-resolved"), bearer)).status).toBe(202);
    await cardSays("This alert was triggered for zone us-1", "Resolved by grafana");
    expect(await issue("grafana:c6eadffa33fcdf37")).toMatchObject({ status: "resolved", statusChangedBy: "grafana" });
    expect(await issue("grafana:bc97ff14869b13e3")).toMatchObject({ status: "unresolved" });
  });
});

describe("Azure Monitor action group webhook (common alert schema, documented sample), token in the query", () => {
  it("fired: a card; resolved: resolved by azure-monitor", async () => {
    expect((await post(`azure-monitor?token=${TOKEN}&target=${target}`, sampleText("azure-monitor-fired"))).status).toBe(202);
    await cardSays("WCUS-R2-Gen2", "wcus-r2-gen2");
    expect((await post(`azure-monitor?token=${TOKEN}&target=${target}`, sampleText("azure-monitor-resolved"))).status).toBe(202);
    await cardSays("WCUS-R2-Gen2", "Resolved by azure-monitor");
    const fired = normalizeAzureMonitor(JSON.parse(sampleText("azure-monitor-fired")));
    const issueId = fired.ok ? (fired.messages[0] as { issue: { id: string } }).issue.id : "";
    expect(await issue(issueId)).toMatchObject({
      status: "resolved",
      level: "info",
      project: "Platform",
    });
  });
});

describe("Sentry integration-platform webhooks (documented samples, Sentry-Hook-Signature)", () => {
  it("event_alert: a card for the Sentry issue", async () => {
    const body = sampleText("sentry-event-alert");
    expect((await post(`sentry?target=${target}`, body, signed("event_alert", body))).status).toBe(202);
    await cardSays("ReferenceError: heck is not defined", "front-end");
  });

  it("metric_alert critical then resolved: resolved by sentry", async () => {
    for (const name of ["sentry-metric-alert-critical", "sentry-metric-alert-resolved"]) {
      const body = sampleText(name);
      expect((await post(`sentry?target=${target}`, body, signed("metric_alert", body))).status).toBe(202);
    }
    await cardSays("Too many errors", "Resolved by sentry");
  });

  it("issue created, then assigned and resolved in Sentry: every change shows on the card, by sentry", async () => {
    const send = async (name: string) => {
      const body = sampleText(name);
      expect((await post(`sentry?target=${target}`, body, signed("issue", body))).status).toBe(202);
    };
    await send("sentry-issue-created");
    await cardSays("(Priority: HIGH)", "PYTHON-Y");
    await send("sentry-issue-assigned");
    await waitFor(async () => (await issue("sentry:1234567890"))?.assignee?.email === "ana@contoso.com" || undefined, { timeoutMs: 30_000 });
    await send("sentry-issue-resolved");
    await cardSays("(Priority: HIGH)", "Resolved by sentry");
    const body = (await (await fetch(`${stack.api}/issues/sentry:1234567890`)).json()) as {
      activities: { action: string; actor: string; surface: string }[];
    };
    expect(body.activities.slice(0, 2)).toEqual([
      expect.objectContaining({ action: "resolve", actor: "sentry", surface: "alert" }),
      expect.objectContaining({ action: "assign", actor: "sentry", surface: "alert" }),
    ]);
  });
});

describe("refused: 401 (nothing enqueued, the token never logged), 400 with paths, 404, 413", () => {
  const amAlert = (fingerprint: string) => {
    const payload = JSON.parse(sampleText("alertmanager-firing"));
    payload.alerts[0].fingerprint = fingerprint;
    return JSON.stringify(payload);
  };
  const FORGED = "forged-token-that-is-long-enough-0123456789";

  it("missing, forged or query-forged tokens and bad Sentry signatures → 401, and none of them is taken", async () => {
    const attempts: [string, Response][] = [
      ["no token", await post("alertmanager", amAlert("dead01"))],
      ["forged bearer", await post("alertmanager", amAlert("dead02"), { authorization: `Bearer ${FORGED}` })],
      ["forged ?token=", await post(`alertmanager?token=${FORGED}`, amAlert("dead03"))],
      ["a token cut short", await post("alertmanager", amAlert("dead04"), { authorization: `Bearer ${TOKEN.slice(0, -1)}` })],
    ];
    const sentryBody = sampleText("sentry-event-alert").replace("1117540176", "999");
    attempts.push([
      "bad Sentry signature",
      await post("sentry", sentryBody, {
        ...signed("event_alert", sentryBody),
        "sentry-hook-signature": sentrySignature(sentryBody, "not-the-secret"),
      }),
    ]);
    attempts.push(["no Sentry signature", await post("sentry", sentryBody, { "sentry-hook-resource": "event_alert" })]);
    attempts.push(["Sentry signed, body changed after", await post("sentry", sentryBody, signed("event_alert", sampleText("sentry-event-alert")))]);
    attempts.push(["a bearer token on the Sentry route", await post("sentry", sentryBody, { ...bearer, "sentry-hook-resource": "event_alert" })]);
    expect(attempts.map(([why, response]) => [why, response.status])).toEqual(attempts.map(([why]) => [why, 401]));

    // A good alert behind them: once it is taken, anything enqueued before it would have been taken too.
    expect((await post("alertmanager", amAlert("beef01"), bearer)).status).toBe(202);
    await waitFor(() => issue("alertmanager:beef01"), { timeoutMs: 30_000 });
    for (const id of ["alertmanager:dead01", "alertmanager:dead02", "alertmanager:dead03", "alertmanager:dead04", "sentry:999"])
      expect(await issue(id)).toBeUndefined();
    const logs = stack.host.logs().join("\n");
    expect(logs).toMatch(/Ingest alertmanager: 401, token not accepted; nothing enqueued/);
    expect(logs).not.toContain(FORGED);
    expect(logs).not.toContain(TOKEN);
  });

  it("one bad alert in a group: 400 listing its paths, and the good ones are not taken either", async () => {
    const group = JSON.parse(sampleText("alertmanager-firing"));
    group.alerts = [
      { ...group.alerts[0], fingerprint: "cafe01" },
      { ...group.alerts[0], fingerprint: "not hex", startsAt: "yesterday" },
    ];
    const response = await post("alertmanager", JSON.stringify(group), bearer);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { path: string }[] };
    expect(body.issues.map((i) => i.path).sort()).toEqual(["alerts.1.fingerprint", "alerts.1.startsAt"]);
    expect((await post("alertmanager", amAlert("beef02"), bearer)).status).toBe(202);
    await waitFor(() => issue("alertmanager:beef02"), { timeoutMs: 30_000 });
    expect(await issue("alertmanager:cafe01")).toBeUndefined();
  });

  it("not JSON → 400; a schema-v1 alert with a bad field → 400 with its path; a bad ?target= → 400", async () => {
    expect((await post("grafana", "{not json", bearer)).status).toBe(400);
    const alert = {
      schemaVersion: 1,
      alertId: "a1",
      issue: { id: "i1", project: "p", title: "t", level: "severe", count: 1, firstSeen: "2026-01-01T00:00:00Z", lastSeen: "2026-01-01T00:00:00Z" },
    };
    const bad = await post("alerts", JSON.stringify(alert), bearer);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ issues: [expect.objectContaining({ path: "issue.level" })] });
    const badTarget = await post("alerts?target=msteams:nope", JSON.stringify({ ...alert, issue: { ...alert.issue, level: "error" } }), bearer);
    expect(badTarget.status).toBe(400);
    expect(await badTarget.json()).toMatchObject({ issues: [expect.objectContaining({ path: expect.stringMatching(/^target/) })] });
  });

  it("POST /api/ingest/alerts takes schema v1 as the queue does, status included", async () => {
    const alert = {
      schemaVersion: 1,
      alertId: "http-1",
      issue: {
        id: "http-issue",
        project: "checkout",
        title: "Checkout is slow",
        level: "warning",
        count: 3,
        firstSeen: "2026-01-01T00:00:00Z",
        lastSeen: "2026-01-01T00:00:00Z",
      },
    };
    expect((await post(`alerts?target=${target}`, JSON.stringify(alert), bearer)).status).toBe(202);
    await cardSays("Checkout is slow", "checkout");
    const recovered = { ...alert, alertId: "http-1-resolved", status: "resolved", issue: { ...alert.issue, lastSeen: "2026-01-01T00:05:00Z" } };
    expect((await post("alerts", JSON.stringify(recovered), bearer)).status).toBe(202);
    await cardSays("Checkout is slow", "Resolved by alert");
  });

  it("unknown source → 404; over 1 MiB → 413", async () => {
    expect((await post("nagios", "{}", bearer)).status).toBe(404);
    expect((await post("alerts", JSON.stringify({ pad: "x".repeat(1024 * 1024) }), bearer)).status).toBe(413);
  });
});
