// Teams throttling with a 429 that carries no Retry-After (notes/teams.md §3.2: such 429s happen; §7: without the
// header, back off exponentially with jitter). Waiting is not failing, so a throttled card post, card update or
// roster read never uses up an attempt and never makes a target dead; but each 429 in a row must wait longer than
// the last (about 5 s, doubling, up to about 5 minutes), not come back every second or two for ever. The app's
// workflows run in this process against Azurite and the Teams emulator; a recorder in front of Azurite's queue
// service reads the delay each retry was queued with, and the test takes each retry at its time, the clock moved on.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AppContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { memberSyncMessageSchema, takeMemberSyncPage, type MemberSyncMessage } from "../../shared/identity/member-sync";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { CardRepository } from "../../shared/storage/cards";
import { QUEUES, StorageClients } from "../../shared/storage/clients";
import { DeliveryRepository, readDeliveryMessage, type DeliveryMessage } from "../../shared/storage/deliveries";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { ConnectorError } from "../../shared/teams/connector";
import { createTeamsServices } from "../../shared/teams/services";
import { deliver, deliverBatch } from "../../shared/workflows/deliver";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { loadConfig } from "../../shared/config";
import { anIssue } from "../fixtures/issues";
import { recordQueueWrites, type QueueRecorder, type RecordedMessage } from "../support/queue-recorder";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInTeamsChannels } from "../support/installations";
import { decode, messageCount, queueClient } from "../support/queues";
import { cardOf, cardText } from "../e2e/card-helpers";

let app: EmulatedApp;
let recorder: QueueRecorder;
/** The app as its queue functions run it, its queue writes seen by the recorder. */
let run: AppContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "teams-throttle-no-retry-after",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d42a", tenantId: "72f988bf-0000-4000-8000-00000000042a" },
  });
  recorder = await recordQueueWrites(app.azurite.queueEndpoint);
  const connectionString = app.connectionString.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=${recorder.endpoint}`);
  run = { ...app.context(), storage: new StorageClients({ kind: "connectionString", connectionString }) };
});
afterEach(() => {
  vi.useRealTimers();
  app.teams.clearFaults();
  app.teams.enforceRateLimits(false);
});
afterAll(async () => {
  await recorder?.stop();
  await app?.stop();
});

/** The wait after the n-th 429 in a row: about 5 s, doubling, at most about 5 minutes (10 % either way for jitter). */
function expectedWait(n: number): { atLeast: number; atMost: number } {
  const base = Math.min(300, 5 * 2 ** (n - 1));
  return { atLeast: Math.floor(base * 0.9), atMost: Math.ceil(base * 1.1) };
}

function expectGrowingWaits(delays: number[]): void {
  delays.forEach((delay, i) => {
    const { atLeast, atMost } = expectedWait(i + 1);
    expect(delay, `wait after 429 number ${i + 1} of ${delays.join(", ")}`).toBeGreaterThanOrEqual(atLeast);
    expect(delay, `wait after 429 number ${i + 1} of ${delays.join(", ")}`).toBeLessThanOrEqual(atMost);
  });
}

async function teamsChannel(name: string): Promise<{ provider: "msteams"; conversationId: string }> {
  const ana = app.teams.addUser({ name: `${name} Ana`, email: `${name.toLowerCase()}-ana@contoso.com` });
  const team = app.teams.addTeam({ name, members: [ana] });
  await installInTeamsChannels(app.direct, app.teams, [team.generalChannelId]);
  return { provider: "msteams", conversationId: team.generalChannelId };
}

async function planned(name: string, target: AlertTarget): Promise<DeliveryMessage> {
  const issueId = `teams-no-retry-after-${name}`;
  await new IssueRepository(app.storage).change(issueId, () => ({
    issue: anIssue({ id: issueId, title: `Throttled ${name}`, version: 1 }),
    activities: [],
  }));
  const message: DeliveryMessage = { alertId: `alert-${name}`, issueId, targetKey: targetKey(target), target };
  await new DeliveryRepository(app.storage).plan(message.alertId, issueId, message.targetKey, target);
  return message;
}

const cardsIn = (conversationId: string, issueId: string) =>
  app.teams.messages(conversationId).filter((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`));

describe("a Teams card post answered 429 without Retry-After, again and again", () => {
  it("waits about 5 s, then twice as long each time up to about 5 minutes, never spends an attempt, and posts once let through", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const target = await teamsChannel("Posts");
    const message = await planned("post", target);
    const THROTTLES = 9;
    app.teams.injectFault({ operation: "send", conversationId: target.conversationId, status: 429, times: THROTTLES });

    expect(await deliver(run, message)).toBe("retry");
    for (let n = 2; n <= THROTTLES; n++) {
      const retry = recorder.lastTo(QUEUES.deliveries);
      expect(await takeDeliveryAtItsTime(retry)).toBe("retry");
      const row = (await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!;
      expect(row).toMatchObject({ state: "pending", attempts: 0 });
    }
    const delays = recorder.sentTo(QUEUES.deliveries).map((sent) => sent.delaySeconds);
    expect(delays).toHaveLength(THROTTLES);
    expectGrowingWaits(delays);

    expect(await takeDeliveryAtItsTime(recorder.lastTo(QUEUES.deliveries))).toBe("sent");
    expect(cardsIn(target.conversationId, message.issueId)).toHaveLength(1);
    expect(await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey)).toMatchObject({ state: "sent", attempts: 1 });
    expect(await messageCount(app.azurite.connectionString, QUEUES.deliveries)).toBe(0);
  }, 60_000);
});

