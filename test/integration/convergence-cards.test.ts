// Every copy of a card ends on the issue's final state, whatever order concurrent updates land in (issue 10,
// items 4 and 15). The app's own workflows run in this process against Azurite and the Teams and Slack
// emulators; the emulators are slowed at random so that older updates overtake newer ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../dev/emulators/slack";
import type { TeamsEmulator } from "../../dev/emulators/teams";
import { renderSlackMessage } from "../../shared/cards/slack-message";
import { teamsCardAttachment } from "../../shared/cards/teams-card";
import { buildIssueView } from "../../shared/cards/view";
import { RefreshGate } from "../../shared/storage/refresh-gate";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { sendTeamsCard } from "../../shared/delivery/teams-sender";
import { type IssueAction, applyAction } from "../../shared/domain/actions";
import type { Actor } from "../../shared/domain/issue";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository, type CardCopy } from "../../shared/storage/cards";
import { QUEUES, StorageClients } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import type { CardRefreshMessage } from "../../shared/storage/card-refresh-queue";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { anIssue } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { queueClient } from "../support/queues";
import type { AppContext } from "../../shared/context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";

let app: EmulatedApp;
let azurite: Azurite;
let teams: TeamsEmulator;
let slack: SlackEmulator;
let storage: StorageClients;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "convergence",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0a1", tenantId: "72f988bf-0000-4000-8000-000000000002" },
  });
  ({ azurite, teams, slack, storage } = app);
});
afterAll(async () => {
  await app?.stop();
});

const refresher = (coalesceSeconds: number): AppContext => app.context({ coalesceSeconds });

const actor: Actor = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "api" };
const ACTIONS: IssueAction[] = [
  { type: "resolve" },
  { type: "unresolve" },
  { type: "ignore", ignore: { mode: "forever" } },
  { type: "unignore" },
  { type: "assign", assignee: { email: "cleo@contoso.com", name: "Cleo" } },
  { type: "assign", assignee: "me" },
  { type: "unassign" },
];

interface World {
  issueId: string;
  teamsConversation: string;
  slackChannel: string;
}

