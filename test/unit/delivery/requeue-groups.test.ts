import { describe, expect, it } from "vitest";
import { groupByDelay } from "../../../shared/workflows/deliver";

const target = { provider: "slack" as const, teamId: "T0001", channel: "C0001" };
const retry = (targetKey: string, delaySeconds: number, slotAt?: number) => ({ targetKey, target, delaySeconds, ...(slotAt ? { slotAt } : {}) });

describe("retries going back on the deliveries queue", () => {
  it("share a message when their delays are close: the message waits for the longest", () => {
    const groups = groupByDelay([retry("a", 40), retry("b", 48), retry("c", 100)]);
    expect(groups.map((g) => [g.delaySeconds, g.targets.map((t) => t.targetKey)])).toEqual([
      [48, ["a", "b"]],
      [100, ["c"]],
    ]);
  });

  it("a retry promised a slot only shares a message due within a second of it: later, it would come back too late for its slot", () => {
    const now = 1_800_000_000_000;
    const groups = groupByDelay([retry("a", 40, now + 40_000), retry("b", 41, now + 41_000), retry("c", 48, now + 48_000), retry("d", 48)]);
    expect(groups.map((g) => [g.delaySeconds, g.targets.map((t) => t.targetKey)])).toEqual([
      [41, ["a", "b"]],
      [48, ["c", "d"]],
    ]);
  });
});
