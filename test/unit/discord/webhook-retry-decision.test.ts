// Which failures of an interaction-webhook request are tried again, and after how long. An edit of @original is
// idempotent: any transient failure is tried again. A followup (POST) is a new message: tried again only when it
// can't have been posted (no connection made, a 429, Discord's 502 "no gateway available, retry").
import { describe, expect, it } from "vitest";
import { RETRY_BUDGET_MS, retryWaitMs, type WebhookFailure } from "../../../shared/discord/interaction-webhook";

/** A failed fetch as undici reports it: TypeError("fetch failed") with the socket error as its cause. */
const networkFailure = (code: string): WebhookFailure => ({
  kind: "unanswered",
  error: new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) }),
});
const timedOut: WebhookFailure = { kind: "unanswered", error: new DOMException("The operation was aborted due to timeout", "TimeoutError") };
const status = (code: number, discordCode = 0): WebhookFailure => ({ kind: "error", status: code, code: discordCode, message: "x" });
const unknownWebhook = status(404, 10015);
const throttled = (seconds: number): WebhookFailure => ({ kind: "throttled", retryAfterSeconds: seconds, global: false, sent: true });

const edit = { idempotent: true, failedAttempts: 1, elapsedMs: 0 };
const followup = { idempotent: false, failedAttempts: 1, elapsedMs: 0 };

describe("retrying an interaction-webhook request", () => {
  it.each([
    ["a 500", status(500)],
    ["a 502", status(502)],
    ["a 503", status(503)],
    ["a 504", status(504)],
    ["a reset before any answer", networkFailure("ECONNRESET")],
    ["a connection closed before any answer", networkFailure("UND_ERR_SOCKET")],
    ["a timeout before any answer", timedOut],
    ["a refused connection", networkFailure("ECONNREFUSED")],
    ["a DNS failure", networkFailure("ENOTFOUND")],
  ])("an edit of the original message is tried again after %s", (_, failure) => {
    expect(retryWaitMs(failure, edit)).toBeGreaterThan(0);
  });

  it.each([
    ["a refused connection", networkFailure("ECONNREFUSED")],
    ["a DNS failure", networkFailure("ENOTFOUND")],
    ["a DNS lookup that timed out", networkFailure("EAI_AGAIN")],
    ["a connect timeout", networkFailure("UND_ERR_CONNECT_TIMEOUT")],
    ["an unreachable network", networkFailure("ENETUNREACH")],
    ["Discord's 502 (no gateway available: wait a bit and retry)", status(502)],
  ])("a followup is sent again after %s: it can't have been posted", (_, failure) => {
    expect(retryWaitMs(failure, followup)).toBeGreaterThan(0);
  });

  it("a refused connection is recognised when the error comes as an AggregateError (several addresses tried)", () => {
    const refused = Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), { code: "ECONNREFUSED" });
    expect(retryWaitMs({ kind: "unanswered", error: new TypeError("fetch failed", { cause: refused }) }, followup)).toBeGreaterThan(0);
  });

  it.each([
    ["a 500", status(500)],
    ["a 503", status(503)],
    ["a 504", status(504)],
    ["a reset before any answer", networkFailure("ECONNRESET")],
    ["a connection closed before any answer", networkFailure("UND_ERR_SOCKET")],
    ["a timeout before any answer", timedOut],
  ])("a followup is not sent again after %s: it may have been posted, and would show twice", (_, failure) => {
    expect(retryWaitMs(failure, followup)).toBeUndefined();
  });

  it.each([
    ["404 Unknown Webhook (the token expired)", unknownWebhook],
    ["400", status(400, 50035)],
    ["401", status(401)],
    ["403", status(403, 50001)],
  ])("%s is final, for an edit and a followup", (_, failure) => {
    expect(retryWaitMs(failure, edit)).toBeUndefined();
    expect(retryWaitMs(failure, followup)).toBeUndefined();
  });

  it("a 429 is waited out for its retry_after, for an edit and a followup (a 429 was not acted on)", () => {
    expect(retryWaitMs(throttled(1.5), edit)).toBe(1_500);
    expect(retryWaitMs(throttled(1.5), followup)).toBe(1_500);
  });

  it("a 429 whose wait runs past the budget is final: the card refresh redraws the copy later", () => {
    expect(retryWaitMs(throttled(RETRY_BUDGET_MS / 1000 + 1), edit)).toBeUndefined();
  });

  it("backs off briefly and more each time, within a cap, with jitter", () => {
    const waits = (random: number) =>
      [1, 2, 3, 4, 5, 6, 7].map((failedAttempts) => retryWaitMs(status(503), { ...edit, failedAttempts }, () => random)!);
    const shortest = waits(0);
    const longest = waits(1);
    expect(longest[0]).toBeLessThanOrEqual(500);
    for (let i = 1; i < longest.length; i++) expect(longest[i]).toBeGreaterThanOrEqual(longest[i - 1]!);
    expect(Math.max(...longest)).toBeLessThanOrEqual(4_000);
    shortest.forEach((wait, i) => expect(wait).toBeGreaterThanOrEqual(longest[i]! / 2));
  });

  it("no try starts after the budget: the answer is left to the card refresh (a copy) or given up (a followup)", () => {
    expect(retryWaitMs(status(503), { ...edit, elapsedMs: RETRY_BUDGET_MS - 100 }, () => 1)).toBeUndefined();
    expect(retryWaitMs(networkFailure("ECONNREFUSED"), { ...followup, elapsedMs: RETRY_BUDGET_MS })).toBeUndefined();
    // Well inside the 15 minutes an interaction token lives.
    expect(RETRY_BUDGET_MS).toBeLessThanOrEqual(60_000);
  });
});
