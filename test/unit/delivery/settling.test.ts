import { describe, expect, it } from "vitest";
import { SETTLE_MS } from "../../../shared/delivery/pacing";
import { settlesIn } from "../../../shared/workflows/deliver";
import { anIssue } from "../../fixtures/issues";

describe("settlesIn: whether a card posted now will soon need an update", () => {
  const now = Date.parse("2026-12-06T10:00:00Z");
  const writtenSecondsAgo = (seconds: number) => new Date(now - seconds * 1000).toISOString();

  it("an issue changed again moments ago is still changing, until SETTLE_MS after that write", () => {
    expect(settlesIn({ issue: { ...anIssue(), version: 3 }, writtenAt: writtenSecondsAgo(2) }, now)).toBe(SETTLE_MS - 2000);
  });

  it("an issue quiet for SETTLE_MS has settled", () => {
    expect(settlesIn({ issue: { ...anIssue(), version: 3 }, writtenAt: writtenSecondsAgo(SETTLE_MS / 1000) }, now)).toBe(0);
  });

  it("a new issue created moments ago may still change (a storm's issues are all new at first)", () => {
    expect(settlesIn({ issue: { ...anIssue(), version: 1 }, writtenAt: writtenSecondsAgo(3) }, now)).toBe(SETTLE_MS - 3000);
  });

  it("a row read without its write time counts as settled", () => {
    expect(settlesIn({ issue: { ...anIssue(), version: 5 } }, now)).toBe(0);
  });
});
