import { QueueServiceClient } from "@azure/storage-queue";
import { TableClient } from "@azure/data-tables";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { IN_MEMORY_PRELOAD, startAzurite } from "../../dev/azurite";
import { startTestAzurite } from "../support/azurite";

describe("startAzurite", () => {
  it("starts on random ports with a connection string both storage SDKs accept, and stops", async () => {
    const azurite = await startTestAzurite();
    try {
      expect(azurite.queueEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
      const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
      await queues.getQueueClient("probe").create();
      expect((await queues.getQueueClient("probe").getProperties()).approximateMessagesCount).toBe(0);

      const table = TableClient.fromConnectionString(azurite.connectionString, "probe", { allowInsecureConnection: true });
      await table.createTable();
      await table.createEntity({ partitionKey: "p", rowKey: "r", value: 1 });
      expect((await table.getEntity("p", "r")).value).toBe(1);
    } finally {
      await azurite.stop();
    }
    await expect(fetch(azurite.queueEndpoint)).rejects.toThrow();
    await azurite.stop(); // idempotent
  });

  it("rejects in-memory persistence combined with a location, as Azurite would", async () => {
    await expect(startAzurite({ inMemory: true, location: ".azurite" })).rejects.toThrow(/cannot be combined/);
  });

  it("puts an in-memory Azurite's queue garbage collection off to the end of its run (it stalls the emulator for seconds)", () => {
    const interval = (preload: string[]) =>
      Number(
        execFileSync(process.execPath, [...preload, "-p", 'require("azurite/dist/src/queue/utils/constants").DEFAULT_GC_INTERVAL_MS'], {
          encoding: "utf8",
        }),
      );
    expect(interval([])).toBe(60_000);
    expect(interval(["--require", IN_MEMORY_PRELOAD])).toBeGreaterThanOrEqual(24 * 3600 * 1000);
  });
});
