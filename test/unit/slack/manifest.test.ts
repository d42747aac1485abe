import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SLACK_BOT_SCOPES } from "../../../shared/inbound/slack/oauth";

const manifest = parse(readFileSync(resolve(__dirname, "../../../infra/slack-app-manifest.yaml"), "utf8"));

describe("the Slack app manifest matches the app", () => {
  it("asks for exactly the scopes the install flow requests", () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...SLACK_BOT_SCOPES].sort());
  });

  it("points every request URL at the app's routes", () => {
    expect(manifest.settings.interactivity.request_url).toMatch(/\/api\/slack\/interactions$/);
    expect(manifest.settings.event_subscriptions.request_url).toMatch(/\/api\/slack\/events$/);
    expect(manifest.features.slash_commands[0]).toMatchObject({ command: "/triage", url: expect.stringMatching(/\/api\/slack\/commands$/) });
    expect(manifest.oauth_config.redirect_urls).toEqual([expect.stringMatching(/\/api\/slack\/oauth_redirect$/)]);
  });

  it("subscribes to the uninstall events and turns on token rotation", () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(expect.arrayContaining(["app_uninstalled", "tokens_revoked"]));
    expect(manifest.settings.token_rotation_enabled).toBe(true);
  });
});
