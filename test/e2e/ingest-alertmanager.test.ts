// The real Prometheus Alertmanager (Debian's prometheus-alertmanager) pointed at the ingest URL with a
// bearer token: alerts posted to its own API reach the subscribed Teams and Slack channels, its own
// repeats are taken once, its resolved notification resolves the issue on every card, and the alert
// firing again after that (the same startsAt) reopens it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { CardRepository } from "../../shared/storage/cards";
import { ALERT_LIMITS } from "../../shared/domain/alert";
import { IssueRepository } from "../../shared/storage/issues";
import { drain } from "../support/queues";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { freePort, installSlackWorkspace, startStack, type Stack } from "./stack";

const ALERTMANAGER = "/usr/bin/prometheus-alertmanager";
const TOKEN = "ingest-token-for-alertmanager-e2e-0123456789";
const SUMMARY = "Disk almost full on db-1";

// Alertmanager's schedule (alertmanager.yml below). It re-sends an unchanged firing group once
// repeat_interval has passed, checked on every group_interval tick.
const GROUP_WAIT_S = 1;
const GROUP_INTERVAL_S = 1;
const REPEAT_INTERVAL_S = 2;
// host.json queues.maxPollingInterval: the longest an ingested alert waits on the queue to be picked up.
const QUEUE_POLL_S = 2;
// Room for a loaded CI machine on top of those schedules (the other waits in this file allow 30 s too).
const MARGIN_S = 30;

let stack: Stack;
let alertmanager: ChildProcess;
// A second webhook of the same receiver: keeps every notification body exactly as Alertmanager sent it.
let recorder: Server;
const recorded: string[] = [];
let alertmanagerUrl: string;
let workDir: string;
let team: TeamsTeam;
let ana: TeamsUser;
let slackTeam: string;
let slackChannel: string;

