// What the clicked Discord message shows once a late edit of it (`@original`) is over, which decides how its copy is
// recorded: shown at the version the last try drew; unknown when a failed try may still have been carried out (the
// copy is then redrawn by the card refresh); untouched when Discord can't have carried any of it out.
import { describe, expect, it } from "vitest";
import type { WebhookFailure } from "../../../shared/discord/interaction-webhook";
import { clickedCopyAfterEdit } from "../../../shared/inbound/discord/clicked-card";

const networkFailure = (code: string): WebhookFailure => ({
  kind: "unanswered",
  error: new TypeError("fetch failed", { cause: Object.assign(new Error(code), { code }) }),
});
const timedOut: WebhookFailure = { kind: "unanswered", error: new DOMException("The operation was aborted due to timeout", "TimeoutError") };
const status = (code: number, discordCode = 0): WebhookFailure => ({ kind: "error", status: code, code: discordCode, message: "x" });

describe("the clicked copy after its edit", () => {
  it("an edit that went through shows the version its last try drew", () => {
    expect(clickedCopyAfterEdit({ kind: "ok", status: 200, body: {} } as never, 7)).toEqual({ kind: "shows", version: 7 });
  });

  it.each([
    ["a 500", status(500)],
    ["a 503", status(503)],
    ["a reset before any answer", networkFailure("ECONNRESET")],
    ["a connection closed before any answer", networkFailure("UND_ERR_SOCKET")],
    ["a timeout", timedOut],
  ])("an edit whose last try ended in %s may have been carried out: unknown, so the card is redrawn", (_, failure) => {
    expect(clickedCopyAfterEdit(failure, 7)).toEqual({ kind: "unknown" });
  });

  it.each([
    ["a 404 Unknown Webhook (the token expired)", status(404, 10015)],
    ["a 502 (no gateway available to process the request)", status(502)],
    ["a 429", { kind: "throttled", retryAfterSeconds: 30, global: false, sent: true } satisfies WebhookFailure],
    ["a refused connection", networkFailure("ECONNREFUSED")],
    ["a DNS failure", networkFailure("ENOTFOUND")],
  ])("an edit whose last try ended in %s changed nothing: untouched", (_, failure) => {
    expect(clickedCopyAfterEdit(failure, 7)).toEqual({ kind: "untouched" });
  });
});
