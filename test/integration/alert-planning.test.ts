// Alert intake plans posts only where a card is needed, one deliveries message per alert, and posts a new issue's
// first cards itself (issue 11 items 1 and 4). The app's intake and delivery run in this process against Azurite
// (through the counting proxy) and the Teams and Slack emulators.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SlackEmulator } from "../../dev/emulators/slack";
import type { TeamsEmulator } from "../../dev/emulators/teams";
import { DeliveryRepository, readDeliveryMessage, type DeliveryBatch } from "../../shared/storage/deliveries";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { CardRepository } from "../../shared/storage/cards";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { IssueRepository } from "../../shared/storage/issues";
import { RefreshGate } from "../../shared/storage/refresh-gate";
import { StorageClients } from "../../shared/storage/clients";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { drain, messageCount, queueClient } from "../support/queues";
import type { StorageProxy } from "../support/storage-proxy";
import type { AppContext } from "../../shared/context";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";

let azurite: Azurite;
let proxy: StorageProxy;
let teams: TeamsEmulator;
let slack: SlackEmulator;
/** The app's storage, through the counting proxy. */
let storage: StorageClients;
/** The test's own look at storage, not counted. */
let direct: StorageClients;
let deliverer: AppContext;

let app: CountedEmulatedApp;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "planning",
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d012", tenantId: "72f988bf-0000-4000-8000-000000000004" },
  });
  ({ azurite, proxy, teams, slack, storage, direct } = app);
  deliverer = app.context();
});
afterAll(async () => {
  await app?.stop();
});
beforeEach(async () => {
  // Delayed messages too (a target another copy was posting is looked at again later).
  await queueClient(azurite.connectionString, "deliveries").clearMessages();
});

async function teamsChannels(name: string, count: number): Promise<AlertTarget[]> {
  const team = teams.addTeam({ name, members: [] });
  const ids = [team.generalChannelId, ...Array.from({ length: count - 1 }, (_, n) => teams.addChannel(team, `${name}-${n}`).id)];
  await installInTeamsChannels(direct, teams, ids);
  return ids.map((conversationId) => ({ provider: "msteams", conversationId }));
}

async function slackChannels(name: string, count: number): Promise<AlertTarget[]> {
  const workspace = slack.addWorkspace({ name });
  await installInSlackWorkspace(direct, workspace);
  return Array.from({ length: count }, (_, n) => ({
    provider: "slack",
    teamId: workspace.teamId,
    channel: slack.addChannel(workspace.teamId, { name: `${name}-${n}`.toLowerCase() }).id,
  }));
}

/** Every card of the issue on the platforms, per conversation. */
function cardsPerConversation(targets: AlertTarget[], issueId: string): number[] {
  return targets.map((target) =>
    target.provider === "msteams" && "conversationId" in target
      ? teams.messages(target.conversationId).filter((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`)).length
      : slack.messages((target as { channel: string }).channel).filter((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`))
          .length,
  );
}

async function queuedBatches(): Promise<DeliveryBatch[]> {
  return (await drain(azurite.connectionString, "deliveries")).map((message) => {
    const read = readDeliveryMessage(message.body);
    if (!read.ok) throw new Error(`unexpected deliveries message: ${read.path}`);
    return read.batch;
  });
}

const take = (alert: ReturnType<typeof anAlert>, options = {}) => takeAlert(storage, alert, JSON.stringify(alert), options);

