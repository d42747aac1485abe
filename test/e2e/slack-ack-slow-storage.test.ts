// Slack gives a slash command and an event 3 s to be answered (the emulator gives up then too). Storage or Slack
// slower than that must not make Slack show the person a timeout for work that was done, or lose an event: the
// answer comes in time, saying what is known, and what was still under way follows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WorkspaceHandle } from "../../dev/emulators/slack";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { startSlowStorage, type SlowStorage } from "../support/slow-storage";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
/** Two proxies, so that tables and queues can be slowed apart. */
let tables: SlowStorage;
let queues: SlowStorage;
let host: HostProcess;
let teamId: string;
let ana: string;
let solo: WorkspaceHandle;

/** Slower than Slack's 3 s for a single storage request. */
const SLOWER_THAN_SLACK_MS = 3_500;

const endpointIn = (connectionString: string, name: "TableEndpoint" | "QueueEndpoint") => new RegExp(`${name}=([^;]+)`).exec(connectionString)![1]!;

/** The app on the stack's port, its tables behind one slow proxy and its queues behind the other; SLACK_BOT_TOKEN serves a second, uninstalled workspace. */
function startApp() {
  const azurite = stack.azurite;
  const storage = azurite.connectionString
    .replace(`TableEndpoint=${azurite.tableEndpoint}`, `TableEndpoint=${endpointIn(tables.connectionString, "TableEndpoint")}`)
    .replace(`QueueEndpoint=${azurite.queueEndpoint}`, `QueueEndpoint=${endpointIn(queues.connectionString, "QueueEndpoint")}`);
  const port = Number(new URL(stack.env.PUBLIC_BASE_URL!).port);
  return startHostProcess({ env: { ...stack.env, AzureWebJobsStorage: storage, SLACK_BOT_TOKEN: solo.botToken }, port });
}

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  solo = stack.slack.addWorkspace({ name: "Solo" });
  [tables, queues] = await Promise.all([startSlowStorage(stack.azurite), startSlowStorage(stack.azurite)]);
  await stack.host.stop();
  host = await startApp();
}, 120_000);
afterAll(async () => {
  await host?.stop();
  await Promise.all([tables?.stop(), queues?.stop()]);
  await stack?.stop();
});

function typed(from: { teamId: string; user: string; channel: string }, text: string) {
  return stack.slack.sendCommand(`${host.url}/api/slack/commands`, stack.slack.slashCommand({ ...from, command: "/triage", text }));
}

/** What the app said to `user` in the channel after the answer, only to them (through the command's response_url). */
const followUps = (channel: string, user: string) => stack.slack.messages(channel).filter((m) => m.ephemeral?.user === user);

async function followUp(channel: string, user: string, matching: RegExp) {
  const found = await waitFor(() => followUps(channel, user).find((m) => matching.test(m.text ?? "")), {
    description: `a follow-up matching ${matching}`,
  });
  return found.text!;
}

const subscribedIn = async (team: string, channel: string) =>
  (await listSubscriptions(stack.storage, `slack:${team}:${channel}`)).map((s) => s.project);

async function withDelay<T>(proxy: SlowStorage, ms: number, run: () => Promise<T>): Promise<T> {
  proxy.setDelay(ms);
  try {
    return await run();
  } finally {
    proxy.setDelay(0);
  }
}

describe("Slack slash commands are answered within Slack's 3 seconds", () => {
  it("/triage subscribe while queueing the channel check takes longer than 3 s: answered in time, saved, and the check still follows", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "secret-ops", isPrivate: true, botIsMember: false }).id;

    const answer = await withDelay(queues, SLOWER_THAN_SLACK_MS, () => typed({ teamId, user: ana, channel }, "subscribe checkout warning"));

    expect(answer.timedOut, "Slack would show operation_timeout").toBe(false);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/^Subscribed: alerts for \*checkout\*/) });
    expect(await subscribedIn(teamId, channel)).toEqual(["checkout"]);
    // The check was queued after all: its warning about the private channel reaches Ana.
    expect(await followUp(channel, ana, /I'm not in this channel/)).toMatch(/subscription is saved/);
  }, 60_000);

  it("/triage subscribe while storage takes longer than 3 s: Ana is told in time that it is still being done, then what was done", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "payments-alerts" }).id;

    const answer = await withDelay(tables, SLOWER_THAN_SLACK_MS, async () => {
      const answered = await typed({ teamId, user: ana, channel }, "subscribe payments error");
      expect(answered.timedOut, "Slack would show operation_timeout").toBe(false);
      expect(answered.status).toBe(200);
      expect(answered.json).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/still working on it/i) });
      return (answered.json as { text: string }).text;
    });
    expect(answer).not.toMatch(/^Subscribed/);

    expect(await followUp(channel, ana, /^Subscribed/)).toMatch(/^Subscribed: alerts for \*payments\* at level error or above/);
    expect(await subscribedIn(teamId, channel)).toEqual(["payments"]);
  }, 60_000);

  it("single-workspace mode, a fresh instance, Slack's auth.test slower than 3 s: /triage status is answered in time, then the answer follows", async () => {
    const bo = stack.slack.addUser(solo.teamId, { name: "bo", email: "bo@solo.example" }).id;
    const channel = stack.slack.addChannel(solo.teamId, { name: "general" }).id;
    await host.stop();
    host = await startApp();
    stack.slack.injectError({ method: "auth.test", delayMs: 4_000, times: Infinity });
    try {
      const answer = await typed({ teamId: solo.teamId, user: bo, channel }, "status");
      expect(answer.timedOut, "Slack would show operation_timeout").toBe(false);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/still working on it/i) });
      expect(await followUp(channel, bo, /not linked/)).toMatch(/You're not linked to anyone yet/);
    } finally {
      stack.slack.clearFaults();
    }
  }, 60_000);
});

describe("Slack events are answered within Slack's 3 seconds", () => {
  it("a channel archived while storage takes longer than 3 s: an error in time, so Slack sends it again, and the retry is handled", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "old-alerts", archived: true }).id;
    const envelope = stack.slack.eventCallback({ teamId, event: { type: "channel_archive", channel, user: ana } });
    const events = `${host.url}/api/slack/events`;

    const first = await withDelay(tables, SLOWER_THAN_SLACK_MS, () => stack.slack.sendEvent(events, envelope));
    expect(first.timedOut, "Slack would count a timeout").toBe(false);
    // Not a 2xx: Slack sends the event again (no X-Slack-No-Retry).
    expect(first.status).toBeGreaterThanOrEqual(500);
    expect(first.headers["x-slack-no-retry"]).toBeUndefined();

    const retried = await stack.slack.sendEvent(events, envelope, { retryNum: 1, retryReason: "http_error" });
    expect(retried.status).toBe(200);
    await waitFor(async () => /archived/.test(((await typed({ teamId, user: ana, channel }, "subscriptions")).json as { text: string }).text), {
      description: "/triage subscriptions says the channel is archived",
    });
  }, 60_000);
});
