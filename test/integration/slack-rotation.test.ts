import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { loadConfig } from "../../shared/config";
import { slackClient, SlackTokens } from "../../shared/slack/client";
import { SlackInstallations } from "../../shared/slack/installations";
import { StorageClients } from "../../shared/storage/clients";
import { validSettings } from "../fixtures/settings";
import { startTestAzurite, type Azurite } from "../support/azurite";

let azurite: Azurite;
let slack: SlackEmulator;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await startTestAzurite();
  slack = await startSlackEmulator({ signingSecret: "s", clientId: "1.2", clientSecret: "client-secret" });
  storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), slack?.stop()]);
});

function tokens() {
  const config = loadConfig(validSettings({ SLACK_SIGNING_SECRET: "s", SLACK_CLIENT_ID: "1.2", SLACK_CLIENT_SECRET: "client-secret", SLACK_API_URL: slack.apiUrl }));
  return new SlackTokens(config.slack!, storage);
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
      expect((await slackClient(loadConfig(validSettings({ SLACK_SIGNING_SECRET: "s", SLACK_API_URL: slack.apiUrl })).slack!, token).auth.test()).ok).toBe(true);
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
    await new SlackInstallations(storage).save({ teamId: workspace.teamId, botToken: workspace.botToken, active: false, inactiveReason: "app uninstalled", updatedAt: new Date().toISOString() });
    await expect(tokens().forTeam(workspace.teamId)).rejects.toThrow(/inactive \(app uninstalled\)/);
  });

  it("single-workspace mode: SLACK_BOT_TOKEN serves its own workspace without an install, and only that one", async () => {
    const workspace = slack.addWorkspace({ name: "Solo" });
    const config = loadConfig(validSettings({ SLACK_SIGNING_SECRET: "s", SLACK_BOT_TOKEN: workspace.botToken, SLACK_API_URL: slack.apiUrl }));
    const solo = new SlackTokens(config.slack!, storage);
    expect(await solo.forTeam(workspace.teamId)).toBe(workspace.botToken);
    await expect(solo.forTeam("T0SOMEONEELSE")).rejects.toThrow(/not installed/);
  });
});
