import { describe, expect, it } from "vitest";
import { classifySlackError, DEAD_TARGET_ERRORS } from "../../../shared/delivery/slack-sender";
import { SlidingWindowLimiter, TEAMS_CONVERSATION_LIMITS } from "../../../shared/delivery/pacing";
import { backoffSeconds, countsAsAttempt, MAX_DELIVERY_ATTEMPTS, retryDelay } from "../../../shared/delivery/retry-policy";
import { classify } from "../../../shared/delivery/teams-sender";
import { ConnectorError, errorCode, retryAfter, UntrustedServiceUrlError } from "../../../shared/teams/connector";

describe("backoff", () => {
  it("grows exponentially with full jitter, never below a second, capped at five minutes", () => {
    expect(backoffSeconds(1, () => 0)).toBe(1);
    expect(backoffSeconds(1, () => 0.999)).toBe(2);
    expect(backoffSeconds(4, () => 0.999)).toBe(16);
    expect(backoffSeconds(30, () => 0.999)).toBe(300);
    const spread = new Set(Array.from({ length: 50 }, () => backoffSeconds(6)));
    expect(spread.size).toBeGreaterThan(5);
  });

  it("a Retry-After from the service wins, plus up to 20% jitter", () => {
    expect(retryDelay(1, 10, () => 0)).toBe(10);
    expect(retryDelay(1, 10, () => 0.999)).toBe(12);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(retryAfter("7")).toBe(7);
    expect(retryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThan(28);
    expect(retryAfter(null)).toBeUndefined();
    expect(retryAfter("soon")).toBeUndefined();
  });
});

describe("Teams pacing", () => {
  it("lets 7 sends through in a second, then waits for the windows (7/1 s, 8/2 s)", () => {
    let now = 0;
    const limiter = new SlidingWindowLimiter(TEAMS_CONVERSATION_LIMITS, () => now);
    for (let i = 0; i < 7; i++) {
      expect(limiter.delayFor("c")).toBe(0);
      limiter.record("c");
    }
    expect(limiter.delayFor("c")).toBe(1000);
    now = 1000;
    limiter.record("c");
    expect(limiter.delayFor("c")).toBe(1000);
    expect(limiter.delayFor("another conversation")).toBe(0);
  });

  it("reports a long wait instead of sleeping through it", async () => {
    const limiter = new SlidingWindowLimiter([{ ms: 60_000, limit: 1 }]);
    expect(await limiter.acquire("c", 100)).toEqual({ ok: true });
    expect(await limiter.acquire("c", 100)).toMatchObject({ ok: false, retryInSeconds: 60 });
  });
});

describe("classifying Bot Connector failures", () => {
  const failure = (status: number, code?: string, retryAfterSec?: number) => new ConnectorError(status, code, retryAfterSec, "send");

  it.each([429, 412, 500, 502, 503, 504])("%i is retried", (status) => {
    expect(classify(failure(status), 1).kind).toBe("retry");
  });

  it("429 waits as long as Retry-After says", () => {
    expect(classify(failure(429, "Throttled", 30), 1)).toMatchObject({ kind: "retry", delaySeconds: expect.any(Number) });
    const verdict = classify(failure(429, "Throttled", 30), 1);
    expect(verdict.kind === "retry" && verdict.delaySeconds).toBeGreaterThanOrEqual(30);
  });

  it.each([
    [403, "BotNotInConversationRoster"],
    [403, "MessageWritesBlocked"],
    [404, "ConversationNotFound"],
  ])("%i %s: the bot can't post there any more", (status, code) => {
    expect(classify(failure(status, code), 1)).toEqual({ kind: "dead-installation", reason: `HTTP ${status} ${code}` });
  });

  it("a 400 or 413 is retried within the attempts, never taken for a gone conversation (a dead copy is replaced by a second card)", () => {
    expect(classify(failure(400, "BadSyntax"), 1).kind).toBe("retry");
    expect(classify(failure(413, "MessageSizeTooBig"), 1, "update").kind).toBe("retry");
  });

  it("an untrusted service URL is never retried", () => {
    expect(classify(new UntrustedServiceUrlError("evil.example"), 1).kind).toBe("dead");
  });

  it("a network error is retried", () => {
    expect(classify(new TypeError("fetch failed"), 1).kind).toBe("retry");
  });

  it("reads the sub code Teams hides inside a JSON string for blocked bots", () => {
    const body = JSON.stringify({
      errorCode: 209,
      message: '{\r\n  "subCode": "MessageWritesBlocked", "details": "Thread is blocked from message writes."}',
    });
    expect(errorCode(body)).toBe("MessageWritesBlocked");
    expect(errorCode(JSON.stringify({ error: { code: "ConversationNotFound" } }))).toBe("ConversationNotFound");
    expect(errorCode("<html>")).toBeUndefined();
  });
});

describe("classifying Slack failures", () => {
  const platform = (error: string) => Object.assign(new Error(error), { code: "slack_webapi_platform_error", data: { error } });
  const dead = DEAD_TARGET_ERRORS;

  it.each(["channel_not_found", "not_in_channel", "is_archived", "user_disabled", "user_not_visible"])("%s: the target is dead", (error) => {
    expect(classifySlackError(platform(error), 1, dead)).toEqual({ kind: "dead", reason: error });
  });

  it.each(["account_inactive", "token_revoked", "invalid_auth"])("%s: the installation is dead", (error) => {
    expect(classifySlackError(platform(error), 1, dead)).toEqual({ kind: "dead-installation", reason: error });
  });

  it("a 429 is retried after Retry-After", () => {
    const limited = Object.assign(new Error("rate limited"), { code: "slack_webapi_rate_limited_error", retryAfter: 12 });
    const verdict = classifySlackError(limited, 1, dead);
    expect(verdict.kind === "retry" && verdict.delaySeconds).toBeGreaterThanOrEqual(12);
  });

  it.each(["internal_error", "fatal_error", "non_json_response", "team_added_to_org"])("Slack-side failure %s is retried", (error) => {
    expect(classifySlackError(platform(error), 1, dead).kind).toBe("retry");
  });

  it("an error this code doesn't know is retried, never taken for a target that is gone", () => {
    expect(classifySlackError(platform("an_error_slack_added_later"), 1, dead)).toMatchObject({
      kind: "retry",
      reason: "an_error_slack_added_later",
    });
  });

  it("a free workspace's message cap is waited out (minutes), like a rate limit: it never uses up the attempts", () => {
    const verdict = classifySlackError(platform("message_limit_exceeded"), MAX_DELIVERY_ATTEMPTS, dead);
    expect(verdict).toMatchObject({ kind: "retry", throttled: true });
    expect(verdict.kind === "retry" && verdict.delaySeconds).toBeGreaterThanOrEqual(900);
    expect(countsAsAttempt(verdict)).toBe(false);
  });
});

describe("a failed card update", () => {
  it("404 on one message: that copy is dead, the conversation is not", () => {
    expect(classify(new ConnectorError(404, "NotFound", undefined, "update"), 1, "update")).toEqual({ kind: "dead", reason: "HTTP 404 NotFound" });
  });

  it("the conversation itself gone: the installation is dead", () => {
    expect(classify(new ConnectorError(404, "ConversationNotFound", undefined, "update"), 1, "update").kind).toBe("dead-installation");
  });
});
