// A first card must not be lost to a platform outage of a few minutes (Sentry's #77681, "alerts randomly not
// delivered, nothing logged"; notes/peers.md). Waiting is not failing: a first post still failing after the quick
// attempts keeps being tried on the slow schedule card updates use, until it lands, the platform says the target is
// gone, or it has failed for a day; a delivery that gave up is tried afresh when its alert is sent again; and the
// "already taken" path of an alert sent again never claims a target it has nothing to post to. The app's workflows
// run in this process against Azurite and the Slack emulator; the queue's delays are kept by Azurite, and the test
// brings each queued retry in at its time, with the clock moved on to that time.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { MAX_DELIVERY_ATTEMPTS } from "../../shared/delivery/retry-policy";
import { QUEUES, StorageClients } from "../../shared/storage/clients";
import { DeliveryRepository, readDeliveryMessage, targetLabel } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import type { AppContext } from "../../shared/context";
import { anAlert } from "../fixtures/issues";
import { recordQueueWrites, type QueueRecorder, type RecordedMessage } from "../support/queue-recorder";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { decode, messageCount, queueClient } from "../support/queues";

let app: EmulatedApp;
let recorder: QueueRecorder;
/** The app as the alerts and deliveries functions run it, its queue writes seen by the recorder, its log kept. */
let run: AppContext;
const logged: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "first-card-outage",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000f1c0", tenantId: "72f988bf-0000-4000-8000-0000000000f1" },
  });
  recorder = await recordQueueWrites(app.azurite.queueEndpoint);
  const connectionString = app.connectionString.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=${recorder.endpoint}`);
  run = { ...app.context(), storage: new StorageClients({ kind: "connectionString", connectionString }), log: (line) => logged.push(line) };
});
afterEach(async () => {
  vi.useRealTimers();
  app.slack.clearFaults();
  // Delayed messages too: each test starts with nothing queued.
  await queueClient(app.azurite.connectionString, QUEUES.deliveries).clearMessages();
});
afterAll(async () => {
  await recorder?.stop();
  await app?.stop();
});

const HOUR = 60 * 60_000;

describe("a first card whose platform keeps failing", () => {
  it("is tried again every 10–15 minutes past the attempts, never dead, and posted once when Slack answers again", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const { target, channel } = await slackChannel("slow");
    app.slack.injectError({ method: "chat.postMessage", channel, httpStatus: 503, times: Infinity });
    const alert = anAlert({ alertId: "slow-1", issue: { id: "outage-slow" }, targets: [target] });
    const queuedBefore = recorder.sentTo(QUEUES.deliveries).length;

    // The alerts handler posts the new issue's first card itself; each retry is taken when it falls due.
    expect(await take(alert)).toMatchObject({ posted: 0, deliveries: 1 });
    for (let attempt = 2; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
      const retry = recorder.lastTo(QUEUES.deliveries);
      expect(retry.delaySeconds).toBeLessThan(300);
      await deliverAtItsTime(retry);
    }
    expect(failedPosts(channel)).toBe(MAX_DELIVERY_ATTEMPTS);

    // Out of attempts: not dead, but back in 10–15 minutes, through the queue.
    expect(recorder.sentTo(QUEUES.deliveries).length - queuedBefore).toBe(MAX_DELIVERY_ATTEMPTS);
    const slow = recorder.lastTo(QUEUES.deliveries);
    expect(slow.delaySeconds).toBeGreaterThanOrEqual(600);
    expect(slow.delaySeconds).toBeLessThanOrEqual(900);
    expect(await messageCount(app.azurite.connectionString, QUEUES.deliveries)).toBe(1);
    expect(await delivery("slow-1", target)).toMatchObject({ state: "pending", reason: expect.stringMatching(/503/) });

    // Slack still failing then: one more call, and again 10–15 minutes.
    await deliverAtItsTime(slow);
    expect(failedPosts(channel)).toBe(MAX_DELIVERY_ATTEMPTS + 1);
    const slower = recorder.lastTo(QUEUES.deliveries);
    expect(slower).not.toBe(slow);
    expect(slower.delaySeconds).toBeGreaterThanOrEqual(600);

    // Slack answers again: the card is posted, once, and nothing more is queued.
    app.slack.clearFaults();
    await deliverAtItsTime(slower);
    expect(cards(channel, "outage-slow")).toBe(1);
    expect(await delivery("slow-1", target)).toMatchObject({ state: "sent", decision: "posted a new card" });
    expect(recorder.lastTo(QUEUES.deliveries)).toBe(slower);
    expect(await messageCount(app.azurite.connectionString, QUEUES.deliveries)).toBe(0);
    expect(logged.filter((line) => line.includes("slow-1") && /(is dead|: dead)\b/.test(line))).toEqual([]);
  }, 60_000);

  it("ends dead after a day of failing, logged once with its target and the reason", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const { target, channel } = await slackChannel("day");
    // An answer the sender doesn't know: not "gone", so the delivery is only ever retried.
    app.slack.injectError({ method: "chat.postMessage", channel, error: "some_new_slack_error", times: Infinity });
    const failingFrom = Date.now();

    await take(anAlert({ alertId: "day-1", issue: { id: "outage-day" }, targets: [target] }));
    await deliverUntilDead("day-1", target, failingFrom);
    expect(await delivery("day-1", target)).toMatchObject({
      state: "dead",
      reason: expect.stringMatching(/^gave up after \d+ attempts.*some_new_slack_error/),
    });
    // Through the day, not after the quick attempts alone.
    expect(failedPosts(channel)).toBeGreaterThan(MAX_DELIVERY_ATTEMPTS);
    expect(Date.now() - failingFrom).toBeGreaterThanOrEqual(24 * HOUR);
    expect(await messageCount(app.azurite.connectionString, QUEUES.deliveries)).toBe(0);
    const deadLines = logged.filter((line) => line.includes("day-1") && /(is dead|: dead)\b/.test(line));
    expect(deadLines).toHaveLength(1);
    expect(deadLines[0]).toContain(targetLabel(targetKey(target)));
    expect(deadLines[0]).toContain("some_new_slack_error");
  }, 60_000);

  it("once it gave up, its alert sent again unchanged (Alertmanager's repeat, the same startsAt) posts it when Slack answers", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const { target, channel } = await slackChannel("repeat");
    app.slack.injectError({ method: "chat.postMessage", channel, httpStatus: 503, times: Infinity });
    const alert = anAlert({ alertId: "repeat-1", issue: { id: "outage-repeat" }, targets: [target] });
    await take(alert);
    await deliverUntilDead("repeat-1", target, Date.now());

    app.slack.clearFaults();
    await take(alert, new Date());
    await deliverQueued();
    expect(cards(channel, "outage-repeat")).toBe(1);
    expect(await delivery("repeat-1", target)).toMatchObject({ state: "sent", decision: "posted a new card" });
  }, 60_000);
});

describe("an alert sent again whose target needs no post", () => {
  it("claims nothing: after the card was deleted, the issue's next alert posts a new one", async () => {
    const { target, channel } = await slackChannel("deleted");
    const issueId = "outage-deleted";
    const first = anAlert({ alertId: "deleted-1", issue: { id: issueId, count: 1 }, targets: [target] });
    await take(first);
    expect(cards(channel, issueId)).toBe(1);

    // Someone deletes the card: the next refresh finds it gone, and the target has no live card any more.
    const changed = await new IssueRepository(app.storage).change(issueId, (current) => ({
      issue: { ...current!.issue, version: current!.issue.version + 1 },
      activities: [],
    }));
    app.slack.injectError({ method: "chat.update", channel, error: "message_not_found", times: 1 });
    await refreshCards(run, { issueId, version: changed!.issue.version, requestedAt: new Date().toISOString() });

    // The first alert sent again (its card was delivered), then the issue's next alert.
    await take(first, new Date());
    await deliverQueued();
    await take(anAlert({ alertId: "deleted-2", issue: { id: issueId, count: 2, lastSeen: "2026-11-22T08:00:00.000Z" }, targets: [target] }));
    await deliverQueued();
    expect(cards(channel, issueId)).toBe(2);
    expect(await delivery("deleted-2", target)).toMatchObject({ state: "sent", decision: "posted a new card" });
  }, 60_000);
});

describe("a dead delivery", () => {
  it("is logged once, with its target and the reason", async () => {
    const { target, channel } = await slackChannel("gone");
    app.slack.injectError({ method: "chat.postMessage", channel, error: "channel_not_found", times: 1 });
    await take(anAlert({ alertId: "gone-1", issue: { id: "outage-gone" }, targets: [target] }));
    expect(await delivery("gone-1", target)).toMatchObject({ state: "dead", reason: "channel_not_found" });
    const deadLines = logged.filter((line) => line.includes("gone-1") && /(is dead|: dead)\b/.test(line));
    expect(deadLines).toHaveLength(1);
    expect(deadLines[0]).toContain(targetLabel(targetKey(target)));
    expect(deadLines[0]).toContain("channel_not_found");
  });
});

// ---- the app's functions, as the host runs them

/** The alerts function takes the alert (put on the queue at `insertedAt`, for one sent again). */
const take = (alert: ReturnType<typeof anAlert>, insertedAt?: Date) =>
  takeAlert(run.storage, alert, JSON.stringify(alert), { deliverer: run, ...(insertedAt ? { insertedAt } : {}) });

/**
 * What the Functions host does with a queued delivery once its delay has passed: the clock is moved on to that
 * moment, the message made visible, taken off the queue, run and deleted.
 */
async function deliverAtItsTime(sent: RecordedMessage): Promise<void> {
  vi.setSystemTime(Math.max(Date.now(), sent.at + sent.delaySeconds * 1000 + 100));
  const queue = queueClient(app.azurite.connectionString, QUEUES.deliveries);
  await queue.updateMessage(sent.messageId, sent.popReceipt, sent.text, 0);
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
  expect(receivedMessageItems.map((item) => item.messageId)).toEqual([sent.messageId]);
  const item = receivedMessageItems[0]!;
  await deliver(decode(item.messageText).body);
  await queue.deleteMessage(item.messageId, item.popReceipt);
}

/** Every delivery message visible now, run as the deliveries function runs it. */
async function deliverQueued(): Promise<void> {
  const queue = queueClient(app.azurite.connectionString, QUEUES.deliveries);
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    if (receivedMessageItems.length === 0) return;
    for (const item of receivedMessageItems) {
      await deliver(decode(item.messageText).body);
      await queue.deleteMessage(item.messageId, item.popReceipt);
    }
  }
}

async function deliver(message: unknown): Promise<void> {
  const read = readDeliveryMessage(message);
  if (!read.ok) throw new Error(`unexpected deliveries message: ${read.path}`);
  await deliverBatch(run, read.batch);
}

/**
 * Takes each retry of the delivery when it falls due until the delivery is dead; a retry 10 minutes or more out
 * is taken a day after the failing began, as the last of the day's slow retries would be.
 */
async function deliverUntilDead(alertId: string, target: AlertTarget, failingFrom: number): Promise<void> {
  for (let retries = 0; (await delivery(alertId, target)).state !== "dead"; retries++) {
    if (retries > 2 * MAX_DELIVERY_ATTEMPTS) throw new Error(`${alertId} is still ${(await delivery(alertId, target)).state}`);
    const retry = recorder.lastTo(QUEUES.deliveries);
    if (retry.delaySeconds >= 600) vi.setSystemTime(Math.max(Date.now(), failingFrom + 24 * HOUR + 60_000));
    await deliverAtItsTime(retry);
  }
}

// ---- what a user sees, and the rows

async function slackChannel(name: string): Promise<{ target: AlertTarget; channel: string }> {
  const workspace = app.slack.addWorkspace({ name: `outage-${name}` });
  await installInSlackWorkspace(app.storage, workspace);
  const channel = app.slack.addChannel(workspace.teamId, { name: `alerts-${name}` }).id;
  return { target: { provider: "slack", teamId: workspace.teamId, channel }, channel };
}

const cards = (channel: string, issueId: string) =>
  app.slack.messages(channel).filter((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`)).length;

const failedPosts = (channel: string) => app.slack.callsTo("chat.postMessage").filter((call) => call.params.channel === channel && !call.ok).length;

async function delivery(alertId: string, target: AlertTarget) {
  const row = await new DeliveryRepository(app.storage).get(alertId, targetKey(target));
  if (!row) throw new Error(`no delivery row for ${alertId}`);
  return row;
}
