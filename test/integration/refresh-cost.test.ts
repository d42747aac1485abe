// The storage a card refresh costs (issue 11, item 3), and the instance heartbeat the pacing splits its budgets by
// (item 3), counted through a proxy in front of Azurite. The app's workflows run in this process against the
// Teams and Slack emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../dev/emulators/slack";
import type { TeamsEmulator } from "../../dev/emulators/teams";
import { HEARTBEAT_MS, InstanceCount, LIVE_MS } from "../../shared/storage/instances";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { sendTeamsCard } from "../../shared/delivery/teams-sender";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository } from "../../shared/storage/cards";
import { QUEUES, StorageClients, TABLES } from "../../shared/storage/clients";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { IssueRepository } from "../../shared/storage/issues";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { anIssue } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { startEmulatedApp, type CountedEmulatedApp } from "../support/emulated-app";
import { queueClient } from "../support/queues";
import type { StorageProxy } from "../support/storage-proxy";
import type { AppContext } from "../../shared/context";
import { installInSlackWorkspace } from "../support/installations";
import { waitFor } from "../support/wait";

let azurite: Azurite;
let proxy: StorageProxy;
let teams: TeamsEmulator;
let slack: SlackEmulator;
let storage: StorageClients;
let run: AppContext;

let app: CountedEmulatedApp;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "refresh-cost",
    enforceRateLimits: true,
    countRequests: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0a2", tenantId: "72f988bf-0000-4000-8000-000000000003" },
  });
  ({ azurite, proxy, teams, slack, storage } = app);
  run = app.context({ coalesceSeconds: 5 });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** An issue with `perPlatform` copies in Teams channels of one team and as many in Slack channels of one workspace. */
