import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { BodyTooLargeError, readBody } from "../../../shared/http";

const post = (body: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: "POST", url: "http://localhost/api/x", body: { string: body }, headers });

describe("reading a request body with a limit", () => {
  it("returns the exact text under the limit", async () => {
    expect(await readBody(post("héllo"), 10)).toBe("héllo");
  });

  it("refuses a body over the limit by its bytes, even when Content-Length says otherwise", async () => {
    await expect(readBody(post("x".repeat(11)), 10)).rejects.toBeInstanceOf(BodyTooLargeError);
    await expect(readBody(post("x".repeat(11), { "content-length": "3" }), 10)).rejects.toBeInstanceOf(BodyTooLargeError);
  });

  it("refuses at once when Content-Length is over the limit", async () => {
    await expect(readBody(post("x", { "content-length": "999999" }), 10)).rejects.toBeInstanceOf(BodyTooLargeError);
  });
});
