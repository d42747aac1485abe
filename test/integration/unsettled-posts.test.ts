// A Slack card posted while its issue is still changing (an alert storm) will need a chat.update once the issue
// settles, and chat.update is Tier 3: 50 a minute for the whole workspace. Posted faster than that, such cards stay
// stale for minutes (issue 11: 300 stale copies took over 7 minutes to fix). So the workspace lets them through no
// faster than its update budget, and holds the rest (a throttled retry, its attempt given back) until the issue
// settles. Cards of settled issues, and first cards of new issues, are never held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_TIER3_LIMITS, PACING_SHARE, UNSETTLED_POST_SHARE } from "../../shared/delivery/pacing";
import { sendSlackCard, type SlackSendOutcome } from "../../shared/delivery/slack-sender";
import { CardRepository } from "../../shared/storage/cards";
import { IssueRepository } from "../../shared/storage/issues";
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
