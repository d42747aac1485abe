// A release message taken by several consumers at once (the host redelivering it, a copy put back after a 429)
// posts each release card once. The workflow runs in process against Azurite and both emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertTarget } from "../../shared/domain/alert";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { subscribe } from "../../shared/storage/subscriptions";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { drain } from "../support/queues";
import type { SlackContext } from "../../shared/context";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";

let app: EmulatedApp;
let deliverer: SlackContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "release-once",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d015", tenantId: "72f988bf-0000-4000-8000-000000000015" },
  });
  deliverer = app.context();
});
afterAll(async () => {
  await app?.stop();
});

async function subscribedConversations(project: string): Promise<AlertTarget[]> {
  const { teams, slack, direct } = app;
  const team = teams.addTeam({ name: project, members: [] });
  const conversations = [team.generalChannelId, teams.addChannel(team, `${project}-2`).id];
  await installInTeamsChannels(direct, teams, conversations);
  const workspace = slack.addWorkspace({ name: project });
  await installInSlackWorkspace(direct, workspace);
  const channels = [slack.addChannel(workspace.teamId, { name: `${project}-a` }).id, slack.addChannel(workspace.teamId, { name: `${project}-b` }).id];
  const targets: AlertTarget[] = [
    ...conversations.map((conversationId) => ({ provider: "msteams" as const, conversationId })),
    ...channels.map((channel) => ({ provider: "slack" as const, teamId: workspace.teamId, channel })),
  ];
  for (const target of targets) {
    const conversationKey =
      target.provider === "msteams" && "conversationId" in target
        ? `msteams:${target.conversationId}`
        : `slack:${(target as { teamId: string }).teamId}:${(target as { channel: string }).channel}`;
    await subscribe(direct, { conversationKey, project, minLevel: "fatal", target });
  }
  return targets;
}

function releaseCards(target: AlertTarget, title: string): number {
  if (target.provider === "msteams" && "conversationId" in target) {
    return app.teams.messages(target.conversationId).filter((m) => JSON.stringify(m.activity).includes(title)).length;
  }
  return app.slack.messages((target as { channel: string }).channel).filter((m) => JSON.stringify(m.blocks).includes(title)).length;
}

describe("a release message taken three times at once", () => {
  it("posts the release card once in every subscribed conversation, whatever the minimum level", async () => {
    const targets = await subscribedConversations("once");
    const message = { schemaVersion: 1, kind: "release", release: { project: "once", version: "2.0.0", environment: "production" } };
    const results = await Promise.all([1, 2, 3].map(() => takeAlert(app.storage, message, JSON.stringify(message), { deliverer })));
    expect(results.every((r) => r.kind === "release")).toBe(true);
    expect(targets.map((t) => releaseCards(t, "once 2.0.0 went out to production"))).toEqual([1, 1, 1, 1]);
    // The copies that found the posts under way put the message back; taking it again posts nothing more.
    const requeued = await drain(app.azurite.connectionString, "alerts");
    for (const copy of requeued) await takeAlert(app.storage, copy.body, copy.text!, { deliverer });
    const again = await takeAlert(app.storage, message, JSON.stringify(message), { deliverer });
    expect(again).toMatchObject({ kind: "release", sent: 4, waiting: 0, dead: 0 });
    expect(targets.map((t) => releaseCards(t, "once 2.0.0 went out to production"))).toEqual([1, 1, 1, 1]);
  });

  it("a conversation the bot can no longer post to is recorded dead and not tried again", async () => {
    const targets = await subscribedConversations("gone");
    const slackTarget = targets.find((t) => t.provider === "slack") as { channel: string };
    app.slack.injectError({ method: "chat.postMessage", channel: slackTarget.channel, error: "channel_not_found", times: 1 });
    const message = { schemaVersion: 1, kind: "release", release: { project: "gone", version: "3.0.0" } };
    expect(await takeAlert(app.storage, message, JSON.stringify(message), { deliverer })).toMatchObject({
      sent: 3,
      dead: 1,
      waiting: 0,
    });
    expect(await takeAlert(app.storage, message, JSON.stringify(message), { deliverer })).toMatchObject({
      sent: 3,
      dead: 1,
      waiting: 0,
    });
    expect(targets.map((t) => releaseCards(t, "gone 3.0.0 went out"))).toEqual([1, 1, 0, 1]);
  });
});
