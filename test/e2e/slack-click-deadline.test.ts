import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlockActionsPayload, WorkspaceHandle } from "../../dev/emulators/slack";
import { IdentityRepository } from "../../shared/storage/identities";
import { ActivityRepository, IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { sendBase64Json } from "../support/queues";
import { startSlowStorage, type SlowStorage } from "../support/slow-storage";
import { waitFor } from "../support/wait";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// Slack shows a click as failed when the app hasn't answered within 3 s (the emulator gives up then too).
// These clicks happen while storage or Slack are slow, and 50 at once on one issue: every one must be
// acknowledged in time and applied exactly once, its result shown to the clicker.
let stack: Stack;
let slow: SlowStorage;
let host: HostProcess;
let teamId: string;
let channel: string;
let solo: WorkspaceHandle;
let soloChannel: string;

/** The app on the same port, its storage behind the slow proxy; SLACK_BOT_TOKEN serves a second, uninstalled workspace. */
function startApp() {
  const port = Number(new URL(stack.env.PUBLIC_BASE_URL!).port);
  return startHostProcess({ env: { ...stack.env, AzureWebJobsStorage: slow.connectionString, SLACK_BOT_TOKEN: solo.botToken }, port });
}

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  solo = stack.slack.addWorkspace({ name: "Solo" });
  soloChannel = stack.slack.addChannel(solo.teamId, { name: "alerts" }).id;
  slow = await startSlowStorage(stack.azurite);
  await stack.host.stop();
  host = await startApp();
}, 120_000);
afterAll(async () => {
  await host?.stop();
  await slow?.stop();
  await stack?.stop();
});

