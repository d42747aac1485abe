import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { readCookie, zodPath } from "../../../shared/http";

describe("zodPath", () => {
  it("names where a value failed its schema and what was expected, never the value", () => {
    const parsed = z.object({ user: z.object({ id: z.string() }) }).safeParse({ user: { id: 12345 } });
    expect(parsed.success).toBe(false);
    const reason = zodPath(parsed.error!);
    expect(reason).toMatch(/^user\.id: /);
    expect(reason).not.toContain("12345");
  });

  it("a failure at the root says (root)", () => {
    expect(zodPath(z.string().safeParse(1).error!)).toMatch(/^\(root\): /);
  });
});

describe("readCookie", () => {
  const request = (cookie?: string) => new HttpRequest({ method: "GET", url: "http://localhost/x", headers: cookie ? { cookie } : {} });

  it("finds one cookie among several, and nothing when it isn't there", () => {
    expect(readCookie(request("a=1; triage_link_session=abc.def; b=2"), "triage_link_session")).toBe("abc.def");
    expect(readCookie(request("a=1"), "triage_link_session")).toBeUndefined();
    expect(readCookie(request(), "triage_link_session")).toBeUndefined();
    expect(readCookie(request("xtriage_link_session=1"), "triage_link_session")).toBeUndefined();
  });
});
