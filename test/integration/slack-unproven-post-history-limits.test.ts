// The retry of a card post that got no answer looks for the card before posting again (README: "Exactly once").
// Here under Slack's lower conversations.history limits for a distributed app not on the Marketplace (Slack
// changelog 2025-05-29: 1 request a minute, at most 15 messages a page): the look-up asks only for what came since
// the unanswered attempt, pages with the cursor, and a throttled page means "wait and look again", never a second card.
// The app's delivery workflow runs in this process against Azurite and a Slack emulator on a manual clock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createManualClock,
  NON_MARKETPLACE_HISTORY_LIMIT,
  startSlackEmulator,
  type ManualClock,
  type SlackEmulator,
} from "../../dev/emulators/slack";
import { DEFAULT_BOT_SCOPES } from "../../dev/emulators/slack/world";
import { loadConfig } from "../../shared/config";
import type { SlackContext } from "../../shared/context";
import { targetKey } from "../../shared/domain/alert";
import { SlackTokens } from "../../shared/slack/client";
import { CARD_METADATA_TYPE, postAppMessage } from "../../shared/delivery/slack-sender";
import { DeliveryRepository, deliveryId, type DeliveryMessage } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { deliver } from "../../shared/workflows/deliver";
import { anIssue } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let clock: ManualClock;
let slack: SlackEmulator;
let deliverer: SlackContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "slack-history-limits",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d015", tenantId: "72f988bf-0000-4000-8000-000000000015" },
  });
  // The app's Slack is an emulator of this test's own: one whose minutes pass when the test says so.
  clock = createManualClock(Date.now());
  slack = await startSlackEmulator({
    signingSecret: "history-limits-signing-secret-0001",
    enforceRateLimits: false,
    historyAccess: "non-marketplace",
    clock,
  });
  const config = loadConfig({
    ...app.settings,
    SLACK_API_URL: slack.apiUrl,
    SLACK_CLIENT_ID: slack.clientId,
    SLACK_CLIENT_SECRET: slack.clientSecret,
  });
  deliverer = { ...app.context(), slack: new SlackTokens(config.slack!, app.storage) };
});
afterAll(async () => {
  await slack?.stop();
  await app?.stop();
});

const SLOWER_THAN_THE_CLIENT_TIMEOUT_MS = 10_500;
const LOOKBACK_WITHOUT_A_START_SECONDS = 2 * 3600;

type SlackTarget = { provider: "slack"; teamId: string; channel: string };

async function slackChannel(name: string): Promise<{ target: SlackTarget; botUserId: string }> {
  const workspace = slack.addWorkspace({ name, scopes: [...DEFAULT_BOT_SCOPES, "channels:history"] });
  await installInSlackWorkspace(app.storage, workspace);
  const channel = slack.addChannel(workspace.teamId, { name: name.toLowerCase(), botIsMember: true }).id;
  return { target: { provider: "slack", teamId: workspace.teamId, channel }, botUserId: workspace.botUserId };
}

async function planned(name: string, target: SlackTarget): Promise<DeliveryMessage> {
  const issueId = `history-limits-${name}`;
  await new IssueRepository(app.storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const message: DeliveryMessage = { alertId: `alert-${name}`, issueId, targetKey: targetKey(target), target };
  await new DeliveryRepository(app.storage).plan(message.alertId, issueId, message.targetKey, target);
  return message;
}

const botMessagesIn = (channel: string, botUserId: string) => slack.messages(channel).filter((m) => m.user === botUserId && !m.ephemeral);

// First in the file: the emulator's message timestamps only ever grow, so the card stamped three hours ago goes first.
describe("an unanswered card post made by another instance, hours ago", () => {
  it("is looked for from when the delivery began failing (its row), not only the last two hours: adopted, never posted twice", async () => {
    const { target, botUserId } = await slackChannel("Earlier");
    const message = await planned("earlier", target);
    // Three hours ago another instance's post got no answer, yet landed; this process never saw that attempt.
    const threeHoursAgo = Date.now() - 3 * 3600_000;
    clock.set(threeHoursAgo);
    const client = await deliverer.slack.client(target.teamId);
    await postAppMessage(
      client,
      target.channel,
      { text: "the card", blocks: [] },
      {
        event_type: CARD_METADATA_TYPE,
        event_payload: { delivery: deliveryId(message.alertId, message.targetKey) },
      },
    );
    await new DeliveryRepository(app.storage).updateMany(
      message.alertId,
      new Map([[message.targetKey, { unconfirmed: 1, attempts: 1, failingSince: new Date(threeHoursAgo).toISOString() }]]),
    );
    clock.set(Date.now());

    expect(await deliver(deliverer, message)).toBe("sent");
    expect(botMessagesIn(target.channel, botUserId)).toHaveLength(1);
    expect((await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!.decision).toMatch(/found the card/);
  }, 40_000);
});

describe("an unanswered card post, looked up under the non-Marketplace conversations.history limits", () => {
  it("pages past a busy channel's newest 15 messages a minute at a time, adopts the card, and never posts a second", async () => {
    const { target, botUserId } = await slackChannel("Busy");
    const message = await planned("busy", target);
    clock.set(Date.now());
    const attemptBegan = Date.now();
    slack.injectError({ method: "chat.postMessage", channel: target.channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });
    expect(await deliver(deliverer, message)).toBe("retry");
    await waitFor(() => botMessagesIn(target.channel, botUserId).length === 1, { description: "the slow post landed" });

    // People talk in the channel meanwhile: the card is no longer among its newest 15 messages.
    const alice = slack.addUser(target.teamId, { name: "alice" }).id;
    for (let n = 0; n < 20; n++) {
      clock.advance(1000);
      slack.addMessage(target.channel, { user: alice, text: `looking into it ${n}` });
    }

    // The first page holds only people's messages; the next one, within the same minute, is refused.
    expect(await deliver(deliverer, message)).toBe("retry");
    const waiting = (await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!;
    expect(waiting).toMatchObject({ state: "pending", reposted: 0 });
    expect(waiting.reason).toMatch(/rate limited/);
    expect(botMessagesIn(target.channel, botUserId)).toHaveLength(1);

    clock.advance(60_000);
    expect(await deliver(deliverer, message)).toBe("sent");
    expect(botMessagesIn(target.channel, botUserId)).toHaveLength(1);
    const row = (await new DeliveryRepository(app.storage).get(message.alertId, message.targetKey))!;
    expect(row).toMatchObject({ state: "sent", unconfirmed: 1, reposted: 0 });
    expect(row.decision).toMatch(/found the card/);

    const lookups = slack.callsTo("conversations.history").filter((c) => c.params.channel === target.channel);
    for (const lookup of lookups) {
      expect(Number(lookup.params.limit)).toBeLessThanOrEqual(NON_MARKETPLACE_HISTORY_LIMIT);
      // Only what came since the unanswered attempt began, not the last two hours.
      expect(Number(lookup.params.oldest)).toBeGreaterThan(attemptBegan / 1000 - LOOKBACK_WITHOUT_A_START_SECONDS / 2);
      expect(Number(lookup.params.oldest)).toBeLessThanOrEqual(attemptBegan / 1000);
    }
  }, 40_000);
});
