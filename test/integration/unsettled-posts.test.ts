// A Slack card posted while its issue is still changing (an alert storm) will need a chat.update once the issue
// settles, and chat.update is Tier 3: 50 a minute for the whole workspace. Posted faster than that, such cards stay
// stale for minutes (issue 11: 300 stale copies took over 7 minutes to fix). So the workspace lets them through no
// faster than its update budget, and holds the rest (a throttled retry, its attempt given back) until the issue
// settles. Cards of settled issues, and first cards of new issues, are never held.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SLACK_TIER3_LIMITS, PACING_SHARE, UNSETTLED_POST_SHARE } from "../../shared/delivery/pacing";
import { sendSlackCard, type SlackSendOutcome } from "../../shared/delivery/slack-sender";
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
});
