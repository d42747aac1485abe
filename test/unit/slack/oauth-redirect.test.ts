// The install's redirect URL is public: what comes back in its `error` is anyone's typing, and it reaches a log line.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import { finishInstall } from "../../../shared/inbound/slack/oauth";
import type { StorageClients } from "../../../shared/storage/clients";
import { validSettings } from "../../fixtures/settings";

const config = loadConfig(
  validSettings({ SLACK_CLIENT_ID: "123.456", SLACK_CLIENT_SECRET: "secret", SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543" }),
);
// Answered before any state check or token exchange: storage is never reached.
const noStorage = undefined as unknown as StorageClients;

describe("Slack's OAuth redirect with an error", () => {
  it("a cancelled install says so", async () => {
    expect(await finishInstall({ config, storage: noStorage }, { error: "access_denied" }, undefined)).toEqual({
      ok: false,
      status: 400,
      reason: "The install was cancelled in Slack.",
    });
  });

  it("an error code is named; typed text is kept to an error code's characters and length (no forged log lines)", async () => {
    expect(await finishInstall({ config, storage: noStorage }, { error: "invalid_team_for_non_distributed_app" }, undefined)).toMatchObject({
      reason: "Slack said: invalid_team_for_non_distributed_app.",
    });
    const forged = `x\n2026-12-07T03:00:00Z Slack install completed for admin@example.com ${"y".repeat(500)}`;
    const answer = await finishInstall({ config, storage: noStorage }, { error: forged }, undefined);
    expect(answer).toMatchObject({ ok: false, status: 400 });
    expect((answer as { reason: string }).reason).toMatch(/^Slack said: [\w.?-]{60}\.$/);
  });
});
