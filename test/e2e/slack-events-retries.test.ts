// Slack sends an event again when its answer is late or not a 2xx (at once, ~1 min, ~5 min later), and stops at the
// first 2xx. An event must take effect however its first attempt goes: still running when Slack sends it again,
// failing after it was answered, or its instance gone mid-way. Storage refusing with 503s stands for a busy account:
// the storage SDK retries them with seconds of backoff, so the attempt outlives its answer and then fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryResult } from "../../dev/emulators/slack";
import { startHostProcess } from "../support/host-process";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ countStorage: true, hosts: 2 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const eventsUrl = (hostUrl: string) => `${hostUrl}/api/slack/events`;
const isSuccess = (answer: DeliveryResult) => answer.status >= 200 && answer.status < 300;

/**
 * Slack's side of one event: sent, then sent again with X-Slack-Retry-Num (at most 3 retries) until an answer is a
 * 2xx. `beforeRetry` stands for Slack's waits between them and says where the retry goes (Slack's request URL reaches
 * any instance).
 */
async function slackDelivers(
  envelope: Record<string, unknown>,
  firstTo: string,
  beforeRetry: (retryNum: number) => Promise<string>,
): Promise<DeliveryResult[]> {
  const answers = [await stack.slack.sendEvent(eventsUrl(firstTo), envelope)];
  for (let retryNum = 1; retryNum <= 3 && !isSuccess(answers.at(-1)!); retryNum++) {
    const to = await beforeRetry(retryNum);
    const retryReason = answers.at(-1)!.timedOut ? "http_timeout" : "http_error";
    answers.push(await stack.slack.sendEvent(eventsUrl(to), envelope, { retryNum, retryReason }));
  }
  return answers;
}

function typed(hostUrl: string, from: { teamId: string; user: string; channel: string }, text: string) {
  return stack.slack.sendCommand(`${hostUrl}/api/slack/commands`, stack.slack.slashCommand({ ...from, command: "/triage", text }));
}

async function answerTo(hostUrl: string, from: { teamId: string; user: string; channel: string }, text: string): Promise<string> {
  return ((await typed(hostUrl, from, text)).json as { text: string }).text;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a Slack event whose first attempt doesn't finish is not lost", () => {
  it("a channel archived while storage is busy: Slack's retry during the attempt isn't told it is done, the attempt fails, and a later retry stops the channel's cards", async () => {
    const teamId = await installSlackWorkspace(stack, "Contoso");
    const ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
    const channel = stack.slack.addChannel(teamId, { name: "old-alerts", archived: true }).id;
    const envelope = stack.slack.eventCallback({ teamId, event: { type: "channel_archive", channel, user: ana } });
    const [first, second] = stack.hosts.map((host) => host.url) as [string, string];
    const attemptFailed = () => stack.hosts[0]!.logs().some((line) => line.includes(String(envelope.event_id)) && /failed/.test(line));

    // Storage refuses every request about the channel's row, until the first attempt gave up.
    stack.storageProxy!.refuse(({ service, url }) => (service === "table" && url.includes(channel) ? 503 : undefined));
    const outageOver = async () => {
      await waitFor(attemptFailed, { timeoutMs: 60_000, description: "the first attempt failed" });
      stack.storageProxy!.refuse(undefined);
    };
    let answers: DeliveryResult[];
    try {
      answers = await slackDelivers(envelope, first, async (retryNum) => {
        // Slack's first retry comes at once, to another instance, while the first attempt is still at it.
        if (retryNum === 1) return second;
        if (retryNum === 2) await outageOver();
        else await sleep(3_000);
        return first;
      });
      await outageOver();
    } finally {
      stack.storageProxy!.refuse(undefined);
    }

    const subscriptions = await waitFor(
      async () => {
        const text = await answerTo(first, { teamId, user: ana, channel }, "subscriptions");
        return /archived/.test(text) && text;
      },
      { timeoutMs: 15_000, description: "/triage subscriptions says the channel is archived" },
    );
    expect(subscriptions).toMatch(/Cards are stopped here/);
    expect(
      answers.every((answer) => !answer.timedOut),
      "every answer within Slack's 3 s",
    ).toBe(true);
    expect(answers[0]!.status).toBeGreaterThanOrEqual(500);
    expect(answers.findIndex(isSuccess), "Slack was told it was done only once it was").toBeGreaterThanOrEqual(2);
  }, 120_000);

  it("an uninstall whose instance dies mid-way: a retry once the dead attempt's lease ran out switches the workspace off", async () => {
    const teamId = await installSlackWorkspace(stack, "Fabrikam");
    const bo = stack.slack.addUser(teamId, { name: "bo", realName: "Bo Berg", email: "bo@fabrikam.example" }).id;
    const channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
    const envelope = stack.slack.eventCallback({ teamId, event: { type: "app_uninstalled" } });
    const survivor = stack.host.url;
    const doomed = await startHostProcess({ env: stack.env });
    const workspaceRow = `PartitionKey='slack:${teamId}',RowKey='workspace'`;

    let answers: DeliveryResult[];
    stack.storageProxy!.refuse(({ service, url }) => (service === "table" && url.includes(workspaceRow) ? 503 : undefined));
    const sentAt = Date.now();
    try {
      answers = await slackDelivers(envelope, doomed.url, async (retryNum) => {
        if (retryNum === 1) {
          // The instance is lost while its attempt waits on storage; storage then recovers.
          process.kill(doomed.pid, "SIGKILL");
          await doomed.stop();
          stack.storageProxy!.refuse(undefined);
        } else if (retryNum === 2) {
          // Slack's second retry, about a minute after the first try.
          await sleep(Math.max(0, sentAt + 60_000 - Date.now()));
        } else await sleep(3_000);
        return survivor;
      });
    } finally {
      stack.storageProxy!.refuse(undefined);
    }

    // A busy machine may make the command answer "still working" first: asked again then, as a person would.
    await waitFor(async () => /isn't installed for this workspace/.test(await answerTo(survivor, { teamId, user: bo, channel }, "status")), {
      timeoutMs: 15_000,
      description: "/triage status says the app isn't installed for the workspace",
    });
    expect(
      answers.every((answer) => !answer.timedOut),
      "every answer within Slack's 3 s",
    ).toBe(true);
    expect(answers[0]!.status).toBeGreaterThanOrEqual(500);
    expect(answers.some(isSuccess), "Slack was told it was done").toBe(true);
  }, 150_000);
});