/** An issue with a card in a Teams channel and in a Slack channel, posted by the app's own senders. */
async function issueWithTwoCopies(run: AppContext, name: string): Promise<World> {
  const issueId = `conv-${name}`;
  const issue = (await new IssueRepository(storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!.issue;
  const team = teams.addTeam({ name: `Team ${name}`, members: [] });
  // A tenant per run, as for a bot installed in many organisations: Teams' per-tenant budget is per tenant.
  await installInTeamsChannels(storage, { tenantId: `tenant-${name}`, serviceUrl: teams.serviceUrl }, [team.generalChannelId]);
  // One workspace per run: Slack's chat.update budget (50 a minute) is per workspace.
  const workspace = slack.addWorkspace({ name: `Workspace ${name}` });
  await installInSlackWorkspace(storage, workspace);
  const channel = slack.addChannel(workspace.teamId, { name: `alerts-${name}` }).id;
  const identities = new IdentityRepository(storage);
  const cards = new CardRepository(storage);
  const teamsPosted = await sendTeamsCard(
    { ...run, identities },
    issue,
    { provider: "msteams", conversationId: team.generalChannelId },
    `msteams:conv:${team.generalChannelId}`,
    1,
  );
  const slackPosted = await sendSlackCard(
    { ...run, slack: run.slack!, identities },
    issue,
    { provider: "slack", teamId: workspace.teamId, channel },
    `slack:${workspace.teamId}:${channel}`,
    1,
    { deliveryId: `d-${name}` },
  );
  if (teamsPosted.kind !== "sent" || slackPosted.kind !== "sent") throw new Error(`posting failed: ${JSON.stringify([teamsPosted, slackPosted])}`);
  await cards.save(teamsPosted.copy);
  await cards.save(slackPosted.copy);
  return { issueId, teamsConversation: team.generalChannelId, slackChannel: channel };
}

/** What each copy shows on the platform, next to what the stored issue says it should show. */
async function copiesVersusIssue(world: World): Promise<{ shown: unknown[]; expected: unknown[] }> {
  const issue = (await new IssueRepository(storage).get(world.issueId))!.issue;
  const identities = new IdentityRepository(storage);
  const copies = await new CardRepository(storage).list(world.issueId);
  const teamsCopy = copies.find((c): c is Extract<CardCopy, { provider: "msteams" }> => c.provider === "msteams")!;
  const slackCopy = copies.find((c): c is Extract<CardCopy, { provider: "slack" }> => c.provider === "slack")!;
  const teamsShown = teams.messages(world.teamsConversation).find((m) => m.activityId === teamsCopy.activityId)!.activity;
  const slackShown = slack.messages(world.slackChannel).find((m) => m.ts === slackCopy.ts)!;
  const teamsExpected = teamsCardAttachment(buildIssueView(issue, { assignChoices: await identities.people("msteams", teamsCopy.tenantId) }));
  const slackExpected = renderSlackMessage(buildIssueView(issue, { assignChoices: await identities.people("slack", slackCopy.teamId) }));
  return {
    shown: [(teamsShown.attachments as { content: unknown }[])[0]!.content, withoutBlockIds(slackShown.blocks)],
    expected: [teamsExpected.content, withoutBlockIds(slackExpected.blocks)],
  };
}

/** Slack gives every block a block_id when the app doesn't: compare the rest. */
function withoutBlockIds(blocks: unknown): unknown {
  return JSON.parse(JSON.stringify(blocks, (key, value: unknown) => (key === "block_id" ? undefined : value)));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small deterministic generator, so a failing run can be replayed from its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe("every copy converges on the latest issue version", () => {
  it("200 randomized schedules: concurrent changes, overlapping refreshes, updates slowed at random", async () => {
    const run = refresher(0);
    const RUNS = 200;
    const stale: string[] = [];
    // Runs go 25 at a time; each is independent (its own issue, conversation, tenant, channel and workspace).
    for (let batch = 0; batch < RUNS; batch += 25) {
      const worlds = await Promise.all(
        Array.from({ length: Math.min(25, RUNS - batch) }, async (_, n) => {
          const seed = batch + n + 1;
          const random = generator(seed * 7919);
          const world = await issueWithTwoCopies(run, `r${seed}`);
          // Every update of these copies is slowed by 0–60 ms, so later updates often land first.
          for (let i = 0; i < 12; i++) {
            teams.injectFault({ operation: "update", conversationId: world.teamsConversation, status: 200, delayMs: Math.floor(random() * 60) });
            slack.injectError({ method: "chat.update", channel: world.slackChannel, delayMs: Math.floor(random() * 60) });
          }
          const refreshes: Promise<unknown>[] = [];
          const changes = 2 + Math.floor(random() * 2);
          for (let c = 0; c < changes; c++) {
            const action = ACTIONS[Math.floor(random() * ACTIONS.length)]!;
            // The change as any surface makes it; its refresh is handed straight to a consumer below.
            const changed = await new IssueRepository(storage).change(world.issueId, (current) => {
              const outcome = applyAction(current!.issue, action, actor, new Date());
              return outcome.kind === "changed" ? { issue: outcome.issue, activities: outcome.activities } : undefined;
            });
            if (!changed) continue;
            const message: CardRefreshMessage = { issueId: world.issueId, version: changed.issue.version, requestedAt: new Date().toISOString() };
            // The queue may hand this refresh, and a redelivered copy of it, to consumers running side by side.
            refreshes.push(refreshCards(run, message));
            if (random() < 0.25) refreshes.push(refreshCards(run, message));
            await pause(Math.floor(random() * 40));
          }
          await Promise.all(refreshes);
          return { seed, world };
        }),
      );
      // Whatever the refreshes queued themselves (a copy found behind, a paced retry) is consumed too.
      await drainCardRefreshes(run);
      // Unused slow-downs would only lengthen the emulators' look-ups for the next batch.
      teams.clearFaults();
      slack.clearFaults();
      for (const { seed, world } of worlds) {
        const { shown, expected } = await copiesVersusIssue(world);
        if (JSON.stringify(shown) !== JSON.stringify(expected)) stale.push(`seed ${seed}`);
      }
    }
    expect(stale).toEqual([]);
    // About 40 s on an idle machine; one run at load average 10 took over 120 s. A budget, not a speed check.
  }, 300_000);
});

describe("the coalescing gate never loses a scheduled trailing refresh", () => {
  it("a trailing refresh runs although the run before it found nothing to do and forgot the gate", async () => {
    const run = refresher(1);
    const world = await issueWithTwoCopies(run, "forgotten");
    const gate = new RefreshGate(storage, 1000);
    // A refresh starts (the gate records it), finds every copy current...
    expect((await gate.enter(world.issueId)).kind).toBe("run");
    // ...a change lands meanwhile; its refresh is folded into a trailing one...
    await actOnIssue(storage, world.issueId, { type: "resolve" }, actor);
    const version = (await new IssueRepository(storage).get(world.issueId))!.issue.version;
    const first = await refreshCards(run, { issueId: world.issueId, version, requestedAt: new Date().toISOString() });
    expect(first.coalesced).toBe(true);
    // ...and the first refresh, having had nothing to update, forgets the gate.
    await gate.forget(world.issueId);
    const trailing = await trailingMessage(world.issueId);
    await refreshCards(run, trailing);
    const { shown, expected } = await copiesVersusIssue(world);
    expect(shown).toEqual(expected);
  });

  it("a trailing refresh redelivered after its instance died mid-run still updates the copies", async () => {
    const run = refresher(1);
    const world = await issueWithTwoCopies(run, "crashed");
    await actOnIssue(storage, world.issueId, { type: "assign", assignee: "me" }, actor);
    expect((await refreshCards(run, { issueId: world.issueId, version: 2, requestedAt: new Date().toISOString() })).updated).toBe(2);
    await actOnIssue(storage, world.issueId, { type: "ignore", ignore: { mode: "forever" } }, actor);
    const version = (await new IssueRepository(storage).get(world.issueId))!.issue.version;
    expect((await refreshCards(run, { issueId: world.issueId, version, requestedAt: new Date().toISOString() })).coalesced).toBe(true);
    const trailing = await trailingMessage(world.issueId);
    // The instance that took the trailing refresh passed the gate two minutes ago, then died before updating
    // any copy; the queue hands the same message out again once its lease has run out.
    expect((await new RefreshGate(storage, 1000).enter(world.issueId, { trailingFor: trailing.trailingFor, now: Date.now() - 120_000 })).kind).toBe(
      "run",
    );
    await refreshCards(run, trailing);
    const { shown, expected } = await copiesVersusIssue(world);
    expect(shown).toEqual(expected);
  });
});

/** Consumes the card-refresh queue, as the Functions host would, until nothing is left on it (delayed messages included). */
async function drainCardRefreshes(run: AppContext): Promise<void> {
  const queue = queueClient(azurite.connectionString, QUEUES.cardRefresh);
  await queue.createIfNotExists();
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    if (receivedMessageItems.length === 0) {
      if (((await queue.getProperties()).approximateMessagesCount ?? 0) === 0) return;
      await pause(200);
      continue;
    }
    await Promise.all(
      receivedMessageItems.map(async (item) => {
        await refreshCards(run, JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")) as CardRefreshMessage);
        await queue.deleteMessage(item.messageId, item.popReceipt);
      }),
    );
  }
}

/** The trailing refresh the gate queued for this issue, taken off the card-refresh queue once it is visible. */
async function trailingMessage(issueId: string): Promise<CardRefreshMessage & { trailingFor: string }> {
  const queue = queueClient(azurite.connectionString, QUEUES.cardRefresh);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
    for (const item of receivedMessageItems) {
      const body = JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")) as CardRefreshMessage;
      await queue.deleteMessage(item.messageId, item.popReceipt);
      if (body.issueId === issueId && body.trailingFor) return body as CardRefreshMessage & { trailingFor: string };
    }
    await pause(200);
  }
  throw new Error("no trailing refresh was queued");
}
