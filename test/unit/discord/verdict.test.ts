import { describe, expect, it } from "vitest";
import { verdict } from "../../../shared/delivery/discord-sender";

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