const interactions = () => `${host.url}/api/slack/interactions`;
const cardIn = (ch: string, issueId: string) =>
  stack.slack.messages(ch).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`));
const answersTo = (payload: BlockActionsPayload) => stack.slack.responses.filter((r) => payload.response_url.endsWith(`/${r.responseUrlId}`));

async function postedCard(issueId: string, team: string, ch: string) {
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: `alert-${issueId}`, issue: { id: issueId }, targets: [{ provider: "slack", teamId: team, channel: ch }] }),
  );
  return waitFor(() => cardIn(ch, issueId), { timeoutMs: 30_000 });
}

async function linkedUser(team: string, name: string): Promise<string> {
  const email = `${name}@contoso.com`;
  const id = stack.slack.addUser(team, { name, realName: name, email }).id;
  await new IdentityRepository(stack.storage).link({
    provider: "slack",
    scope: team,
    chatUserId: id,
    person: { email, name },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  return id;
}

describe("Slack clicks are answered within Slack's 3 seconds", () => {
  it("50 people click 'Assign to me' on one card at once: all 50 acknowledged in time, each applied once, each clicker answered once", async () => {
    const message = await postedCard("crowded", teamId, channel);
    const people = await Promise.all(Array.from({ length: 50 }, (_, n) => linkedUser(teamId, `person${n}`)));
    const payloads = people.map((user) =>
      stack.slack.blockActions({ teamId, user, channel, messageTs: message.ts, actions: [click(message.blocks, "Assign to me")] }),
    );

    const results = await Promise.all(payloads.map((payload) => stack.slack.sendInteraction(interactions(), payload)));

    const late = results.filter((r) => r.timedOut || r.status !== 200);
    expect(
      late.map((r) => Math.round(r.elapsedMs)),
      "clicks Slack would show as failed",
    ).toEqual([]);
    const assigns = await waitFor(
      async () => {
        const rows = (await new ActivityRepository(stack.storage).list("crowded")).filter((a) => a.action === "assign");
        return rows.length >= 50 ? rows : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(new Set(assigns.map((a) => a.actor)).size).toBe(50);
    await waitFor(() => payloads.every((p) => answersTo(p).length > 0), { timeoutMs: 30_000, description: "every clicker answered" });
    expect(payloads.filter((p) => answersTo(p).length !== 1).length, "clickers answered more than once").toBe(0);
    expect((await new ActivityRepository(stack.storage).list("crowded")).filter((a) => a.action === "assign")).toHaveLength(50);
  }, 150_000);

  it("with storage answering slowly and Slack's response_url too, a Resolve is acknowledged in time and then applied and shown", async () => {
    const ana = await linkedUser(teamId, "ana");
    const message = await postedCard("slow-storage", teamId, channel);
    slow.setDelay(300);
    stack.slack.injectError({ method: "response_url", delayMs: 1_200, times: Infinity });
    try {
      const payload = stack.slack.blockActions({ teamId, user: ana, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
      const result = await stack.slack.sendInteraction(interactions(), payload);
      expect(result.timedOut).toBe(false);
      expect(result.status).toBe(200);

      await waitFor(async () => (await new IssueRepository(stack.storage).get("slow-storage"))?.issue.status === "resolved", { timeoutMs: 30_000 });
      await waitFor(() => /Resolved by ana/.test(blocksText(cardIn(channel, "slow-storage")!.blocks)), { timeoutMs: 30_000 });
      // The history line follows the answer.
      await waitFor(
        async () =>
          expect((await new ActivityRepository(stack.storage).list("slow-storage")).filter((a) => a.action === "resolve")).toHaveLength(1) ?? true,
        { timeoutMs: 30_000 },
      );
    } finally {
      slow.setDelay(0);
      stack.slack.clearFaults();
    }
  }, 90_000);

  it("a click on a stale card (someone else did it first) is answered with one line, once, in time", async () => {
    const [cai, dan] = [await linkedUser(teamId, "cai"), await linkedUser(teamId, "dan")];
    const message = await postedCard("stale", teamId, channel);
    const first = stack.slack.blockActions({ teamId, user: cai, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
    const stale = stack.slack.blockActions({ teamId, user: dan, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
    expect((await stack.slack.sendInteraction(interactions(), first)).status).toBe(200);
    await waitFor(async () => (await new IssueRepository(stack.storage).get("stale"))?.issue.status === "resolved", { timeoutMs: 30_000 });

    stack.slack.injectError({ method: "response_url", delayMs: 1_400, times: Infinity });
    try {
      const result = await stack.slack.sendInteraction(interactions(), stale);
      expect(result.timedOut).toBe(false);
      await waitFor(() => answersTo(stale).length > 0, { timeoutMs: 30_000 });
      expect(answersTo(stale).map((r) => r.body)).toEqual([
        expect.objectContaining({ response_type: "ephemeral", text: expect.stringMatching(/already resolved/i) }),
      ]);
    } finally {
      stack.slack.clearFaults();
    }
  }, 60_000);

  it("single-workspace mode, a fresh instance, Slack slow: the first click makes no Slack call before it is acknowledged", async () => {
    const ana = await linkedUser(solo.teamId, "solo-ana");
    const message = await postedCard("solo", solo.teamId, soloChannel);
    // A new instance that has not talked to Slack yet, and Slack taking its time.
    await host.stop();
    host = await startApp();
    stack.slack.injectError({ method: "auth.test", delayMs: 4_000, times: Infinity });
    try {
      const payload = stack.slack.blockActions({
        teamId: solo.teamId,
        user: ana,
        channel: soloChannel,
        messageTs: message.ts,
        actions: [click(message.blocks, "Resolve")],
      });
      const result = await stack.slack.sendInteraction(interactions(), payload);
      expect(result.timedOut).toBe(false);
      expect(result.status).toBe(200);
      await waitFor(async () => (await new IssueRepository(stack.storage).get("solo"))?.issue.status === "resolved", { timeoutMs: 30_000 });
      await waitFor(() => /Resolved by solo-ana/.test(blocksText(cardIn(soloChannel, "solo")!.blocks)), { timeoutMs: 30_000 });
    } finally {
      stack.slack.clearFaults();
    }
  }, 90_000);
});
