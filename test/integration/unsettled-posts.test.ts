// A Slack card posted while its issue is still changing (an alert storm) will need a chat.update once the issue
// settles, and chat.update is Tier 3: 50 a minute for the whole workspace. Posted faster than that, such cards stay
// stale for minutes (issue 11: 300 stale copies took over 7 minutes to fix). So the workspace lets them through no
// faster than its update budget, and holds the rest (a throttled retry, its attempt given back) until the issue
// settles. Cards of settled issues are never held; a new issue's first cards have the whole budget of their own.
//
// Several instances pace Slack posts per channel at a share each (docs/pacing.md). A card post the pacing defers is
// promised the slot it is told to come back for, held on the deferring instance's budget and carried in the retry:
// whichever instance takes the retry posts in that slot. Without it, a retry that came back to the other instance
// went to the back of that instance's schedule and its slot went unused (2 hosts posted at 4.8/s, 1 host 8.3/s).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_TIER3_LIMITS, PACING_SHARE, UNSETTLED_POST_SHARE } from "../../shared/delivery/pacing";
import { sendSlackCard, type SlackSendOutcome } from "../../shared/delivery/slack-sender";
import { CardRepository } from "../../shared/storage/cards";
import { IssueRepository } from "../../shared/storage/issues";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { IdentityRepository } from "../../shared/storage/identities";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";

let app: EmulatedApp;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "unsettled-posts",
    enforceRateLimits: true,
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0a7", tenantId: "72f988bf-0000-4000-8000-000000000007" },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

