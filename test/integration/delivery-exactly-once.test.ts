// The "exactly once" rule for posts (README, issue 10 items 11 and 16) and what delivery logs may say (item 10).
// The app's delivery workflow runs in this process against Azurite and the Teams and Slack emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../dev/emulators/slack";
import type { TeamsEmulator } from "../../dev/emulators/teams";
import { DEFAULT_BOT_SCOPES } from "../../dev/emulators/slack/world";
import { DeliveryRepository, deliveryId, type DeliveryMessage } from "../../shared/storage/deliveries";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { targetKey, type AlertTarget } from "../../shared/domain/alert";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository } from "../../shared/storage/cards";
import { StorageClients, TABLES } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { safeKey } from "../../shared/storage/table";
import { deliver } from "../../shared/workflows/deliver";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import { anIssue } from "../fixtures/issues";
import type { AppContext } from "../../shared/context";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace, installInTeamsChannels } from "../support/installations";
import { waitFor } from "../support/wait";

let app: EmulatedApp;
let slack: SlackEmulator;
let teams: TeamsEmulator;
let storage: StorageClients;
let deliverer: AppContext;
const logged: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "delivery",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000d011", tenantId: "72f988bf-0000-4000-8000-000000000003" },
  });
  ({ teams, slack, storage } = app);
  deliverer = app.context({ log: (line) => logged.push(line) });
});
afterAll(async () => {
  await app?.stop();
});

/** A stored issue and a planned delivery of one alert of it to `target`, as alert intake leaves them. */
async function planned(name: string, target: AlertTarget): Promise<DeliveryMessage> {
  const issueId = `exactly-${name}`;
  await new IssueRepository(storage).change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] }));
  const message: DeliveryMessage = { alertId: `alert-${name}`, issueId, targetKey: targetKey(target), target };
  await new DeliveryRepository(storage).plan(message.alertId, issueId, message.targetKey, target);
  return message;
}

async function slackChannel(name: string): Promise<{ teamId: string; channel: string }> {
  // The history scope lets a retry look for what an unanswered post may have left (README: "Exactly once").
  const workspace = slack.addWorkspace({ name, scopes: [...DEFAULT_BOT_SCOPES, "channels:history"] });
  await installInSlackWorkspace(storage, workspace);
  return { teamId: workspace.teamId, channel: slack.addChannel(workspace.teamId, { name: `alerts-${name.toLowerCase()}` }).id };
}

async function teamsChannel(name: string): Promise<string> {
  const team = teams.addTeam({ name, members: [] });
  await installInTeamsChannels(storage, teams, [team.generalChannelId]);
  return team.generalChannelId;
}

/** Pretends the consumer that took the delivery died while posting, two minutes ago. */
async function diedWhilePosting(message: DeliveryMessage): Promise<void> {
  const table = await storage.table(TABLES.deliveries);
  await table.updateEntity(
    {
      partitionKey: safeKey(message.alertId),
      rowKey: safeKey(message.targetKey),
      state: "sending",
      attempts: 1,
      sendingSince: new Date(Date.now() - 120_000).toISOString(),
    },
    "Merge",
  );
}

const SLOWER_THAN_THE_CLIENT_TIMEOUT_MS = 10_500;

