import { describe, expect, it } from "vitest";
import { classifySlackError } from "../../../shared/delivery/slack-sender";

const platformError = (error: string) => ({ code: "slack_webapi_platform_error", data: { ok: false, error } });

describe("Slack errors about the workspace's token", () => {
  it.each(["token_expired", "invalid_refresh_token"])("%s: try again shortly (the token is refreshed), never switch the workspace off", (error) => {
    const verdict = classifySlackError(platformError(error), 1, new Set());
    expect(verdict.kind).toBe("retry");
  });

  it.each(["token_revoked", "invalid_auth", "account_inactive"])("%s: the installation is dead", (error) => {
    expect(classifySlackError(platformError(error), 1, new Set()).kind).toBe("dead-installation");
  });
});
