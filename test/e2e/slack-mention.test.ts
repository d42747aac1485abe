// "@Triage Relay help" in a channel gets an answer, only to the person who asked (Sentry's Teams bot ignored
// mentions, help and link: peers.md, #119486). The answer is sent off Slack's 3-second path, so a slow Slack or a
// slow storage account never makes Slack retry it into a second answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StoredMessage } from "../../dev/emulators/slack";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { startSlowStorage, type SlowStorage } from "../support/slow-storage";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
/** The app's tables are behind it (its queues are not): storage slower than Slack's 3 s when a test says so. */
let tables: SlowStorage;
let host: HostProcess;
let teamId: string;
let ana: string;

const endpointIn = (connectionString: string, name: "TableEndpoint") => new RegExp(`${name}=([^;]+)`).exec(connectionString)![1]!;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  tables = await startSlowStorage(stack.azurite);
  await stack.host.stop();
  const azurite = stack.azurite;
  const storage = azurite.connectionString.replace(
    `TableEndpoint=${azurite.tableEndpoint}`,
    `TableEndpoint=${endpointIn(tables.connectionString, "TableEndpoint")}`,
  );
  host = await startHostProcess({ env: { ...stack.env, AzureWebJobsStorage: storage }, port: Number(new URL(stack.env.PUBLIC_BASE_URL!).port) });
}, 120_000);
afterAll(async () => {
  await host?.stop();
  await tables?.stop();
  await stack?.stop();
});

const events = () => `${host.url}/api/slack/events`;

/** What the app said in the channel only to `user`. */
const answersTo = (channel: string, user: string) => stack.slack.messages(channel).filter((m) => m.ephemeral?.user === user);

async function answerTo(channel: string, user: string): Promise<StoredMessage> {
  const [answer] = await waitFor(() => (answersTo(channel, user).length ? answersTo(channel, user) : undefined), {
    description: `an answer to ${user} in ${channel}`,
  });
  return answer!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("mentioning the app in Slack", () => {
  it('"@Triage Relay help" in a channel: the help, in the channel, seen only by the person who asked', async () => {
    const channel = stack.slack.addChannel(teamId, { name: "ops" }).id;

    const answer = await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user: ana, channel, text: "help" }));

    expect(answer.timedOut, "Slack would count a timeout").toBe(false);
    expect(answer.status).toBe(200);
    const help = await answerTo(channel, ana);
    expect(help.text).toMatch(/`\/triage subscribe PROJECT/);
    expect(help.threadTs).toBeUndefined();
    // Nothing everyone in the channel sees.
    expect(stack.slack.messages(channel).filter((m) => m.user !== ana && !m.ephemeral)).toEqual([]);
  });

  it("a mention in a thread is answered in that thread", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "incidents" }).id;
    const parent = stack.slack.addMessage(channel, { user: ana, text: "checkout is down again" });

    await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user: ana, channel, text: "help", threadTs: parent.ts }));

    const help = await answerTo(channel, ana);
    expect(help.threadTs).toBe(parent.ts);
    expect(help.text).toMatch(/`\/triage subscribe PROJECT/);
  });

  it("a mention with other words points to the command", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "checkout" }).id;

    await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user: ana, channel, text: "resolve CHECKOUT-12 please" }));

    expect((await answerTo(channel, ana)).text).toMatch(/`\/triage help`/);
  });

  it("mentions by another app's bot and by the app itself get no answer", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "deploys" }).id;
    const deployBot = stack.slack.addUser(teamId, { name: "deploybot", isBot: true }).id;
    const itself = stack.slack.users(teamId).find((u) => u.isBot && u.name === "triage-relay")!.id;
    const cai = stack.slack.addUser(teamId, { name: "cai", realName: "Cai Ng", email: "cai@contoso.com" }).id;

    for (const user of [deployBot, itself]) {
      const answer = await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user, channel, text: "help" }));
      expect(answer.status).toBe(200);
    }
    // A person's mention sent after them is answered: by then the bots' would have been too.
    await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user: cai, channel, text: "help" }));
    await answerTo(channel, cai);
    await sleep(1_000);

    expect(stack.slack.messages(channel).filter((m) => m.ephemeral && m.ephemeral.user !== cai)).toEqual([]);
  });

  it("Slack slower than its own 3 s to take the answer: the mention is still acknowledged in time, and answered", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "payments" }).id;
    stack.slack.injectError({ method: "chat.postEphemeral", delayMs: 4_000 });
    try {
      const answer = await stack.slack.sendEvent(events(), stack.slack.appMention({ teamId, user: ana, channel, text: "help" }));
      expect(answer.timedOut, "Slack would count a timeout").toBe(false);
      expect(answer.status).toBe(200);
      expect((await answerTo(channel, ana)).text).toMatch(/`\/triage subscribe PROJECT/);
    } finally {
      stack.slack.clearFaults();
    }
  });

  it("storage slower than Slack's 3 s: Slack sends the mention again meanwhile, and the person still gets one answer", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "search" }).id;
    const envelope = stack.slack.appMention({ teamId, user: ana, channel, text: "help" });

    tables.setDelay(3_500);
    let first;
    let retried;
    try {
      first = await stack.slack.sendEvent(events(), envelope);
      retried = await stack.slack.sendEvent(events(), envelope, { retryNum: 1, retryReason: "http_error" });
    } finally {
      tables.setDelay(0);
    }
    expect(first.timedOut || retried.timedOut, "Slack would count a timeout").toBe(false);
    // Not done when answered: Slack is told so, and sends it again.
    expect(first.status).toBeGreaterThanOrEqual(500);
    expect(retried.status).toBeGreaterThanOrEqual(500);

    await answerTo(channel, ana);
    // Slack's next retry, a minute later in Slack, finds it done.
    const later = await stack.slack.sendEvent(events(), envelope, { retryNum: 2, retryReason: "http_error" });
    expect(later.status).toBe(200);
    await sleep(2_000);
    expect(answersTo(channel, ana)).toHaveLength(1);
  }, 60_000);
});