describe("Slack cards of a still-changing issue", () => {
  it("go out at a third of the workspace's chat.update budget (the updates they will need); the rest wait for the issue to settle", async () => {
    const workspace = app.slack.addWorkspace({ name: "Storm" });
    await installInSlackWorkspace(app.storage, workspace);
    const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
    const budget = Math.floor(SLACK_TIER3_LIMITS[0]!.limit * PACING_SHARE * UNSETTLED_POST_SHARE);
    const post = async (n: number, settlesInMs: number): Promise<SlackSendOutcome> => {
      const channel = app.slack.addChannel(workspace.teamId, { name: `storm-${n}` }).id;
      const target = { provider: "slack" as const, teamId: workspace.teamId, channel };
      const issue = anIssue({ id: `STORM-${n}`, version: 3 });
      return sendSlackCard(sender, issue, target, `slack:${workspace.teamId}:${channel}`, 1, { deliveryId: `storm-${n}`, settlesInMs });
    };

    const outcomes: SlackSendOutcome[] = [];
    for (let n = 0; n < budget + 3; n++) outcomes.push(await post(n, 8000));
    expect(outcomes.slice(0, budget).every((outcome) => outcome.kind === "sent")).toBe(true);
    for (const held of outcomes.slice(budget)) {
      expect(held).toMatchObject({ kind: "retry", throttled: true, delaySeconds: 8 });
      expect((held as { reason: string }).reason).toMatch(/^held: the issue is still changing/);
    }
    expect(app.slack.calls.filter((call) => call.method === "chat.postMessage")).toHaveLength(budget);

    // A settled issue's card still goes at once.
    expect((await post(budget + 3, 0)).kind).toBe("sent");
  });

  it("a new issue's first cards have the workspace's whole chat.update budget of their own: a quiet workspace sees 40 new issues in a minute at once", async () => {
    const workspace = app.slack.addWorkspace({ name: "Incident" });
    await installInSlackWorkspace(app.storage, workspace);
    const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
    const budget = Math.floor(SLACK_TIER3_LIMITS[0]!.limit * PACING_SHARE);
    const outcomes: SlackSendOutcome[] = [];
    // Each new issue created moments ago (still within SETTLE_MS of its creation).
    for (let n = 0; n < budget + 1; n++) {
      const issue = anIssue({ id: `NEW-${n}`, version: 1 });
      const channelOfIssue = app.slack.addChannel(workspace.teamId, { name: `new-${n}` }).id;
      const to = { provider: "slack" as const, teamId: workspace.teamId, channel: channelOfIssue };
      outcomes.push(
        await sendSlackCard(sender, issue, to, `slack:${workspace.teamId}:${channelOfIssue}`, 1, { deliveryId: `new-${n}`, settlesInMs: 9000 }),
      );
    }
    expect(outcomes.slice(0, budget).map((outcome) => outcome.kind)).toEqual(Array(budget).fill("sent"));
    // Beyond it (an incident's flood of new issues), the rest wait for their issue to settle too.
    expect(outcomes[budget]).toMatchObject({ kind: "retry", throttled: true });
  });

  it("in a storm, a refresh moments after an issue's cards went out updates the few chat.update can spare; the rest wait for it to settle", async () => {
    const run = app.context({ coalesceSeconds: 5 });
    const sender = { ...run, identities: new IdentityRepository(app.storage) };
    const workspaceWithTenChannels = async (name: string) => {
      const workspace = app.slack.addWorkspace({ name });
      await installInSlackWorkspace(app.storage, workspace);
      return {
        teamId: workspace.teamId,
        channels: Array.from({ length: 10 }, (_, n) => app.slack.addChannel(workspace.teamId, { name: `${name}-${n}` }).id),
      };
    };
    const newIssuePostedIn = async (issueId: string, where: { teamId: string; channels: string[] }) => {
      const issue = (await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!
        .issue;
      for (const channel of where.channels) {
        const target = { provider: "slack" as const, teamId: where.teamId, channel };
        // Created moments ago: still within SETTLE_MS of its creation.
        const posted = await sendSlackCard(sender, issue, target, `slack:${where.teamId}:${channel}`, 1, {
          deliveryId: `${issueId}-${channel}`,
          settlesInMs: 9000,
        });
        if (posted.kind !== "sent") throw new Error(`post failed: ${JSON.stringify(posted)}`);
        await new CardRepository(app.storage).save(posted.copy);
      }
    };
    const changeAgain = async (issueId: string) => {
      const changed = await new IssueRepository(app.storage).change(issueId, (current) => ({
        issue: { ...current!.issue, count: current!.issue.count + 1, version: current!.issue.version + 1 },
        activities: [],
      }));
      return refreshCards(run, { issueId, version: changed!.issue.version, requestedAt: new Date().toISOString() });
    };
    const showingVersion2 = async (issueId: string) =>
      (await new CardRepository(app.storage).list(issueId)).filter((copy) => copy.renderedVersion === 2).length;

    // A quiet workspace: an issue's second alert moments after its cards went out shows on every copy at once.
    const quiet = await workspaceWithTenChannels("quiet");
    await newIssuePostedIn("QUIET-1", quiet);
    expect(await changeAgain("QUIET-1")).toMatchObject({ updated: 10, failed: 0 });
    expect(await showingVersion2("QUIET-1")).toBe(10);

    // An incident: three new issues' first cards, posted while each was still changing, owe 30 updates, over half
    // the workspace's budget for them. The third changing right after its cards went out gets the few updates
    // its workspace spares (a tenth of its chat.update budget); the rest wait for it to settle.
    const flood = await workspaceWithTenChannels("flood");
    for (let n = 1; n <= 3; n++) await newIssuePostedIn(`FLOOD-${n}`, flood);
    const spared = Math.floor(SLACK_TIER3_LIMITS[0]!.limit * PACING_SHARE * 0.1);
    expect(await changeAgain("FLOOD-3")).toMatchObject({ updated: spared, failed: 1 });
    expect(await showingVersion2("FLOOD-3")).toBe(spared);
    expect(app.slack.calls.filter((call) => call.method === "chat.update" && call.teamId === flood.teamId)).toHaveLength(spared);
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A new workspace with the app installed, one channel in it, and a sender to post cards there directly. */
async function aChannelToPostIn(workspaceName: string, channelName: string) {
  const workspace = app.slack.addWorkspace({ name: workspaceName });
  await installInSlackWorkspace(app.storage, workspace);
  const sender = { ...app.context({ coalesceSeconds: 5 }), identities: new IdentityRepository(app.storage) };
  const channel = app.slack.addChannel(workspace.teamId, { name: channelName }).id;
  const target = { provider: "slack" as const, teamId: workspace.teamId, channel };
  return { workspace, sender, channel, target };
}

describe("a deferred Slack card post keeps the slot it was promised", () => {
  it("the retry carrying its slot posts in it, ahead of later posts; one come back too late asks again", async () => {
    const { workspace, sender, channel, target } = await aChannelToPostIn("Promises", "busy");
    const post = (n: number, slotAt?: number): Promise<SlackSendOutcome> =>
      sendSlackCard(sender, anIssue({ id: `PROMISE-${n}` }), target, `slack:${workspace.teamId}:${channel}`, 1, {
        deliveryId: `promise-${n}`,
        slotAt,
      });

    // About one post a second: the first two go (the second after a short wait), the next are deferred.
    expect((await post(1)).kind).toBe("sent");
    const asked = Date.now();
    const [second, third, fourth] = await Promise.all([post(2), post(3), post(4)]);
    expect(second!.kind).toBe("sent");
    const promised = [third!, fourth!].map((outcome) => {
      expect(outcome).toMatchObject({ kind: "retry", throttled: true, slotAt: expect.any(Number) });
      // Due back before its slot (a retry due at it comes back late, with the queue's polling): it waits here.
      const { slotAt, delaySeconds } = outcome as { slotAt: number; delaySeconds: number };
      expect(delaySeconds * 1000).toBeLessThanOrEqual(slotAt - asked);
      return slotAt;
    });
    expect(promised[1]! - promised[0]!).toBeGreaterThanOrEqual(1000);
    // A post arriving shortly before the first promised slot would have fitted in it (within the 2 s an instance
    // waits in process): it queues behind both promised slots instead, holding one of its own.
    await sleep(promised[0]! - 1500 - Date.now());
    const later = await post(5);
    expect(later).toMatchObject({ kind: "retry", throttled: true });
    expect((later as { slotAt: number }).slotAt).toBeGreaterThan(promised[1]!);

    // The third comes back at its slot (to this instance or another): it posts, though this instance's own
    // schedule has no room before the fifth's slot.
    await sleep(promised[0]! - Date.now());
    const posts = () => app.slack.calls.filter((call) => call.method === "chat.postMessage" && call.ok).length;
    const before = posts();
    expect((await post(3, promised[0])).kind).toBe("sent");
    expect(posts()).toBe(before + 1);

    // A promise come back long after its slot lapsed: it asks again, and waits behind the slots held now.
    expect(await post(6, Date.now() - 10_000)).toMatchObject({ kind: "retry", throttled: true });
  });

  it("a still-changing issue's card is promised no slot of a busy channel: held until the issue settles, it keeps no settled card waiting behind it", async () => {
    const { workspace, sender, channel, target } = await aChannelToPostIn("Busy and changing", "busy-changing");
    const post = (n: number, settlesInMs: number): Promise<SlackSendOutcome> =>
      sendSlackCard(sender, anIssue({ id: `BUSY-${n}`, version: 3 }), target, `slack:${workspace.teamId}:${channel}`, 1, {
        deliveryId: `busy-${n}`,
        settlesInMs,
      });

    // Settled cards fill the channel's next seconds: the third and fourth are promised slots ahead.
    const settled = await Promise.all([post(1, 0), post(2, 0), post(3, 0), post(4, 0)]);
    const promised = settled.flatMap((outcome) => (outcome.kind === "retry" && outcome.slotAt ? [outcome.slotAt] : []));
    expect(promised).toHaveLength(2);
    const changing = await post(5, 8000);
    expect(changing).toMatchObject({ kind: "retry", throttled: true, delaySeconds: 8 });
    expect((changing as { reason: string }).reason).toMatch(/^held: the issue is still changing and the channel's next slot/);
    expect((changing as { slotAt?: number }).slotAt).toBeUndefined();
    // The next settled card is promised the slot right after the last promised one: none was held for the changing one.
    const next = await post(6, 0);
    expect((next as { slotAt: number }).slotAt - Math.max(...promised)).toBeLessThan(2000);
  });

  it("the promised slot travels in the deliveries message's target, and a message without one still reads", () => {
    const target = { provider: "slack", teamId: "T0001", channel: "C0001" };
    const withSlot = readDeliveryMessage({
      alertId: "a1",
      issueId: "i1",
      targets: [{ targetKey: "slack:T0001:C0001", target, slotAt: 1796572588374 }],
    });
    expect(withSlot).toMatchObject({ ok: true, batch: { targets: [{ targetKey: "slack:T0001:C0001", slotAt: 1796572588374 }] } });
    const without = readDeliveryMessage({ alertId: "a1", issueId: "i1", targets: [{ targetKey: "slack:T0001:C0001", target }] });
    expect(without.ok && without.batch.targets[0]).toEqual({ targetKey: "slack:T0001:C0001", target });
  });
});
