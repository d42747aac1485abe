// A release notice whose post got no answer (the client timed out, the post landed later) follows the app's
// "exactly once" rule for cards (README): Slack looks the post up by its metadata before posting again; where
// it can't (no history scope) and on Teams, one counted re-post at most, recorded as a possible duplicate.
// The workflow runs in process against Azurite and both emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BOT_SCOPES } from "../../dev/emulators/slack/world";
import type { SlackContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import type { ReleaseMessage } from "../../shared/domain/release-notice";
import { DeliveryRepository, type DeliveryRow } from "../../shared/storage/deliveries";
import { subscribe } from "../../shared/storage/subscriptions";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { releaseNoticeId } from "../../shared/workflows/release-notices";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let deliverer: SlackContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "release-unanswered",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d016", tenantId: "72f988bf-0000-4000-8000-000000000016" },
  });
  deliverer = app.context();
});
afterAll(async () => {
  await app?.stop();
});

const SLOWER_THAN_THE_CLIENT_TIMEOUT_MS = 10_500;

function releaseOf(project: string): ReleaseMessage {
  return { schemaVersion: 1, kind: "release", release: { project, version: "1.0.0", environment: "production", people: [] } } as ReleaseMessage;
}

async function take(message: ReleaseMessage) {
  return takeAlert(app.storage, message, JSON.stringify(message), { deliverer });
}

async function subscribed(project: string, target: AlertTarget): Promise<void> {
  const conversationKey = target.provider === "msteams" ? `msteams:${project}` : `slack:${project}`;
  await subscribe(app.storage, { conversationKey, project, minLevel: "fatal", target });
}

async function slackChannel(project: string, scopes: readonly string[]): Promise<{ provider: "slack"; teamId: string; channel: string }> {
  const workspace = app.slack.addWorkspace({ name: project, scopes: [...scopes] });
  await installInSlackWorkspace(app.storage, workspace);
  const target = { provider: "slack" as const, teamId: workspace.teamId, channel: app.slack.addChannel(workspace.teamId, { name: project }).id };
  await subscribed(project, target);
  return target;
}

async function teamsChannel(project: string): Promise<string> {
  const team = app.teams.addTeam({ name: project, members: [] });
  await installInTeamsChannels(app.storage, app.teams, [team.generalChannelId]);
  await subscribed(project, { provider: "msteams", conversationId: team.generalChannelId });
  return team.generalChannelId;
}

const slackPosts = (channel: string) => app.slack.messages(channel).filter((m) => !m.ephemeral);

async function rowOf(message: ReleaseMessage, target: AlertTarget): Promise<DeliveryRow> {
  return (await new DeliveryRepository(app.storage).get(releaseNoticeId(message), targetKey(target)))!;
}

describe("a release notice whose post got no answer", () => {
  it("Slack: the post that landed late is found by its metadata when the message comes back: one release card", async () => {
    const target = await slackChannel("rel-slow-slack", [...DEFAULT_BOT_SCOPES, "channels:history"]);
    const message = releaseOf("rel-slow-slack");
    app.slack.injectError({ method: "chat.postMessage", channel: target.channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });

    expect(await take(message)).toMatchObject({ sent: 0, waiting: 1 });
    await waitFor(() => slackPosts(target.channel).length > 0, { description: "the slow post landed" });
    expect(await take(message)).toMatchObject({ sent: 1, waiting: 0, dead: 0 });

    expect(slackPosts(target.channel)).toHaveLength(1);
    const row = await rowOf(message, target);
    expect(row).toMatchObject({ state: "sent", unconfirmed: 1, reposted: 0, messageRef: `${target.channel}/${slackPosts(target.channel)[0]!.ts}` });
    expect(row.decision).toMatch(/found the release notice/);
  }, 40_000);

  it("Slack without the history scope: posted once more, recorded as a possible duplicate", async () => {
    const target = await slackChannel(
      "rel-slow-noscope",
      DEFAULT_BOT_SCOPES.filter((scope) => !scope.endsWith(":history")),
    );
    const message = releaseOf("rel-slow-noscope");
    app.slack.injectError({ method: "chat.postMessage", channel: target.channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });

    expect(await take(message)).toMatchObject({ sent: 0, waiting: 1 });
    await waitFor(() => slackPosts(target.channel).length > 0, { description: "the slow post landed" });
    expect(await take(message)).toMatchObject({ sent: 1, waiting: 0, dead: 0 });

    expect(slackPosts(target.channel)).toHaveLength(2);
    const row = await rowOf(message, target);
    expect(row).toMatchObject({ state: "sent", unconfirmed: 1, reposted: 1 });
    expect(row.decision).toMatch(/may be a duplicate/);
  }, 40_000);

  it("Teams: two posts with no answer make two cards at most, never a third", async () => {
    const conversationId = await teamsChannel("rel-slow-teams");
    const message = releaseOf("rel-slow-teams");
    app.teams.injectFault({ operation: "send", conversationId, status: 200, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS, times: 2 });

    expect(await take(message)).toMatchObject({ sent: 0, waiting: 1 });
    expect(await take(message)).toMatchObject({ sent: 0, waiting: 1 });
    await waitFor(() => app.teams.messages(conversationId).length === 2, { description: "both slow posts landed" });
    expect(await take(message)).toMatchObject({ sent: 0, waiting: 0, dead: 1 });
    expect(await take(message)).toMatchObject({ sent: 0, waiting: 0, dead: 1 });

    expect(app.teams.messages(conversationId)).toHaveLength(2);
    const row = await rowOf(message, { provider: "msteams", conversationId });
    expect(row).toMatchObject({ state: "dead", unconfirmed: 2, reposted: 1 });
    expect(row.reason).toMatch(/^unconfirmed: .*may be there/);
  }, 60_000);
});