async function issueWithCopies(issueId: string, perPlatform: number): Promise<{ conversations: string[]; channels: string[] }> {
  const issue = (await new IssueRepository(storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!.issue;
  const team = teams.addTeam({ name: "Cost", members: [] });
  const conversations = [team.generalChannelId, ...Array.from({ length: perPlatform - 1 }, (_, n) => teams.addChannel(team, `cost-${n}`).id)];
  const workspace = slack.addWorkspace({ name: "Cost" });
  await installInSlackWorkspace(storage, workspace);
  const identities = new IdentityRepository(storage);
  const cards = new CardRepository(storage);
  for (const conversationId of conversations) {
    await new TeamsInstallations(storage).save({
      tenantId: "tenant-cost",
      conversationId,
      serviceUrl: teams.serviceUrl,
      conversationType: "channel",
      active: true,
      updatedAt: new Date().toISOString(),
    });
    const posted = await sendTeamsCard({ ...run, identities }, issue, { provider: "msteams", conversationId }, `msteams:conv:${conversationId}`, 1);
    if (posted.kind !== "sent") throw new Error(`Teams post failed: ${JSON.stringify(posted)}`);
    await cards.save(posted.copy);
  }
  const channels: string[] = [];
  for (let n = 0; n < perPlatform; n++) {
    const channel = slack.addChannel(workspace.teamId, { name: `cost-${n}` }).id;
    channels.push(channel);
    const target = { provider: "slack" as const, teamId: workspace.teamId, channel };
    const posted = await sendSlackCard({ ...run, slack: run.slack!, identities }, issue, target, `slack:${workspace.teamId}:${channel}`, 1, {
      deliveryId: `cost-${n}`,
    });
    if (posted.kind !== "sent") throw new Error(`Slack post failed: ${JSON.stringify(posted)}`);
    await cards.save(posted.copy);
  }
  return { conversations, channels };
}

async function bump(issueId: string): Promise<number> {
  const changed = await new IssueRepository(storage).change(issueId, (current) => ({
    issue: { ...current!.issue, count: current!.issue.count + 1, version: current!.issue.version + 1 },
    activities: [],
  }));
  return changed!.issue.version;
}

describe("one card refresh", () => {
  it("of 20 copies costs a handful of storage requests, not 3 per copy", async () => {
    await issueWithCopies("cost-1", 10);
    // A first refresh creates the tables this process uses and writes its heartbeat: not part of the cost.
    expect((await refreshCards(run, { issueId: "cost-1", version: await bump("cost-1"), requestedAt: new Date().toISOString() })).updated).toBe(20);
    // Past the coalescing window (the next change runs at once) and the Slack settling time (its copies aren't held).
    await new Promise((resolve) => setTimeout(resolve, 10_500));
    const version = await bump("cost-1");
    const mark = proxy.mark();
    const result = await refreshCards(run, { issueId: "cost-1", version, requestedAt: new Date().toISOString() });
    // The instance heartbeat (2 requests every 15 s, whatever the traffic) may fall within the run: not its cost.
    const requests = proxy.requests
      .slice(mark)
      .map((r) => `${r.method} ${r.resource}`)
      .filter((r) => !r.includes(TABLES.instances));
    expect(result.updated).toBe(20);
    // Gate (read, write), issue, copies, begin (one transaction), the workspace's installation, the Assign menu's
    // people on each platform (cached 10 s, read here), issue again, end (one transaction), gate done (read,
    // write): 12. Nobody acted on the issue, so the thread lines don't read its history.
    // Before: 3 per copy and the installation per Slack copy on top (about 80 for 20 copies).
    expect(requests.length, requests.join("\n")).toBeLessThanOrEqual(12);
    expect(requests.filter((r) => r.includes("$batch"))).toHaveLength(2);
    const copies = await new CardRepository(storage).list("cost-1");
    expect(copies.map((copy) => [copy.renderedVersion, copy.writers, copy.behindSince])).toEqual(copies.map(() => [version, undefined, undefined]));
  }, 60_000);
});

describe("pending refreshes", () => {
  it("throttled copies and a burst of changes leave one refresh pending for the issue, not one per run", async () => {
    const { conversations, channels } = await issueWithCopies("pending-1", 1);
    // Every update of the issue's two copies is answered 429, Retry-After 30 s, for now.
    teams.injectFault({ operation: "update", conversationId: conversations[0], status: 429, retryAfterSec: 30, times: Infinity });
    slack.injectError({ method: "chat.update", channel: channels[0], error: "ratelimited", retryAfterSec: 30, times: Infinity });
    const queue = queueClient(azurite.connectionString, QUEUES.cardRefresh);
    await queue.createIfNotExists();
    await queue.clearMessages();
    // A burst of changes, each announced with its refresh as a state change does.
    for (let change = 0; change < 4; change++) {
      await refreshCards(run, { issueId: "pending-1", version: await bump("pending-1"), requestedAt: new Date().toISOString() });
    }
    // The host consumes what becomes visible meanwhile (the burst's trailing refresh, throttled in its turn): for 9 s,
    // and on a busy machine until that trailing refresh has been taken at least.
    const started = Date.now();
    let consumed = 0;
    while (Date.now() - started < 9000 || (consumed === 0 && Date.now() - started < 30_000)) {
      const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
      for (const item of receivedMessageItems) {
        await refreshCards(run, JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")) as CardRefreshMessage);
        await queue.deleteMessage(item.messageId, item.popReceipt);
        consumed++;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    teams.clearFaults();
    slack.clearFaults();
    // One refresh waits, for the copies' Retry-After; it renders whatever the issue is by then.
    expect((await queue.getProperties()).approximateMessagesCount).toBe(1);
    expect((await new CardRepository(storage).list("pending-1")).filter((copy) => copy.dead)).toEqual([]);
  }, 90_000);
});

describe("the instance count behind the pacing budgets", () => {
  it("counts the instances that beat within LIVE_MS, beats once per HEARTBEAT_MS, and forgets an instance that stopped", async () => {
    // Hours ahead: the heartbeat this process wrote in the tests above is long dead by this clock.
    let now = Date.now() + 10 * 3_600_000;
    const clock = () => now;
    const a = new InstanceCount(storage, clock);
    const b = new InstanceCount(storage, clock);
    expect(await a.current()).toBe(1);
    expect(await b.current()).toBe(2);
    // Between beats, no storage request at all, however many posts ask.
    const mark = proxy.mark();
    for (let i = 0; i < 50; i++) expect(await a.current()).toBe(1);
    expect(proxy.countSince(mark)).toBe(0);
    now += HEARTBEAT_MS;
    await a.current(); // beats in the background...
    await waitFor(() => a.known === 2, { description: "a's background beat counting b" }); // ...and now counts b
    expect(proxy.countSince(mark)).toBe(2); // one upsert, one list
    // b stops beating: once its last beat is LIVE_MS old, a counts itself alone again (past a busy spell's first
    // seconds, which count b too: below).
    now += LIVE_MS;
    await a.current();
    now += 2000;
    await waitFor(() => a.known === 1, { description: "a's background beat no longer counting b" });
  }, 30_000);

  it("an instance starting a busy spell counts again within seconds: one that started sending since its last beat is counted", async () => {
    let now = Date.now() + 30 * 3_600_000;
    const clock = () => now;
    const a = new InstanceCount(storage, clock);
    expect(await a.current()).toBe(1);
    // A storm reaches both at once: b starts sending a second later, and a's pacing starts deferring.
    now += 1000;
    const b = new InstanceCount(storage, clock);
    expect(await b.current()).toBe(2);
    now += 1000;
    a.deferred();
    await waitFor(() => a.known === 2, { description: "a counting b at the start of its busy spell" });
    // Within the spell's first beat period it counts at most every second; after it, only at its beats.
    const mark = proxy.mark();
    now += 500;
    a.deferred();
    now += HEARTBEAT_MS;
    await a.current();
    await waitFor(() => proxy.countSince(mark) === 2, { description: "a's regular beat" });
    now += 3000;
    a.deferred();
    expect(proxy.countSince(mark)).toBe(2);
  }, 30_000);

  it("a 429 makes an instance count again at once: one that started sending since is counted without waiting for the next beat", async () => {
    let now = Date.now() + 40 * 3_600_000;
    const clock = () => now;
    const a = new InstanceCount(storage, clock);
    expect(await a.current()).toBe(1);
    const b = new InstanceCount(storage, clock);
    now += 1000;
    expect(await b.current()).toBe(2);
    // a's next beat is HEARTBEAT_MS away: until then it paces at one instance's budget, unless told otherwise.
    expect(await a.current()).toBe(1);
    a.recount();
    await waitFor(() => a.known === 2, { description: "a counting b after a 429" });
  }, 30_000);

  it("a busy spell's first seconds count the instances seen lately: a storm reaching two quiet instances finds each at half its budget from the first post", async () => {
    let now = Date.now() + 50 * 3_600_000;
    const clock = () => now;
    const a = new InstanceCount(storage, clock);
    const b = new InstanceCount(storage, clock);
    expect(await a.current()).toBe(1);
    expect(await b.current()).toBe(2);
    // Minutes of quiet: both heartbeats are older than LIVE_MS when the storm reaches them.
    now += 5 * 60_000;
    expect(await a.current()).toBe(2);
    expect(await b.current()).toBe(2);
    // A second in, a's pacing defers (its budget spent): it counts again and sees who is sending: both.
    now += 1000;
    a.deferred();
    now += 1000;
    await waitFor(() => a.known === 2, { description: "a's recount" });
    // Another quiet spell; this time only a is reached: past the spell's first seconds it paces alone.
    now += 5 * 60_000;
    expect(await a.current()).toBe(2);
    now += 1000;
    a.deferred();
    now += 1000;
    await waitFor(() => a.known === 1, { description: "a's recount, b silent" });
  }, 30_000);
});
