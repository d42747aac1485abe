// A card copy whose platform keeps failing (Slack answering 503) for longer than the retry attempts last is not
// left showing the old state: the refresh comes back every 10–15 minutes, one at a time, until the copy lands
// (Sentry's #41891: cards that never follow a change); after a day of failing it stops, until the issue changes
// again, rather than calling the platform every 10–15 minutes for ever. The app's workflows run in this process against Azurite
// and the Slack emulator; the queue's delays are kept by Azurite, and the test brings each queued refresh in at
// its time, with the clock moved on to that time.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { MAX_DELIVERY_ATTEMPTS } from "../../shared/delivery/retry-policy";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { CardRepository } from "../../shared/storage/cards";
import { QUEUES, StorageClients } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import type { AppContext } from "../../shared/context";
import { anIssue } from "../fixtures/issues";
import { recordQueueWrites, type QueueRecorder, type RecordedMessage } from "../support/queue-recorder";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { decode, messageCount, queueClient } from "../support/queues";

let app: EmulatedApp;
let recorder: QueueRecorder;
/** The app as the card-refresh function runs it, its queue writes seen by the recorder. */
let run: AppContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "refresh-outage",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0b1", tenantId: "72f988bf-0000-4000-8000-000000000011" },
  });
  recorder = await recordQueueWrites(app.azurite.queueEndpoint);
  const connectionString = app.connectionString.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=${recorder.endpoint}`);
  run = { ...app.context(), storage: new StorageClients({ kind: "connectionString", connectionString }) };
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await recorder?.stop();
  await app?.stop();
});

describe("a copy the platform keeps failing", () => {
  it("is tried again every 10–15 minutes past the attempts, one refresh pending at a time, and shows the change once Slack answers again", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const { issueId, channel } = await issueWithSlackCopy("outage-1");
    const resolved = await new IssueRepository(app.storage).change(issueId, (current) => ({
      issue: { ...current!.issue, status: "resolved", version: current!.issue.version + 1 },
      activities: [],
    }));
    const version = resolved!.issue.version;
    app.slack.injectError({ method: "chat.update", channel, httpStatus: 503, times: Infinity });
    const failedUpdates = () => app.slack.callsTo("chat.update").filter((call) => call.params.channel === channel && !call.ok).length;

    // The change's refresh, then each retry it queues, taken when it falls due.
    await refreshCards(run, { issueId, version, requestedAt: new Date().toISOString() });
    for (let attempt = 2; attempt <= MAX_DELIVERY_ATTEMPTS; attempt++) {
      const retry = recorder.lastTo(QUEUES.cardRefresh);
      expect(retry.delaySeconds).toBeLessThan(300);
      await takeAtItsTime(retry);
    }
    expect(failedUpdates()).toBe(MAX_DELIVERY_ATTEMPTS);
    expect(recorder.sentTo(QUEUES.cardRefresh)).toHaveLength(MAX_DELIVERY_ATTEMPTS);

    // Out of attempts: not dropped, not dead, but back in 10–15 minutes, the only refresh pending for the issue.
    const slow = recorder.lastTo(QUEUES.cardRefresh);
    expect(slow.delaySeconds).toBeGreaterThanOrEqual(600);
    expect(slow.delaySeconds).toBeLessThanOrEqual(900);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(1);
    expect(await copyOf(issueId)).toMatchObject({ renderedVersion: 1 });
    expect((await copyOf(issueId)).dead).toBeUndefined();

    // Slack still failing then: the same again, one more call and one more slow refresh.
    await takeAtItsTime(slow);
    expect(failedUpdates()).toBe(MAX_DELIVERY_ATTEMPTS + 1);
    const slower = recorder.lastTo(QUEUES.cardRefresh);
    expect(slower).not.toBe(slow);
    expect(slower.delaySeconds).toBeGreaterThanOrEqual(600);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(1);

    // Slack answers again; nobody touches the issue. The pending refresh lands the change, and nothing follows.
    app.slack.clearFaults();
    await takeAtItsTime(slower);
    expect(await copyOf(issueId)).toMatchObject({ renderedVersion: version });
    expect(JSON.stringify(app.slack.messages(channel)[0]!.blocks)).toMatch(/Resolved/);
    expect(recorder.lastTo(QUEUES.cardRefresh)).toBe(slower);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(0);
  }, 60_000);

  it("is left stale after a day of failing, with the reason logged, and the issue's next change tries it afresh", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const logged: string[] = [];
    const logging: AppContext = { ...run, log: (line) => logged.push(line) };
    const { issueId, channel } = await issueWithSlackCopy("outage-day");
    const resolve = () =>
      new IssueRepository(app.storage).change(issueId, (current) => ({
        issue: { ...current!.issue, status: current!.issue.status === "resolved" ? "unresolved" : "resolved", version: current!.issue.version + 1 },
        activities: [],
      }));
    const version = (await resolve())!.issue.version;
    // An answer the sender doesn't know: not "gone", so the copy is only ever retried.
    app.slack.injectError({ method: "chat.update", channel, error: "some_new_slack_error", times: Infinity });
    const failedUpdates = () => app.slack.callsTo("chat.update").filter((call) => call.params.channel === channel && !call.ok).length;

    const failingFrom = Date.now();
    await refreshCards(logging, { issueId, version, requestedAt: new Date().toISOString() });
    for (let attempt = 2; attempt <= MAX_DELIVERY_ATTEMPTS + 1; attempt++) await takeAtItsTime(recorder.lastTo(QUEUES.cardRefresh), logging);

    // Within the day: still tried every 10–15 minutes, even 23 hours on.
    vi.setSystemTime(failingFrom + 23 * HOUR);
    await takeAtItsTime(recorder.lastTo(QUEUES.cardRefresh), logging);
    const lastOfTheDay = recorder.lastTo(QUEUES.cardRefresh);
    expect(lastOfTheDay.delaySeconds).toBeGreaterThanOrEqual(600);
    expect(lastOfTheDay.delaySeconds).toBeLessThanOrEqual(900);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(1);
    const callsWithinTheDay = failedUpdates();
    expect(callsWithinTheDay).toBe(MAX_DELIVERY_ATTEMPTS + 2);

    // Past 24 hours of failing: tried once more, then nothing more is queued; the copy stays, stale but not dead.
    vi.setSystemTime(failingFrom + 24 * HOUR + 60_000);
    await takeAtItsTime(lastOfTheDay, logging);
    expect(failedUpdates()).toBe(callsWithinTheDay + 1);
    expect(recorder.lastTo(QUEUES.cardRefresh)).toBe(lastOfTheDay);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(0);
    expect(await copyOf(issueId)).toMatchObject({ renderedVersion: 1 });
    expect((await copyOf(issueId)).dead).toBeUndefined();
    expect(logged.at(-1)).toMatch(/left stale.*24 hours.*some_new_slack_error/);

    // The issue changes again: its copies are tried afresh, with quick retries, and land once Slack takes them.
    vi.setSystemTime(Date.now() + HOUR);
    const changed = (await resolve())!.issue.version;
    await refreshCards(logging, { issueId, version: changed, requestedAt: new Date().toISOString() });
    expect(failedUpdates()).toBe(callsWithinTheDay + 2);
    const afresh = recorder.lastTo(QUEUES.cardRefresh);
    expect(afresh).not.toBe(lastOfTheDay);
    expect(afresh.delaySeconds).toBeLessThan(300);
    app.slack.clearFaults();
    await takeAtItsTime(afresh, logging);
    expect(await copyOf(issueId)).toMatchObject({ renderedVersion: changed });
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(0);
  }, 60_000);
});

const HOUR = 60 * 60_000;

/** An issue (version 1) with its card in a Slack channel of a workspace of its own, posted by the app's sender. */
async function issueWithSlackCopy(name: string): Promise<{ issueId: string; channel: string }> {
  const issueId = `outage-${name}`;
  const issue = (await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!
    .issue;
  const workspace = app.slack.addWorkspace({ name });
  await installInSlackWorkspace(app.storage, workspace);
  const channel = app.slack.addChannel(workspace.teamId, { name }).id;
  const target = { provider: "slack" as const, teamId: workspace.teamId, channel };
  const posted = await sendSlackCard(
    { ...run, slack: app.context().slack, identities: new IdentityRepository(app.storage) },
    issue,
    target,
    `slack:${workspace.teamId}:${channel}`,
    1,
    { deliveryId: `d-${name}` },
  );
  if (posted.kind !== "sent") throw new Error(`posting failed: ${JSON.stringify(posted)}`);
  await new CardRepository(app.storage).save(posted.copy);
  return { issueId, channel };
}

async function copyOf(issueId: string) {
  const [copy] = await new CardRepository(app.storage).list(issueId);
  return copy!;
}

/**
 * What the Functions host does with a queued refresh once its delay has passed: the clock is moved on to that
 * moment, the message made visible, taken off the queue, run and deleted.
 */
async function takeAtItsTime(sent: RecordedMessage, refresher: AppContext = run): Promise<void> {
  vi.setSystemTime(Math.max(Date.now(), sent.at + sent.delaySeconds * 1000 + 100));
  const queue = queueClient(app.azurite.connectionString, QUEUES.cardRefresh);
  await queue.updateMessage(sent.messageId, sent.popReceipt, sent.text, 0);
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
  expect(receivedMessageItems.map((item) => item.messageId)).toEqual([sent.messageId]);
  const item = receivedMessageItems[0]!;
  await refreshCards(refresher, decode(item.messageText).body as CardRefreshMessage);
  await queue.deleteMessage(item.messageId, item.popReceipt);
}
