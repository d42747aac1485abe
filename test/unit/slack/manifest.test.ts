import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SLACK_BOT_SCOPES } from "../../../shared/inbound/slack/oauth";

/** The bot scopes under which Slack sends each event (any one of them), from docs.slack.dev/reference/events. */
const EVENT_SCOPES: Record<string, string[]> = {
  app_mention: ["app_mentions:read"],
  app_uninstalled: [],
  tokens_revoked: [],
  channel_left: ["channels:read"],
  group_left: ["groups:read"],
  member_left_channel: ["channels:read", "groups:read"],
  member_joined_channel: ["channels:read", "groups:read"],
  channel_archive: ["channels:read"],
  channel_unarchive: ["channels:read"],
  channel_deleted: ["channels:read"],
  group_archive: ["groups:read"],
  group_unarchive: ["groups:read"],
  group_deleted: ["groups:read"],
  user_change: ["users:read"],
  user_profile_changed: ["users:read"],
};

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

  it("hears when the app leaves a channel, is invited back, or the channel is archived, unarchived or deleted", () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(
      expect.arrayContaining([
        "channel_left",
        "group_left",
        "member_left_channel",
        "member_joined_channel",
        "channel_archive",
        "channel_unarchive",
        "channel_deleted",
        "group_archive",
        "group_unarchive",
        "group_deleted",
      ]),
    );
  });

  it("hears when a person's Slack account changes (their email, a deactivation)", () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(expect.arrayContaining(["user_change"]));
  });

  it("asks for a scope that lets Slack send each event it subscribes to", () => {
    const scopes: string[] = manifest.oauth_config.scopes.bot;
    for (const event of manifest.settings.event_subscriptions.bot_events as string[]) {
      const needs = EVENT_SCOPES[event];
      expect(needs, `the scopes ${event} needs are known to this test`).toBeDefined();
      if (needs!.length > 0)
        expect(
          needs!.some((scope) => scopes.includes(scope)),
          `${event} needs one of ${needs!.join(", ")}`,
        ).toBe(true);
    }
  });

  it("subscribes to the uninstall events and turns on token rotation", () => {
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(expect.arrayContaining(["app_uninstalled", "tokens_revoked"]));
    expect(manifest.settings.token_rotation_enabled).toBe(true);
  });
});
