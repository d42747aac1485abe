import { QueueServiceClient } from "@azure/storage-queue";
import { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { startAzurite } from "../../dev/azurite";
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
});