describe("a repeat alert doesn't fan out", () => {
  let targets: AlertTarget[];
  const issueId = "planning-live";

  beforeAll(async () => {
    targets = [...(await teamsChannels("Live", 10)), ...(await slackChannels("Live", 10))];
    expect(await take(anAlert({ alertId: "live-a1", issue: { id: issueId, count: 1 }, targets }))).toMatchObject({ deliveries: 20 });
    const batches = await queuedBatches();
    expect(batches).toHaveLength(1);
    for (const batch of batches) await deliverBatch(deliverer, batch);
    expect(cardsPerConversation(targets, issueId)).toEqual(targets.map(() => 1));
  }, 60_000);

  it("a repeat alert to 20 live cards queues nothing, records the decision for each target in one transaction, and costs a handful of requests", async () => {
    const mark = proxy.mark();
    const result = await take(anAlert({ alertId: "live-a2", issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets }));
    const requests = proxy.requests.slice(mark);
    expect(result).toMatchObject({ kind: "accepted", duplicate: false, deliveries: 0 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    const rows = await new DeliveryRepository(direct).listForAlert("live-a2");
    expect(rows).toHaveLength(20);
    expect(rows.every((row) => row.state === "sent" && row.decision === "updated the live card" && row.messageRef)).toBe(true);
    // Issue read, write, re-read and announcement (card-refresh + mark), one live-card query, one row transaction.
    const summary = requests.map((r) => `${r.service} ${r.resource} ${r.method}`);
    expect(summary.filter((s) => s.startsWith("queue deliveries"))).toEqual([]);
    expect(summary.filter((s) => s === "table cards GET")).toHaveLength(1);
    console.log(`[alert-planning] repeat alert to 20 live cards, intake: ${requests.length} requests ${JSON.stringify(summary)}`);
    expect(requests.length).toBeLessThanOrEqual(10);
  });

  it("a regression still posts a new card everywhere, in one deliveries message", async () => {
    await actOnIssue(direct, issueId, { type: "resolve" }, { person: { email: "ana@contoso.com" }, label: "Ana", surface: "api" });
    const result = await take(anAlert({ alertId: "live-a3", issue: { id: issueId, count: 3, lastSeen: new Date().toISOString() }, targets }));
    expect(result).toMatchObject({ kind: "accepted", deliveries: 20 });
    const batches = await queuedBatches();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ alertId: "live-a3", notify: "regressed" });
    expect(batches[0]!.targets).toHaveLength(20);
    const results = await deliverBatch(deliverer, batches[0]!);
    expect(new Set(results.values())).toEqual(new Set(["sent"]));
    expect(cardsPerConversation(targets, issueId)).toEqual(targets.map(() => 2));
    const rows = await new DeliveryRepository(direct).listForAlert("live-a3");
    expect(new Set(rows.map((row) => row.decision))).toEqual(new Set(["posted a new card: the issue regressed"]));
  }, 60_000);
});

describe("a redelivered alert neither loses nor duplicates a delivery", () => {
  it("planned twice (the queue redelivered the alert before its message was deleted): one message for its targets, one card each", async () => {
    const targets = [...(await teamsChannels("Twice", 3)), ...(await slackChannels("Twice", 2))];
    const alert = anAlert({ alertId: "twice-a1", issue: { id: "planning-twice" }, targets });
    expect(await take(alert)).toMatchObject({ duplicate: false, deliveries: 5 });
    expect(await take(alert)).toMatchObject({ duplicate: true, deliveries: 0 });
    const batches = await queuedBatches();
    expect(batches.map((batch) => batch.targets.length)).toEqual([5]);
    // The queue delivers at least once: the same message twice.
    await deliverBatch(deliverer, batches[0]!);
    const again = await deliverBatch(deliverer, batches[0]!);
    expect(new Set(again.values())).toEqual(new Set(["skipped"]));
    expect(cardsPerConversation(targets, "planning-twice")).toEqual([1, 1, 1, 1, 1]);
    expect(new Set((await new DeliveryRepository(direct).listForAlert("twice-a1")).map((row) => row.state))).toEqual(new Set(["sent"]));
  }, 60_000);
});

describe("two copies of one deliveries message at once (queues deliver at least once)", () => {
  it("one card per target: the rows are taken in one conditional transaction, so only one copy posts each", async () => {
    const targets = [...(await teamsChannels("Racing", 3)), ...(await slackChannels("Racing", 3))];
    expect(await take(anAlert({ alertId: "race-a1", issue: { id: "planning-race" }, targets }))).toMatchObject({ deliveries: 6 });
    const [batch] = await queuedBatches();
    const [one, two] = await Promise.all([deliverBatch(deliverer, batch!), deliverBatch(deliverer, batch!)]);
    expect(cardsPerConversation(targets, "planning-race")).toEqual(targets.map(() => 1));
    // Each target was posted by one copy; the other found it taken (sending: it looks again later) or done.
    for (const { targetKey: key } of batch!.targets) expect([one!.get(key), two!.get(key)].filter((result) => result === "sent")).toHaveLength(1);
    expect(new Set((await new DeliveryRepository(direct).listForAlert("race-a1")).map((row) => row.state))).toEqual(new Set(["sent"]));
  }, 60_000);
});