describe("a Teams card update answered 429 without Retry-After, again and again", () => {
  it("comes back after about 5 s, then 10 s, then 20 s, and the card shows the change once Teams lets it through", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const target = await teamsChannel("Updates");
    const message = await planned("update", target);
    expect(await deliver(run, message)).toBe("sent");
    const { issueId } = message;
    const resolved = await new IssueRepository(app.storage).change(issueId, (current) => ({
      issue: { ...current!.issue, status: "resolved", version: current!.issue.version + 1 },
      activities: [],
    }));
    const version = resolved!.issue.version;
    const THROTTLES = 3;
    app.teams.injectFault({ operation: "update", conversationId: target.conversationId, status: 429, times: THROTTLES });

    await refreshCards(run, { issueId, version, requestedAt: new Date().toISOString() });
    for (let n = 2; n <= THROTTLES; n++) await takeRefreshAtItsTime(recorder.lastTo(QUEUES.cardRefresh));
    const delays = recorder.sentTo(QUEUES.cardRefresh).map((sent) => sent.delaySeconds);
    expect(delays).toHaveLength(THROTTLES);
    expectGrowingWaits(delays);
    const [copy] = await new CardRepository(app.storage).list(issueId);
    expect(copy).toMatchObject({ renderedVersion: 1 });
    expect(copy!.dead).toBeUndefined();

    await takeRefreshAtItsTime(recorder.lastTo(QUEUES.cardRefresh));
    expect((await new CardRepository(app.storage).list(issueId))[0]).toMatchObject({ renderedVersion: version });
    expect(cardText(cardOf(cardsIn(target.conversationId, issueId)[0]!.activity))).toMatch(/Resolved/);
    expect(await messageCount(app.azurite.connectionString, QUEUES.cardRefresh)).toBe(0);
  }, 60_000);
});

describe("a team's roster read answered 429 without Retry-After, again and again", () => {
  it("reads the page again after about 5 s, then 10 s, 20 s, 40 s, and links the members once Teams lets it through", async () => {
    vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
    const members = [1, 2, 3].map((n) => app.teams.addUser({ name: `Roster ${n}`, email: `roster${n}@contoso.com` }));
    const team = app.teams.addTeam({ name: "Roster", members });
    const THROTTLES = 4;
    app.teams.injectFault({ operation: "pagedMembers", conversationId: team.teamId, status: 429, times: THROTTLES });

    let page: MemberSyncMessage = { tenantId: app.teams.tenantId, serviceUrl: app.teams.serviceUrl, teamId: team.teamId };
    for (let n = 1; n <= THROTTLES; n++) {
      expect(await takeMemberSyncPage(run, page)).toMatch(/^Team members: Teams throttled the roster read; the page is read again in \d+s$/);
      page = await takeMemberSyncAtItsTime(recorder.lastTo(QUEUES.memberSync));
    }
    const delays = recorder.sentTo(QUEUES.memberSync).map((sent) => sent.delaySeconds);
    expect(delays).toHaveLength(THROTTLES);
    expectGrowingWaits(delays);

    expect(await takeMemberSyncPage(run, page)).toBe("Team members: 3 linked from this page; done");
    const linked = await Promise.all(members.map((member) => new IdentityRepository(app.storage).findByEmail(member.email, "msteams")));
    expect(linked.every((found) => found.length === 1)).toBe(true);
  }, 60_000);
});

describe("the Teams emulator", () => {
  it("can rate-limit without Retry-After, as Teams sometimes does", async () => {
    const target = await teamsChannel("Emulator");
    app.teams.enforceRateLimits(true, { retryAfter: false });
    const config = loadConfig(app.settings);
    const connector = createTeamsServices(config).connector;
    const answers = await Promise.allSettled(
      Array.from({ length: 9 }, () => connector.send(app.teams.serviceUrl, target.conversationId, { type: "message", text: "burst" })),
    );
    const refused = answers.flatMap((answer) => (answer.status === "rejected" ? [answer.reason] : []));
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(ConnectorError);
      expect(error).toMatchObject({ status: 429, retryAfterSec: undefined });
    }
  });
});

/** What the Functions host does with a queued message once its delay has passed: the clock moved on, the message made visible and taken. */
async function takeAtItsTime(sent: RecordedMessage): Promise<unknown> {
  vi.setSystemTime(Math.max(Date.now(), sent.at + sent.delaySeconds * 1000 + 100));
  const queue = queueClient(app.azurite.connectionString, sent.queue);
  await queue.updateMessage(sent.messageId, sent.popReceipt, sent.text, 0);
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
  expect(receivedMessageItems.map((item) => item.messageId)).toEqual([sent.messageId]);
  const item = receivedMessageItems[0]!;
  await queue.deleteMessage(item.messageId, item.popReceipt);
  return decode(item.messageText).body;
}

async function takeDeliveryAtItsTime(sent: RecordedMessage): Promise<string> {
  const read = readDeliveryMessage(await takeAtItsTime(sent));
  if (!read.ok) throw new Error(`unexpected deliveries message: ${read.path}`);
  const results = await deliverBatch(run, read.batch);
  return [...results.values()][0]!;
}

async function takeRefreshAtItsTime(sent: RecordedMessage): Promise<void> {
  await refreshCards(run, (await takeAtItsTime(sent)) as CardRefreshMessage);
}

async function takeMemberSyncAtItsTime(sent: RecordedMessage): Promise<MemberSyncMessage> {
  return memberSyncMessageSchema.parse(await takeAtItsTime(sent));
}
