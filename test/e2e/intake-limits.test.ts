import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ALERT_JSON_BYTES, type Alert } from "../../shared/domain/alert";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

describe("alerts at the size limits, through the local host running the built bundle", () => {
  it("the largest alert a queue message holds becomes an issue, at the first try", async () => {
    // 20 tags of 1,000 quote marks (escaped: more than one Table property holds), the description filling up the rest.
    const tags = Object.fromEntries(Array.from({ length: 20 }, (_, n) => [`tag-${n}`, '"'.repeat(1000)]));
    const alert: Alert = anAlert({ alertId: "e2e-largest", issue: { id: "e2e-largest", tags, description: "" } });
    alert.issue.description = "d".repeat(MAX_ALERT_JSON_BYTES - bytes(alert));
    expect(bytes(alert)).toBe(MAX_ALERT_JSON_BYTES);

    await sendBase64Json(stack.azurite.connectionString, "alerts", alert);
    const stored = await waitFor(() => new IssueRepository(stack.storage).get("e2e-largest"), { timeoutMs: 30_000 });
    expect(stored.issue.description).toBe(alert.issue.description);
    expect(Object.keys(stored.issue.tags).length).toBeGreaterThan(0);
    expect(await messageCount(stack.azurite.connectionString, "alerts-poison")).toBe(0);
    expect(stack.host.logs().join("\n")).not.toMatch(/PropertyValueTooLarge/);
  });

  it("20 alerts each adding 10 new 1,000-character tags to one issue are all taken", async () => {
    for (let n = 1; n <= 20; n++) {
      const tags = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`a${n}-t${k}`, "v".repeat(1000)]));
      const lastSeen = new Date(Date.parse("2026-11-21T14:00:00Z") + n * 60_000).toISOString();
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({ alertId: `e2e-growing-${n}`, issue: { id: "e2e-growing", count: 100 + n, lastSeen, tags } }),
      );
    }
    const stored = await waitFor(
      async () => {
        const issue = await new IssueRepository(stack.storage).get("e2e-growing");
        return issue && issue.recentAlertIds.length === 20 ? issue : undefined;
      },
      { timeoutMs: 40_000 },
    );
    expect(stored.issue.count).toBe(120);
    expect(stored.issue.version).toBe(20);
    expect(await messageCount(stack.azurite.connectionString, "alerts-poison")).toBe(0);
  }, 60_000);
});