describe("a post whose answer never came is not posted twice where the platform can be asked", () => {
  it("Slack: a post slower than the client timeout is found by its metadata on the retry, not posted again", async () => {
    const { teamId, channel } = await slackChannel("Slow");
    const message = await planned("slack-slow", { provider: "slack", teamId, channel });
    slack.injectError({ method: "chat.postMessage", channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });

    expect(await deliver(deliverer, message)).toBe("retry");
    // The post landed after the client had given up on it.
    await waitFor(() => slack.messages(channel).some((m) => !m.ephemeral), { description: "the slow post landed" });
    expect(await deliver(deliverer, message)).toBe("sent");

    const posted = slack.messages(channel).filter((m) => !m.ephemeral);
    expect(posted).toHaveLength(1);
    const row = (await new DeliveryRepository(storage).get(message.alertId, message.targetKey))!;
    expect(row).toMatchObject({ state: "sent", unconfirmed: 1, reposted: 0, messageRef: `${channel}/${posted[0]!.ts}` });
    expect(row.decision).toMatch(/found the card/);
  });

  it("Slack: a look-up that is rate limited waits, and finds the card then: no second card", async () => {
    const { teamId, channel } = await slackChannel("Slow Lookup");
    const message = await planned("slack-slow-lookup", { provider: "slack", teamId, channel });
    slack.injectError({ method: "chat.postMessage", channel, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS });
    expect(await deliver(deliverer, message)).toBe("retry");
    await waitFor(() => slack.messages(channel).some((m) => !m.ephemeral), { description: "the slow post landed" });

    slack.injectError({ method: "conversations.history", channel, error: "ratelimited", retryAfterSec: 3 });
    expect(await deliver(deliverer, message)).toBe("retry");
    const waiting = (await new DeliveryRepository(storage).get(message.alertId, message.targetKey))!;
    expect(waiting).toMatchObject({ state: "pending", reposted: 0 });
    expect(waiting.reason).toMatch(/rate limited/);

    expect(await deliver(deliverer, message)).toBe("sent");
    expect(slack.messages(channel).filter((m) => !m.ephemeral)).toHaveLength(1);
  });

  it("Slack: after a crash mid-post, the card the dead instance posted is adopted and kept up to date", async () => {
    const { teamId, channel } = await slackChannel("Crash");
    const message = await planned("slack-crash", { provider: "slack", teamId, channel });
    // The instance that died had posted the card, and never recorded it.
    const issue = (await new IssueRepository(storage).get(message.issueId))!.issue;
    const identities = new IdentityRepository(storage);
    const orphan = await sendSlackCard(
      { ...deliverer, slack: deliverer.slack!, identities },
      issue,
      message.target as Extract<AlertTarget, { provider: "slack" }>,
      message.targetKey,
      1,
      {
        deliveryId: deliveryId(message.alertId, message.targetKey),
      },
    );
    expect(orphan.kind).toBe("sent");
    await diedWhilePosting(message);

    expect(await deliver(deliverer, message)).toBe("sent");
    expect(slack.messages(channel).filter((m) => !m.ephemeral)).toHaveLength(1);
    // The orphan is now the live copy: a change reaches it.
    await new IssueRepository(storage).change(message.issueId, (current) => ({
      issue: { ...current!.issue, status: "resolved", version: current!.issue.version + 1 },
      activities: [],
    }));
    await refreshCards({ ...deliverer }, { issueId: message.issueId, version: 2, requestedAt: new Date().toISOString() });
    const [copy] = await new CardRepository(storage).list(message.issueId);
    expect(copy).toMatchObject({ renderedVersion: 2 });
    expect(slack.messages(channel)[0]!.updates).toBeGreaterThan(0);
  });
});

describe("Teams can't be asked: one counted re-post at most", () => {
  it("a post slower than the client timeout is posted once more, recorded as a possible duplicate, and never a third time", async () => {
    const conversationId = await teamsChannel("Slow Teams");
    const message = await planned("teams-slow", { provider: "msteams", conversationId });
    teams.injectFault({ operation: "send", conversationId, status: 200, delayMs: SLOWER_THAN_THE_CLIENT_TIMEOUT_MS, times: 2 });

    expect(await deliver(deliverer, message)).toBe("retry");
    expect(await deliver(deliverer, message)).toBe("retry");
    // Two posts whose answers never came, and both landed: the third attempt doesn't post.
    await waitFor(() => teams.messages(conversationId).length === 2, { description: "both slow posts landed" });
    expect(await deliver(deliverer, message)).toBe("dead");

    expect(teams.messages(conversationId)).toHaveLength(2);
    const row = (await new DeliveryRepository(storage).get(message.alertId, message.targetKey))!;
    expect(row).toMatchObject({ state: "dead", unconfirmed: 2, reposted: 1 });
    expect(row.reason).toMatch(/^unconfirmed: .*may be there/);
  }, 40_000);

  it("after a crash mid-post the re-post is recorded as a possible duplicate", async () => {
    const conversationId = await teamsChannel("Crash Teams");
    const message = await planned("teams-crash", { provider: "msteams", conversationId });
    await diedWhilePosting(message);

    expect(await deliver(deliverer, message)).toBe("sent");
    const row = (await new DeliveryRepository(storage).get(message.alertId, message.targetKey))!;
    expect(row).toMatchObject({ state: "sent", unconfirmed: 1, reposted: 1 });
    expect(row.decision).toMatch(/may be a duplicate/);
  });
});

describe("a delivery redone after its card was recorded", () => {
  it("a regression's new card is not posted again: the one recorded is its card", async () => {
    const conversationId = await teamsChannel("Redone Regression");
    const message = { ...(await planned("teams-redone-regression", { provider: "msteams", conversationId })), notify: "regressed" as const };
    expect(await deliver(deliverer, message)).toBe("sent");
    // The instance recorded the card, then died before the delivery's outcome was written: the message comes back.
    await diedWhilePosting(message);

    expect(await deliver(deliverer, message)).toBe("sent");
    expect(teams.messages(conversationId)).toHaveLength(1);
  });
});

describe("delivery logs name no person", () => {
  it("a delivery to an email nobody in Teams has logs the kind of target and a hash, never the email", async () => {
    const message = await planned("teams-nobody", { provider: "msteams", userEmail: "nobody.special@contoso.com" });
    logged.length = 0;
    expect(await deliver(deliverer, message)).toBe("dead");
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join("\n")).not.toMatch(/nobody\.special|@contoso/);
    expect(logged.join("\n")).toMatch(/msteams:person#[0-9a-f]{12}/);
    // Stored for people to read, the reason is as discreet.
    expect((await new DeliveryRepository(storage).get(message.alertId, message.targetKey))!.reason).not.toMatch(/nobody\.special/);
  });
});