beforeAll(async () => {
  stack = await startStack({ env: { INGEST_TOKENS: TOKEN, CARD_REFRESH_COALESCE_SECONDS: "1" } });
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Infra", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  await stack.teams.post(
    `${stack.api}/messages`,
    stack.teams.message({ conversation: team.generalChannelId, from: ana, text: "subscribe infra warning" }),
  );
  slackTeam = await installSlackWorkspace(stack, "Contoso");
  slackChannel = stack.slack.addChannel(slackTeam, { name: "infra-alerts" }).id;
  const slackAna = stack.slack.addUser(slackTeam, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  await stack.slack.sendCommand(
    `${stack.api}/slack/commands`,
    stack.slack.slashCommand({ teamId: slackTeam, user: slackAna, channel: slackChannel, command: "/triage", text: "subscribe infra warning" }),
  );

  recorder = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      recorded.push(body);
      response.end();
    });
  });
  await new Promise<void>((listening) => recorder.listen(0, "127.0.0.1", listening));
  const recorderAddress = recorder.address();
  const recorderPort = typeof recorderAddress === "object" && recorderAddress ? recorderAddress.port : 0;

  workDir = mkdtempSync(join(tmpdir(), "alertmanager-e2e-"));
  const port = await freePort();
  alertmanagerUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(workDir, "alertmanager.yml"),
    [
      "route:",
      "  receiver: triage-relay",
      "  group_by: [alertname]",
      `  group_wait: ${GROUP_WAIT_S}s`,
      `  group_interval: ${GROUP_INTERVAL_S}s`,
      `  repeat_interval: ${REPEAT_INTERVAL_S}s`,
      "receivers:",
      "  - name: triage-relay",
      "    webhook_configs:",
      `      - url: ${stack.api}/ingest/alertmanager`,
      "        send_resolved: true",
      "        http_config:",
      "          authorization:",
      `            credentials: ${TOKEN}`,
      `      - url: http://127.0.0.1:${recorderPort}/`,
      "        send_resolved: true",
      "",
    ].join("\n"),
  );
  alertmanager = spawn(
    ALERTMANAGER,
    [
      `--config.file=${join(workDir, "alertmanager.yml")}`,
      `--storage.path=${join(workDir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let output = "";
  alertmanager.stderr!.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  await waitFor(async () => (await fetch(`${alertmanagerUrl}/-/ready`).catch(() => undefined))?.ok, {
    timeoutMs: 60_000,
    description: `Alertmanager ready (${output})`,
  });
}, 120_000);

afterAll(async () => {
  alertmanager?.kill("SIGTERM");
  await new Promise((closed) => (recorder ? recorder.close(closed) : closed(undefined)));
  await stack?.stop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

// On a whole second, which Alertmanager writes without a fraction ("…:05Z") and toISOString() with one
// ("…:05.000Z"): a duplicate rebuilt by hand instead of replayed from what Alertmanager sent would differ
// every run, not only when the milliseconds happen to end in 0.
const startsAt = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000).toISOString();
const labels = { alertname: "DiskAlmostFull", severity: "critical", project: "infra", instance: "db-1" };

async function postToAlertmanager(alert: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify([alert]),
  });
  expect(response.status).toBe(200);
}

const teamsCard = () => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes(SUMMARY));
const slackCard = () => stack.slack.messages(slackChannel).find((m) => !m.ephemeral && blocksText(m.blocks).includes(SUMMARY));
let issueId = "";
const repeats = () => stack.host.logs().filter((line) => line.includes(`Alert for issue ${issueId}: already taken, no change`));

describe("the real Alertmanager → POST /api/ingest/alertmanager", () => {
  it("fires: a card on the subscribed Teams channel and the subscribed Slack channel", async () => {
    await postToAlertmanager({
      labels,
      annotations: { summary: SUMMARY, description: "95% used" },
      startsAt,
      generatorURL: "http://prometheus.example.org/graph",
    });
    const [stored] = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()) as { fingerprint: string }[];
    issueId = `alertmanager:${stored!.fingerprint}`;
    await waitFor(() => (teamsCard() && slackCard() ? true : undefined), { timeoutMs: 30_000, description: "cards in Teams and Slack" });
    const issue = (await new IssueRepository(stack.storage).get(issueId))!.issue;
    expect(issue).toMatchObject({
      project: "infra",
      level: "fatal",
      title: SUMMARY,
      status: "unresolved",
      url: "http://prometheus.example.org/graph",
    });
    expect(cardText(cardOf(teamsCard()!.activity))).toContain(SUMMARY);
    await drain(stack.azurite.connectionString, "issue-events");
  });

  it("Alertmanager's own repeats of the firing notification (repeat_interval) are taken once: no second card, the issue unchanged", async () => {
    const before = (await new IssueRepository(stack.storage).get(issueId))!.issue;
    // Two repeats: each comes at most repeat_interval + group_interval after the one before it.
    await waitFor(() => (repeats().length >= 2 ? true : undefined), {
      timeoutMs: (GROUP_WAIT_S + 2 * (REPEAT_INTERVAL_S + GROUP_INTERVAL_S) + QUEUE_POLL_S + MARGIN_S) * 1000,
      description: "two of Alertmanager's repeats taken as already taken",
    });
    const after = (await new IssueRepository(stack.storage).get(issueId))!.issue;
    expect(after).toMatchObject({ status: "unresolved", version: before.version, count: 1 });
    expect(await new CardRepository(stack.storage).list(issueId)).toHaveLength(2);
    expect(stack.teams.messages(team.generalChannelId).filter((m) => cardText(cardOf(m.activity)).includes(SUMMARY))).toHaveLength(1);
    expect(stack.slack.messages(slackChannel).filter((m) => !m.ephemeral && blocksText(m.blocks).includes(SUMMARY))).toHaveLength(1);
  });

  it("resolves (endsAt in the past): the issue is resolved by alertmanager, both cards say so, an issue-events message is sent", async () => {
    await postToAlertmanager({
      labels,
      annotations: { summary: SUMMARY, description: "95% used" },
      startsAt,
      endsAt: new Date(Date.now() - 1000).toISOString(),
    });
    await waitFor(
      () =>
        cardText(cardOf(teamsCard()!.activity)).includes("Resolved by alertmanager") &&
        blocksText(slackCard()!.blocks).includes("Resolved by alertmanager")
          ? true
          : undefined,
      { timeoutMs: 30_000, description: "both cards show Resolved by alertmanager" },
    );
    const response = await fetch(`${stack.api}/issues/${encodeURIComponent(issueId)}`);
    const body = (await response.json()) as {
      issue: { status: string; statusChangedBy: string };
      activities: { action: string; actor: string; surface: string }[];
    };
    expect(body.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    expect(body.activities[0]).toMatchObject({ action: "resolve", actor: "alertmanager", surface: "alert" });
    const events = await waitFor(async () => {
      const seen = (await drain(stack.azurite.connectionString, "issue-events")).map((event) => event.body as Record<string, unknown>);
      return seen.length ? seen : undefined;
    });
    expect(events).toEqual([
      expect.objectContaining({ issueId, action: "resolve", actor: "alertmanager", surface: "alert", from: "unresolved", to: "resolved" }),
    ]);
  });

  it("fires again after Alertmanager resolved it (Prometheus reachable again: the same startsAt): the issue regresses, a new card in each channel; its repeats are taken once", async () => {
    const firingsBefore = recorded.filter((body) => (JSON.parse(body) as { status: string }).status === "firing").length;
    const repeatsBefore = repeats().length;
    await postToAlertmanager({ labels, annotations: { summary: SUMMARY, description: "95% used" }, startsAt });
    await waitFor(async () => ((await new IssueRepository(stack.storage).get(issueId))?.issue.status === "unresolved" ? true : undefined), {
      timeoutMs: (GROUP_INTERVAL_S + QUEUE_POLL_S + MARGIN_S) * 1000,
      description: "the issue unresolved again",
    });
    // What Alertmanager sent: the firing exactly as the first time, same fingerprint and startsAt.
    const firings = recorded
      .map((body) => JSON.parse(body) as { status: string; alerts: { startsAt: string }[] })
      .filter((b) => b.status === "firing");
    expect(firings.length).toBeGreaterThan(firingsBefore);
    expect(new Date(firings.at(-1)!.alerts[0]!.startsAt).toISOString()).toBe(startsAt);
    expect((await new IssueRepository(stack.storage).get(issueId))!.issue).toMatchObject({ status: "unresolved", substatus: "regressed", count: 2 });
    const teamsCards = () => stack.teams.messages(team.generalChannelId).filter((m) => cardText(cardOf(m.activity)).includes(SUMMARY));
    const slackCards = () => stack.slack.messages(slackChannel).filter((m) => !m.ephemeral && blocksText(m.blocks).includes(SUMMARY));
    await waitFor(() => (teamsCards().length === 2 && slackCards().length === 2 ? true : undefined), {
      timeoutMs: 30_000,
      description: "a second card in Teams and in Slack",
    });

    // Alertmanager's repeats (repeat_interval) of the firing, and the notification replayed as sent: no change.
    await waitFor(() => (repeats().length >= repeatsBefore + 2 ? true : undefined), {
      timeoutMs: (2 * (REPEAT_INTERVAL_S + GROUP_INTERVAL_S) + QUEUE_POLL_S + MARGIN_S) * 1000,
      description: "two of Alertmanager's repeats taken as already taken",
    });
    const version = (await new IssueRepository(stack.storage).get(issueId))!.issue.version;
    const replayed = recorded.filter((body) => (JSON.parse(body) as { status: string }).status === "firing").at(-1)!;
    const response = await fetch(`${stack.api}/ingest/alertmanager`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: replayed,
    });
    expect(response.status).toBe(202);
    const repeatsNow = repeats().length;
    await waitFor(() => (repeats().length > repeatsNow ? true : undefined), {
      timeoutMs: (QUEUE_POLL_S + MARGIN_S) * 1000,
      description: "the replay taken as already taken",
    });
    expect((await new IssueRepository(stack.storage).get(issueId))!.issue).toMatchObject({ status: "unresolved", version, count: 2 });
    expect(teamsCards()).toHaveLength(2);
    expect(slackCards()).toHaveLength(2);
  });
});

describe("the real Alertmanager, an alert as kube-prometheus labels it", () => {
  it("25 labels and a 2,500-character summary: taken (not refused with 400 and lost), the card posted, tags and title cut to the schema", async () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, n) => [`label_${String(n).padStart(2, "0")}`, `value ${n}`]));
    const summary = `Pod checkout-7d9f is crash looping ${"x".repeat(2500)}`;
    await postToAlertmanager({
      labels: { alertname: "KubePodCrashLooping", severity: "warning", project: "infra", namespace: "shop", ...many },
      annotations: { summary },
      startsAt,
    });
    const card = () =>
      stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("Pod checkout-7d9f is crash looping"));
    await waitFor(() => card(), { timeoutMs: 30_000, description: "the crash-looping pod's card in Teams" });
    const alerts = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()) as { fingerprint: string; labels: Record<string, string> }[];
    const fingerprint = alerts.find((alert) => alert.labels.alertname === "KubePodCrashLooping")!.fingerprint;
    const issue = (await new IssueRepository(stack.storage).get(`alertmanager:${fingerprint}`))!.issue;
    expect(issue.title).toHaveLength(ALERT_LIMITS.title);
    expect(Object.keys(issue.tags)).toHaveLength(ALERT_LIMITS.tags);
  });
});
