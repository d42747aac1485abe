import { describe, expect, it } from "vitest";
import { verdict } from "../../../shared/delivery/discord-sender";
import { DiscordRest } from "../../../shared/discord/rest";
import { freePort } from "../../support/ports";

const error = (status: number, code?: number) => ({ kind: "error" as const, status, ...(code === undefined ? {} : { code }), message: "refused" });

describe("what a failed Discord call means for the copy", () => {
  it.each([
    [404, 10003],
    [404, 10008],
    [403, 50001],
    [403, 50007],
  ])("%i with Discord's code %i: gone, the copy is dead", (status, code) => {
    expect(verdict(error(status, code), 1, "posting").kind).toBe("dead");
  });

  it.each([401, 400, 413, 500])("%i without a 'gone' code: retried within the attempts, not taken for a gone channel", (status) => {
    expect(verdict(error(status), 1, "posting").kind).toBe("retry");
  });
});

describe("a Discord call that got no answer", () => {
  const timedOut = { kind: "unanswered" as const, error: new DOMException("The operation was aborted due to timeout", "TimeoutError") };

  it("the post itself: it may have landed, so the retry is ambiguous", () => {
    expect(verdict(timedOut, 1, "post the card", { posting: true })).toMatchObject({ kind: "retry", ambiguous: true });
  });

  it.each(["look up the channel", "open the DM", "edit the card"])("%s: no card can have been posted, a plain retry", (doing) => {
    const outcome = verdict(timedOut, 1, doing);
    expect(outcome.kind).toBe("retry");
    expect(outcome).not.toHaveProperty("ambiguous");
  });

  it("the post refused a connection: it never left, a plain retry", async () => {
    const rest = new DiscordRest({ apiUrl: `http://127.0.0.1:${await freePort()}/api/v10`, botToken: "t" });
    const refused = await rest.request("POST", "/channels/1100000000000000001/messages", { content: "hi" });
    expect(refused.kind).toBe("unanswered");
    const outcome = verdict(refused as Exclude<typeof refused, { kind: "ok" }>, 1, "post the card", { posting: true });
    expect(outcome).toMatchObject({ kind: "retry", reason: "could not reach Discord to post the card" });
    expect(outcome).not.toHaveProperty("ambiguous");
  });
});
