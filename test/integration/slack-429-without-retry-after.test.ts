// Slack throttling with a 429 that carries no Retry-After (notes/slack.md §13: wait 10 s when it is absent).
// @slack/web-api throws a plain Error for it rather than its rate-limited error; it is still only "slow down":
// the card, its updates, thread lines and notices wait 10 s and never use up an attempt of their failure budget.
// The app's workflows run in this process against Azurite and the Slack emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_BOT_SCOPES } from "../../dev/emulators/slack/world";
import type { SlackContext } from "../../shared/context";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { postSlackThreadReply, sendSlackPersonalNotice, updateSlackCard } from "../../shared/delivery/slack-sender";
import { MAX_DELIVERY_ATTEMPTS } from "../../shared/delivery/retry-policy";
import { CardRepository, type CardCopy } from "../../shared/storage/cards";
import { DeliveryRepository, type DeliveryMessage } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { deliver } from "../../shared/workflows/deliver";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let deliverer: SlackContext;
const logged: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "slack-429-no-retry-after",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d429", tenantId: "72f988bf-0000-4000-8000-000000000429" },
  });
  deliverer = app.context({ log: (line) => logged.push(line) });
});
afterAll(async () => {
  await app?.stop();
});

const WAIT_WHEN_ABSENT_SECONDS = 10;
const SLOWER_THAN_THE_CLIENT_TIMEOUT_MS = 10_500;

async function slackChannel(name: string): Promise<{ provider: "slack"; teamId: string; channel: string }> {
  const workspace = app.slack.addWorkspace({ name, scopes: [...DEFAULT_BOT_SCOPES, "channels:history"] });
  await installInSlackWorkspace(app.storage, workspace);
  return { provider: "slack", teamId: workspace.teamId, channel: app.slack.addChannel(workspace.teamId, { name: name.toLowerCase() }).id };
}

async function planned(name: string, target: AlertTarget): Promise<DeliveryMessage> {
  const issueId = `no-retry-after-${name}`;
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const message: DeliveryMessage = { alertId: `alert-${name}`, issueId, targetKey: targetKey(target), target };
  await new DeliveryRepository(app.storage).plan(message.alertId, issueId, message.targetKey, target);
  return message;
}

const cardsIn = (channel: string) => app.slack.messages(channel).filter((m) => !m.ephemeral && !m.threadTs);

/** The delay a line of the delivery log gave its retry, in seconds. */
function retryDelays(label: string): number[] {
  return logged
    .filter((line) => line.includes(label))
    .flatMap((line) => /retry in (\d+)s/.exec(line)?.[1] ?? [])
    .map(Number);
}

describe("a card post answered 429 without Retry-After", () => {
  it("waits 10 s each time without spending attempts, and the card is posted once Slack lets it through", async () => {
    const target = await slackChannel("Throttled");
    const message = await planned("card", target);
    app.slack.injectError({
      method: "chat.postMessage",
      channel: target.channel,
      error: "ratelimited",
      withoutRetryAfter: true,
      times: MAX_DELIVERY_ATTEMPTS,
    });

    for (let n = 0; n < MAX_DELIVERY_ATTEMPTS; n++) expect(await deliver(deliverer, message)).toBe("retry");
    expect(await deliver(deliverer, message)).toBe("sent");

    expect(cardsIn(target.channel)).toHaveLength(1);
    const row = (await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!;
    expect(row).toMatchObject({ state: "sent", attempts: 1, unconfirmed: 0 });
    const delays = retryDelays(message.alertId);
    expect(delays).toHaveLength(MAX_DELIVERY_ATTEMPTS);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(WAIT_WHEN_ABSENT_SECONDS);
  });

  it("a look-up for an unanswered post that is throttled so waits, and adopts the card then: no second card", async () => {
    const target = await slackChannel("Lookup");
    const message = await planned("lookup", target);
    app.slack.injectError({ method: "chat.postMessage", channel: target.channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });
    expect(await deliver(deliverer, message)).toBe("retry");
    await waitFor(() => cardsIn(target.channel).length === 1, { description: "the slow post landed" });

    app.slack.injectError({ method: "conversations.history", channel: target.channel, error: "ratelimited", withoutRetryAfter: true });
    expect(await deliver(deliverer, message)).toBe("retry");
    const waiting = (await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!;
    expect(waiting).toMatchObject({ state: "pending", reposted: 0 });
    expect(waiting.reason).toMatch(/rate limited/);
    expect(retryDelays(message.alertId).at(-1)).toBeGreaterThanOrEqual(WAIT_WHEN_ABSENT_SECONDS);

    expect(await deliver(deliverer, message)).toBe("sent");
    expect(cardsIn(target.channel)).toHaveLength(1);
  });
});

describe("the card's other Slack calls answered 429 without Retry-After wait 10 s, their attempt given back", () => {
  let target: { provider: "slack"; teamId: string; channel: string };
  let issueId: string;
  let copy: Extract<CardCopy, { provider: "slack" }>;

  beforeAll(async () => {
    target = await slackChannel("Card Calls");
    const message = await planned("card-calls", target);
    issueId = message.issueId;
    expect(await deliver(deliverer, message)).toBe("sent");
    copy = (await new CardRepository(app.storage).list(issueId))[0] as Extract<CardCopy, { provider: "slack" }>;
  });

  const issue = async () => (await new IssueRepository(app.storage).get(issueId))!.issue;
  const throttledFor10s = { kind: "retry", throttled: true, delaySeconds: expect.toSatisfy((s: number) => s >= WAIT_WHEN_ABSENT_SECONDS) };

  it("the card's update", async () => {
    app.slack.injectError({ method: "chat.update", channel: target.channel, error: "ratelimited", withoutRetryAfter: true });
    expect(await updateSlackCard(deliverer, await issue(), copy, MAX_DELIVERY_ATTEMPTS)).toMatchObject(throttledFor10s);
    expect(await updateSlackCard(deliverer, await issue(), copy, 1)).toEqual({ kind: "updated" });
  });

  it("a thread line", async () => {
    app.slack.injectError({ method: "chat.postMessage", channel: target.channel, error: "ratelimited", withoutRetryAfter: true });
    const line = { text: "Alice resolved this", replyBroadcast: false };
    expect(await postSlackThreadReply(deliverer, copy, line, MAX_DELIVERY_ATTEMPTS)).toMatchObject(throttledFor10s);
    expect(await postSlackThreadReply(deliverer, copy, line, 1)).toEqual({ kind: "sent" });
    expect(app.slack.messages(target.channel).filter((m) => m.threadTs === copy.ts)).toHaveLength(1);
  });

  it("a personal notice", async () => {
    const alice = app.slack.addUser(target.teamId, { name: "alice" }).id;
    const where = { teamId: target.teamId, slackUserId: alice, targetKey: `slack:person:${alice}` };
    const notice = { text: "You were assigned", withCard: false };
    app.slack.injectError({ method: "chat.postMessage", error: "ratelimited", withoutRetryAfter: true });
    expect(await sendSlackPersonalNotice(deliverer, await issue(), where, notice, MAX_DELIVERY_ATTEMPTS)).toMatchObject(throttledFor10s);
    expect(await sendSlackPersonalNotice(deliverer, await issue(), where, notice, 1)).toMatchObject({ kind: "sent" });
  });
});
