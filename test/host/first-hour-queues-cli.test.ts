// `npm run queues`: what is waiting, what was set aside and why, and putting one back.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAlert } from "../../shared/domain/alert";
import { StorageClients } from "../../shared/storage/clients";
import { poisonFor } from "../../shared/workflows/intake-result";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { messageCount, sendBase64Json } from "../support/queues";

const ROOT = resolve(__dirname, "..", "..");
let azurite: Azurite;

beforeAll(async () => {
  azurite = await startTestAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

async function queuesCli(...args: string[]): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(ROOT, "dev", "queues.ts"), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AzureWebJobsStorage: azurite.connectionString },
  });
  return stdout + stderr;
}

describe("npm run queues", () => {
  it("lists every queue and poison queue, each poison message with its reason, and re-queues one", async () => {
    const original = JSON.stringify({ schemaVersion: 1, alertId: "a-1", targets: [{ provider: "msteams", conversationId: "team-id" }] });
    const parsed = parseAlert(original);
    if (parsed.ok) throw new Error("expected a bad alert");
    const storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
    await storage.send("alerts-poison", poisonFor(parsed.error, parsed.issues, original));
    await sendBase64Json(azurite.connectionString, "deliveries", { waiting: true });
    await sendBase64Json(azurite.connectionString, "deliveries-poison", { failed: "every time" });

    const listing = await queuesCli();
    expect(listing).toMatch(/alerts\s+\(none\)\s+alerts-poison\s+1/);
    expect(listing).toMatch(/deliveries\s+1\s+deliveries-poison\s+1/);
    expect(listing).toContain("a Teams conversation id such as 19:");
    expect(listing).toContain("failed on every try");
    expect(listing).not.toContain("team-id"); // reasons, never the message itself

    const [poisoned] = (await new QueueClient(azurite.connectionString, "alerts-poison").peekMessages()).peekedMessageItems;
    expect(listing).toContain(poisoned!.messageId);
    expect(await queuesCli("--requeue", "alerts-poison", poisoned!.messageId)).toContain("moved from alerts-poison back to alerts");
    expect(await messageCount(azurite.connectionString, "alerts-poison")).toBe(0);
    const [back] = (await new QueueClient(azurite.connectionString, "alerts").peekMessages()).peekedMessageItems;
    expect(Buffer.from(back!.messageText, "base64").toString("utf8")).toBe(original);
  });
});
