import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ROTATING_TOKEN_TTL_SEC, startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { loadConfig } from "../../shared/config";
import { sendSlackCard } from "../../shared/delivery/slack-sender";
import { slackClient, SlackTokens } from "../../shared/slack/client";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import type { StorageClients } from "../../shared/storage/clients";
import { anIssue } from "../fixtures/issues";
import { validSettings } from "../fixtures/settings";
import { useTestStorage } from "../support/test-storage";
import { createTeamsServices } from "../../shared/teams/services";
import { testContext } from "../support/app-context";

let slack: SlackEmulator;
let storage: StorageClients;

useTestStorage((started) => ({ storage } = started));
beforeAll(async () => {
  slack = await startSlackEmulator({ signingSecret: "s", clientId: "1.2", clientSecret: "client-secret" });
});
afterAll(async () => {
  await slack?.stop();
});
afterEach(() => {
  slack.clearFaults();
  slack.setRotatingTokenTtl(ROTATING_TOKEN_TTL_SEC);
});

function appConfig() {
  return loadConfig(
    validSettings({
      SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543",
      SLACK_CLIENT_ID: "1.2",
      SLACK_CLIENT_SECRET: "client-secret",
      SLACK_API_URL: slack.apiUrl,
    }),
  );
}

function tokens() {
  return new SlackTokens(appConfig().slack!, storage);
}

/** One app instance's sender: its own token cache, as in another process. */
function instance() {
  const config = appConfig();
  return { ...testContext({ config, storage, teams: createTeamsServices(config).connector }), slack: tokens() };
}

/** A workspace whose rotating tokens live `ttlSec`, installed as the install flow stores it. */
async function rotatingWorkspace(name: string, ttlSec: number) {
  slack.setRotatingTokenTtl(ttlSec);
  const workspace = slack.addWorkspace({ name, rotation: true });
  await new SlackInstallations(storage).save({
    teamId: workspace.teamId,
    botToken: workspace.botToken,
    refreshToken: workspace.refreshToken,
    expiresAt: new Date(Date.now() + ttlSec * 1000).toISOString(),
    tokenLifetimeSec: ttlSec,
    active: true,
    updatedAt: new Date().toISOString(),
  });
  return workspace;
}

