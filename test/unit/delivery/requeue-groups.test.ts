import { describe, expect, it } from "vitest";
import { deliveryMessages } from "../../../shared/storage/deliveries";
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

describe("a batch of deliveries on the queue", () => {
  const longTarget = (n: number) => {
    const conversationId = `19:${String(n).padStart(4, "0")}${"x".repeat(303)}@thread.tacv2`;
    return { targetKey: `msteams:${conversationId}`, target: { provider: "msteams" as const, conversationId } };
  };

  it("goes out in as many messages as it takes for each to fit a queue message, every target once", () => {
    const batch = { alertId: "a1", issueId: "i1", targets: Array.from({ length: 250 }, (_, n) => longTarget(n)), notify: "regressed" as const };
    const messages = deliveryMessages(batch);
    for (const message of messages) {
      expect(Buffer.from(JSON.stringify(message)).toString("base64").length).toBeLessThanOrEqual(65_536);
      expect(message).toMatchObject({ alertId: "a1", issueId: "i1", notify: "regressed" });
    }
    expect(messages.flatMap((message) => message.targets)).toEqual(batch.targets);
  });

  it("short targets go 100 to a message", () => {
    const targets = Array.from({ length: 250 }, (_, n) => ({ targetKey: `slack:T0001:C${n}`, target }));
    expect(deliveryMessages({ alertId: "a1", issueId: "i1", targets }).map((message) => message.targets.length)).toEqual([100, 100, 50]);
  });
});