describe("the first card of a new issue is posted by the alerts handler", () => {
  it("≤ 3 targets: posted at once, no deliveries message; the alert redelivered posts nothing more", async () => {
    const targets = [...(await teamsChannels("First", 1)), ...(await slackChannels("First", 1))];
    const alert = anAlert({ alertId: "first-a1", issue: { id: "planning-first" }, targets });
    expect(await take(alert, { deliverer })).toMatchObject({ kind: "accepted", deliveries: 0, posted: 2 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation(targets, "planning-first")).toEqual([1, 1]);
    const rows = await new DeliveryRepository(direct).listForAlert("first-a1");
    expect(rows.map((row) => [row.state, row.decision])).toEqual([
      ["sent", "posted a new card"],
      ["sent", "posted a new card"],
    ]);
    expect(await new CardRepository(direct).list("planning-first")).toHaveLength(2);

    expect(await take(alert, { deliverer })).toMatchObject({ duplicate: true, deliveries: 0 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation(targets, "planning-first")).toEqual([1, 1]);
  }, 30_000);

  it("a throttled target falls back to the deliveries queue, alone, its attempt given back", async () => {
    const [throttled, ...others] = [...(await teamsChannels("Throttled", 2)), ...(await slackChannels("Throttled", 1))];
    const conversationId = (throttled as { conversationId: string }).conversationId;
    teams.injectFault({ operation: "send", conversationId, status: 429, times: 1 });
    const targets = [throttled!, ...others];
    const result = await take(anAlert({ alertId: "first-a2", issue: { id: "planning-throttled" }, targets }), { deliverer });
    expect(result).toMatchObject({ deliveries: 1, posted: 2 });
    expect(cardsPerConversation(targets, "planning-throttled")).toEqual([0, 1, 1]);
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(1);
    const rows = new Map((await new DeliveryRepository(direct).listForAlert("first-a2")).map((row) => [row.targetKey, row]));
    expect(rows.get(targetKey(throttled!))).toMatchObject({ state: "pending", attempts: 0, enqueued: false, reason: expect.stringMatching(/429/) });
    expect([...rows.values()].filter((row) => row.state === "sent")).toHaveLength(2);
  }, 30_000);

  it("more than 3 targets: through the deliveries queue", async () => {
    const targets = await teamsChannels("Many", 4);
    expect(await take(anAlert({ alertId: "first-a3", issue: { id: "planning-many" }, targets }), { deliverer })).toMatchObject({
      deliveries: 4,
      posted: 0,
    });
    expect(cardsPerConversation(targets, "planning-many")).toEqual([0, 0, 0, 0]);
    expect((await queuedBatches()).map((batch) => batch.targets.length)).toEqual([4]);
  });
});

describe("an alert storm's repeat alerts, while the issue's trailing card refresh is pending", () => {
  const issueId = "planning-pending-refresh";
  const coalesceSeconds = 30;
  let targets: AlertTarget[];
  let coalescing: AppContext;
  const refreshes = () => messageCount(azurite.connectionString, "card-refresh");

  beforeAll(async () => {
    coalescing = app.context({ coalesceSeconds });
    targets = [...(await teamsChannels("Pending", 1)), ...(await slackChannels("Pending", 1))];
    expect(await take(anAlert({ alertId: "pending-a1", issue: { id: issueId, count: 1 }, targets }), { deliverer: coalescing })).toMatchObject({
      posted: 2,
    });
  }, 30_000);
  beforeEach(async () => {
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();
  });

  it("with a refresh run moments ago and its trailing one queued, a repeat alert queues no card refresh: the trailing one reads it", async () => {
    const gate = new RefreshGate(direct, coalesceSeconds * 1000);
    expect(await gate.enter(issueId)).toMatchObject({ kind: "run" });
    // The next change within the window is folded into a trailing refresh at the window's end, queued by the gate.
    expect(await gate.enter(issueId)).toMatchObject({ kind: "defer" });
    const mark = proxy.mark();
    const result = await take(anAlert({ alertId: "pending-a2", issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets }), {
      deliverer: coalescing,
    });
    expect(result).toMatchObject({ kind: "accepted", duplicate: false, deliveries: 0 });
    expect(await refreshes()).toBe(0);
    const summary = proxy.requests.slice(mark).map((r) => `${r.service} ${r.resource} ${r.method}`);
    expect(summary.filter((s) => s.startsWith("queue card-refresh"))).toEqual([]);
    // Still one look at the issue's cards partition: the gate's row comes with the live cards.
    expect(summary.filter((s) => s === "table cards GET")).toHaveLength(1);
    expect((await new IssueRepository(direct).get(issueId))!.outbox.filter((entry) => !entry.announced)).toEqual([]);
  });

  it("with no refresh pending (the last run long past), a repeat alert queues one", async () => {
    await new RefreshGate(direct, coalesceSeconds * 1000).forget(issueId);
    await take(anAlert({ alertId: "pending-a3", issue: { id: issueId, count: 3, lastSeen: new Date().toISOString() }, targets }), {
      deliverer: coalescing,
    });
    expect(await refreshes()).toBe(1);
  });

  it("a change with history lines (a regression) queues its refresh even then: its thread lines and events go with it", async () => {
    const gate = new RefreshGate(direct, coalesceSeconds * 1000);
    await gate.enter(issueId);
    expect(await gate.enter(issueId)).toMatchObject({ kind: "defer" });
    await actOnIssue(direct, issueId, { type: "resolve" }, { person: { email: "ana@contoso.com" }, label: "Ana", surface: "api" });
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();
    await take(anAlert({ alertId: "pending-a4", issue: { id: issueId, count: 4, lastSeen: new Date().toISOString() }, targets }), {
      deliverer: coalescing,
    });
    expect(await refreshes()).toBe(1);
  }, 30_000);
});

describe("an alert storm: the issue's next alert arrives before its first alert's deliveries message is taken", () => {
  it("the first alert claimed the cards when it planned them: the next one merges into them, with no deliveries message of its own", async () => {
    const issueId = "planning-early-repeat";
    const targets = [...(await teamsChannels("Early", 3)), ...(await slackChannels("Early", 2))];
    expect(await take(anAlert({ alertId: "early-a1", issue: { id: issueId, count: 1 }, targets }))).toMatchObject({ deliveries: 5 });
    const repeat = await take(anAlert({ alertId: "early-a2", issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets }));
    expect(repeat).toMatchObject({ kind: "accepted", deliveries: 0 });
    const rows = await new DeliveryRepository(direct).listForAlert("early-a2");
    expect(new Set(rows.map((row) => `${row.state}: ${row.decision}`))).toEqual(new Set(["sent: merged into the card posted for alert early-a1"]));
    const batches = await queuedBatches();
    expect(batches.map((batch) => [batch.alertId, batch.targets.length])).toEqual([["early-a1", 5]]);
    expect(new Set((await deliverBatch(deliverer, batches[0]!)).values())).toEqual(new Set(["sent"]));
    expect(cardsPerConversation(targets, issueId)).toEqual(targets.map(() => 1));
    expect(new Set((await new DeliveryRepository(direct).listForAlert("early-a1")).map((row) => row.decision))).toEqual(
      new Set(["posted a new card"]),
    );
  }, 30_000);
});

describe("a repeat alert's card refresh, while no card of the issue is posted yet", () => {
  const refreshes = () => messageCount(azurite.connectionString, "card-refresh");
  beforeEach(async () => {
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();
  });

  it("is not queued: the first cards, posted after it, show its count (an alert storm's early alerts cost no refresh each)", async () => {
    const issueId = "planning-nothing-posted";
    const targets = [...(await teamsChannels("Unposted", 2)), ...(await slackChannels("Unposted", 1))];
    expect(await take(anAlert({ alertId: "unposted-a1", issue: { id: issueId, count: 1 }, targets }))).toMatchObject({ deliveries: 3 });
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();
    const repeat = await take(anAlert({ alertId: "unposted-a2", issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets }));
    expect(repeat).toMatchObject({ kind: "accepted", deliveries: 0 });
    expect(await refreshes()).toBe(0);
    const [batch] = await queuedBatches();
    expect(new Set((await deliverBatch(deliverer, batch!)).values())).toEqual(new Set(["sent"]));
    const version = (await new IssueRepository(direct).get(issueId))!.issue.version;
    expect((await new CardRepository(direct).list(issueId)).map((copy) => copy.renderedVersion)).toEqual(targets.map(() => version));
    expect(await refreshes()).toBe(0);
  }, 30_000);

  it("is queued while a regression's new cards are being posted: the cards posted before show the change", async () => {
    const issueId = "planning-reposting";
    const targets = await teamsChannels("Reposting", 2);
    await take(anAlert({ alertId: "reposting-a1", issue: { id: issueId, count: 1 }, targets }));
    for (const batch of await queuedBatches()) await deliverBatch(deliverer, batch);
    await actOnIssue(direct, issueId, { type: "resolve" }, { person: { email: "ana@contoso.com" }, label: "Ana", surface: "api" });
    // The regression claims both targets for its new cards; its deliveries message is not taken yet.
    expect(
      await take(anAlert({ alertId: "reposting-a2", issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets })),
    ).toMatchObject({
      deliveries: 2,
    });
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();
    await take(anAlert({ alertId: "reposting-a3", issue: { id: issueId, count: 3, lastSeen: new Date().toISOString() }, targets }));
    expect(await refreshes()).toBe(1);
    await queuedBatches();
  }, 30_000);
});

describe("an ignored issue, or one resolved in a release that its alerts don't reach, posts no new card (Sentry mutes archived issues)", () => {
  const ana = { person: { email: "ana@contoso.com" }, label: "Ana", surface: "api" as const };
  const HOUR = 3_600_000;
  const refreshesOf = async (issueId: string) =>
    (await drain(azurite.connectionString, "card-refresh")).map((message) => message.body as CardRefreshMessage).filter((m) => m.issueId === issueId);

  beforeEach(async () => {
    const refreshQueue = queueClient(azurite.connectionString, "card-refresh");
    await refreshQueue.createIfNotExists();
    await refreshQueue.clearMessages();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A new issue with its first card posted in each target. */
  async function postedIssue(issueId: string, targets: AlertTarget[], level: "warning" | "error" = "error"): Promise<void> {
    const first = anAlert({ alertId: `${issueId}-a1`, issue: { id: issueId, count: 1, level, lastSeen: new Date().toISOString() }, targets });
    expect(await take(first, { deliverer })).toMatchObject({ posted: targets.length });
    expect(cardsPerConversation(targets, issueId)).toEqual(targets.map(() => 1));
  }

  it("ignored forever, a repeat alert 25 h later (past RENOTIFY_HOURS) updates the live card instead of posting a new one", async () => {
    const issueId = "planning-ignored-renotify";
    const targets = [...(await teamsChannels("IgnoredOld", 1)), ...(await slackChannels("IgnoredOld", 1))];
    await postedIssue(issueId, targets);
    await actOnIssue(direct, issueId, { type: "ignore", ignore: { mode: "forever" } }, ana);
    await queueClient(azurite.connectionString, "card-refresh").clearMessages();

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 25 * HOUR);
    const repeat = anAlert({ alertId: `${issueId}-a2`, issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() }, targets });
    expect(await take(repeat, { deliverer })).toMatchObject({ kind: "accepted", deliveries: 0, posted: 0 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation(targets, issueId)).toEqual([1, 1]);
    const rows = await new DeliveryRepository(direct).listForAlert(`${issueId}-a2`);
    expect(rows.map((row) => `${row.state}: ${row.decision}`)).toEqual(["sent: updated the live card", "sent: updated the live card"]);

    // The card refresh the alert queued brings the ignored card up to date (its count).
    const [refresh] = await refreshesOf(issueId);
    expect(refresh).toBeDefined();
    expect((await refreshCards(deliverer, refresh!)).updated).toBe(2);
    const stored = (await new IssueRepository(direct).get(issueId))!.issue;
    expect(stored).toMatchObject({ status: "ignored", count: 2 });
    expect((await new CardRepository(direct).list(issueId)).map((copy) => copy.renderedVersion)).toEqual([stored.version, stored.version]);
    expect(cardsPerConversation(targets, issueId)).toEqual([1, 1]);
  }, 30_000);

  it("ignored forever, an alert whose level rose posts no new card", async () => {
    const issueId = "planning-ignored-level";
    const targets = [...(await teamsChannels("IgnoredLevel", 1)), ...(await slackChannels("IgnoredLevel", 1))];
    await postedIssue(issueId, targets, "warning");
    await actOnIssue(direct, issueId, { type: "ignore", ignore: { mode: "forever" } }, ana);
    const worse = anAlert({
      alertId: `${issueId}-a2`,
      issue: { id: issueId, count: 2, level: "fatal", lastSeen: new Date().toISOString() },
      targets,
    });
    expect(await take(worse, { deliverer })).toMatchObject({ kind: "accepted", deliveries: 0, posted: 0 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation(targets, issueId)).toEqual([1, 1]);
    expect((await new IssueRepository(direct).get(issueId))!.issue).toMatchObject({ status: "ignored", level: "fatal" });
  }, 30_000);

  it("ignored, a conversation subscribed since gets no first card, and the delivery row says why", async () => {
    const issueId = "planning-ignored-new-target";
    const targets = await teamsChannels("IgnoredFirst", 1);
    await postedIssue(issueId, targets);
    await actOnIssue(direct, issueId, { type: "ignore", ignore: { mode: "forever" } }, ana);
    const added = await slackChannels("IgnoredFirst", 1);
    const next = anAlert({
      alertId: `${issueId}-a2`,
      issue: { id: issueId, count: 2, lastSeen: new Date().toISOString() },
      targets: [...targets, ...added],
    });
    expect(await take(next, { deliverer })).toMatchObject({ deliveries: 0, posted: 0 });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation([...targets, ...added], issueId)).toEqual([1, 0]);
    const row = (await new DeliveryRepository(direct).listForAlert(`${issueId}-a2`)).find((r) => r.targetKey === targetKey(added[0]!));
    expect(row).toMatchObject({ state: "sent", decision: "no new card: the issue is ignored" });
  }, 30_000);

  it("ignored after a new card was planned (the level rose), before the deliverer took it: the deliverer posts nothing, the live card is updated", async () => {
    const issueId = "planning-ignored-in-flight";
    const targets = [...(await teamsChannels("IgnoredInFlight", 1)), ...(await slackChannels("IgnoredInFlight", 1))];
    await postedIssue(issueId, targets, "warning");
    const worse = anAlert({
      alertId: `${issueId}-a2`,
      issue: { id: issueId, count: 2, level: "fatal", lastSeen: new Date().toISOString() },
      targets,
    });
    expect(await take(worse, { deliverer })).toMatchObject({ deliveries: 2 });
    await actOnIssue(direct, issueId, { type: "ignore", ignore: { mode: "forever" } }, ana);
    const batches = await queuedBatches();
    expect(batches.map((batch) => batch.notify)).toEqual(["level-rose"]);
    expect(new Set((await deliverBatch(deliverer, batches[0]!)).values())).toEqual(new Set(["sent"]));
    expect(cardsPerConversation(targets, issueId)).toEqual([1, 1]);
    const rows = await new DeliveryRepository(direct).listForAlert(`${issueId}-a2`);
    expect(rows.map((row) => `${row.state}: ${row.decision}`)).toEqual(["sent: updated the live card", "sent: updated the live card"]);
  }, 30_000);

  it("resolved in the next release: a late alert from that release posts nothing, even past RENOTIFY_HOURS; one from a later release regresses it and posts", async () => {
    const issueId = "planning-resolved-next";
    const targets = [...(await teamsChannels("ResolvedNext", 1)), ...(await slackChannels("ResolvedNext", 1))];
    await postedIssue(issueId, targets);
    expect(await actOnIssue(direct, issueId, { type: "resolve", inRelease: "next" }, ana)).toMatchObject({ kind: "changed" });

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 25 * HOUR);
    const late = anAlert({ alertId: `${issueId}-a2`, issue: { id: issueId, count: 2, level: "fatal", lastSeen: new Date().toISOString() }, targets });
    expect(await take(late, { deliverer })).toMatchObject({ deliveries: 0, posted: 0 });
    expect((await new IssueRepository(direct).get(issueId))!.issue).toMatchObject({ status: "resolved" });
    expect(await messageCount(azurite.connectionString, "deliveries")).toBe(0);
    expect(cardsPerConversation(targets, issueId)).toEqual([1, 1]);

    const later = anAlert({
      alertId: `${issueId}-a3`,
      issue: { id: issueId, count: 3, lastSeen: new Date(Date.now() + 60_000).toISOString(), tags: { release: "1.2.4" } },
      targets,
    });
    expect(await take(later, { deliverer })).toMatchObject({ deliveries: 2 });
    const batches = await queuedBatches();
    expect(batches.map((batch) => batch.notify)).toEqual(["regressed"]);
    expect(new Set((await deliverBatch(deliverer, batches[0]!)).values())).toEqual(new Set(["sent"]));
    expect(cardsPerConversation(targets, issueId)).toEqual([2, 2]);
  }, 30_000);
});