describe("Slack token rotation", () => {
  it("refreshes a token about to expire once, even when many callers ask at the same moment", async () => {
    const workspace = slack.addWorkspace({ name: "Rotating", rotation: true });
    await new SlackInstallations(storage).save({
      teamId: workspace.teamId,
      botToken: workspace.botToken,
      refreshToken: workspace.refreshToken,
      expiresAt: new Date(Date.now() + 60 * 60_000).toISOString(),
      active: true,
      updatedAt: new Date().toISOString(),
    });
    slack.clearCalls();
    const provider = tokens();
    const results = await Promise.all(Array.from({ length: 5 }, () => provider.forTeam(workspace.teamId)));

    expect(slack.callsTo("oauth.v2.access")).toHaveLength(1);
    const stored = (await new SlackInstallations(storage).get(workspace.teamId))!;
    expect(stored.refreshToken).not.toBe(workspace.refreshToken);
    expect(Date.parse(stored.expiresAt!) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    for (const token of new Set(results)) {
      expect(
        (
          await slackClient(
            loadConfig(validSettings({ SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543", SLACK_API_URL: slack.apiUrl })).slack!,
            token,
          ).auth.test()
        ).ok,
      ).toBe(true);
    }
    // The refresh token was single-use: the stored one is the one that works next time.
    expect(await tokens().forTeam(workspace.teamId)).toBe(stored.botToken);
  });

  it("a token far from expiry is used as it is", async () => {
    const workspace = slack.addWorkspace({ name: "Fresh", rotation: true });
    await new SlackInstallations(storage).save({
      teamId: workspace.teamId,
      botToken: workspace.botToken,
      refreshToken: workspace.refreshToken,
      expiresAt: new Date(Date.now() + 11 * 3_600_000).toISOString(),
      active: true,
      updatedAt: new Date().toISOString(),
    });
    slack.clearCalls();
    expect(await tokens().forTeam(workspace.teamId)).toBe(workspace.botToken);
    expect(slack.callsTo("oauth.v2.access")).toHaveLength(0);
  });

  it("an inactive installation gives no token", async () => {
    const workspace = slack.addWorkspace({ name: "Gone" });
    await new SlackInstallations(storage).save({
      teamId: workspace.teamId,
      botToken: workspace.botToken,
      active: false,
      inactiveReason: "app uninstalled",
      updatedAt: new Date().toISOString(),
    });
    await expect(tokens().forTeam(workspace.teamId)).rejects.toThrow(/inactive \(app uninstalled\)/);
  });

  it("single-workspace mode: SLACK_BOT_TOKEN serves its own workspace without an install, and only that one", async () => {
    const workspace = slack.addWorkspace({ name: "Solo" });
    const config = loadConfig(
      validSettings({ SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543", SLACK_BOT_TOKEN: workspace.botToken, SLACK_API_URL: slack.apiUrl }),
    );
    const solo = new SlackTokens(config.slack!, storage);
    expect(await solo.forTeam(workspace.teamId)).toBe(workspace.botToken);
    await expect(solo.forTeam("T0SOMEONEELSE")).rejects.toThrow(/not installed/);
  });

  it("after a quiet spell past expiry, 10 concurrent sends from two instances to 10 channels all post, and the workspace stays on", async () => {
    const workspace = await rotatingWorkspace("Quiet night", 3);
    const channels = Array.from({ length: 10 }, (_, n) => slack.addChannel(workspace.teamId, { name: `alerts-${n}` }).id);
    await sleep(3_500);
    slack.setRotatingTokenTtl(ROTATING_TOKEN_TTL_SEC);
    // The refresh takes a while (Slack under load): the instances that lose the lease must wait for it.
    slack.injectError({ method: "oauth.v2.access", delayMs: 1_500 });
    slack.clearCalls();
    const [first, second] = [instance(), instance()];
    const outcomes = await Promise.all(
      channels.map((channel, n) =>
        sendSlackCard(
          n % 2 ? first : second,
          anIssue({ id: `quiet-${n}` }),
          { provider: "slack", teamId: workspace.teamId, channel },
          `slack:${channel}`,
          1,
          { deliveryId: `quiet-${n}` },
        ),
      ),
    );

    expect(outcomes.map((o) => o.kind)).toEqual(Array(10).fill("sent"));
    for (const channel of channels) expect(slack.messages(channel)).toHaveLength(1);
    expect(await new SlackInstallations(storage).get(workspace.teamId)).toMatchObject({ active: true });
    expect(slack.callsTo("oauth.v2.access")).toHaveLength(1);
  });

  it("a token Slack calls expired before the row says so is refreshed and the call repeated: the card is posted, the workspace stays on", async () => {
    const workspace = await rotatingWorkspace("Early expiry", ROTATING_TOKEN_TTL_SEC);
    const channel = slack.addChannel(workspace.teamId, { name: "alerts" }).id;
    slack.expireToken(workspace.botToken);
    const outcome = await sendSlackCard(
      instance(),
      anIssue({ id: "early" }),
      { provider: "slack", teamId: workspace.teamId, channel },
      `slack:${channel}`,
      1,
      { deliveryId: "rotation" },
    );

    expect(outcome.kind).toBe("sent");
    expect(slack.messages(channel)).toHaveLength(1);
    const stored = (await new SlackInstallations(storage).get(workspace.teamId))!;
    expect(stored).toMatchObject({ active: true });
    expect(stored.botToken).not.toBe(workspace.botToken);
  });

  it("an installation switched off for token_expired (by an earlier version) comes back on its next refresh", async () => {
    const workspace = await rotatingWorkspace("Switched off", 3);
    await new SlackInstallations(storage).deactivate(workspace.teamId, "token_expired");
    const channel = slack.addChannel(workspace.teamId, { name: "alerts" }).id;
    const outcome = await sendSlackCard(
      instance(),
      anIssue({ id: "revived" }),
      { provider: "slack", teamId: workspace.teamId, channel },
      `slack:${channel}`,
      1,
      { deliveryId: "rotation" },
    );

    expect(outcome.kind).toBe("sent");
    expect(await new SlackInstallations(storage).get(workspace.teamId)).toMatchObject({ active: true, inactiveReason: "" });
    expect(await tokens().serves(workspace.teamId)).toBe(true);
  });

  it("an uninstall is still an uninstall: a refresh does not bring that back", async () => {
    const workspace = await rotatingWorkspace("Uninstalled", 3);
    await new SlackInstallations(storage).deactivate(workspace.teamId, "app uninstalled");
    await expect(tokens().forTeam(workspace.teamId)).rejects.toThrow(/inactive \(app uninstalled\)/);
    expect(await new SlackInstallations(storage).get(workspace.teamId)).toMatchObject({ active: false });
  });
});
