// "@Triage Relay help" can only be answered if Slack sends the app its mentions: the manifest subscribes to
// app_mention, and both the manifest and the install flow ask for the scope Slack sends it under.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SLACK_BOT_SCOPES } from "../../../shared/inbound/slack/oauth";

const manifest = parse(readFileSync(resolve(__dirname, "../../../infra/slack-app-manifest.yaml"), "utf8"));

describe("the Slack app hears when it is mentioned", () => {
  it("subscribes to app_mention under app_mentions:read, in the manifest and at install", () => {
    expect(manifest.settings.event_subscriptions.bot_events).toContain("app_mention");
    expect(manifest.oauth_config.scopes.bot).toContain("app_mentions:read");
    expect(SLACK_BOT_SCOPES).toContain("app_mentions:read");
  });
});
