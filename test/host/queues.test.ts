// Queue triggers against Azurite, with the fixture host.json: batchSize 2, newBatchThreshold 1,
// maxDequeueCount 3, no retry delay, polling at most every 500 ms.
import { join } from "node:path";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { drain, messageCount, sendBase64Json, sendRawText, waitForMessages } from "../support/queues";
import { waitFor } from "../support/wait";
import { callsOf, fixtureApp, startFixtureHost, type FixtureHost } from "./fixture";

const QUEUES = ["work", "work-poison", "fails", "fails-poison"];

let azurite: Azurite;
let host: FixtureHost | undefined;
let storage: string;

beforeAll(async () => {
  azurite = await startTestAzurite();
  storage = azurite.connectionString;
  process.env.AzureWebJobsStorage = storage;
});

afterAll(async () => {
  await azurite?.stop();
});

beforeEach(async () => {
  fixtureApp.reset();
  for (const queue of QUEUES) await drain(storage, queue);
});

afterEach(async () => {
  await host?.stop();
  host = undefined;
});

const base64 = (text: string) => Buffer.from(text).toString("base64");

async function start(options: Parameters<typeof startFixtureHost>[0] = {}): Promise<FixtureHost> {
  host = await startFixtureHost(options);
  return host;
}

describe("a message that succeeds", () => {
  it("is passed as parsed JSON with the trigger metadata, then deleted", async () => {
    await start();
    await sendBase64Json(storage, "work", { alertId: "a-1", n: 1 });

    const [call] = await waitFor(() => callsOf("work").length === 1 && callsOf("work"));
    expect(call!.input).toEqual({ alertId: "a-1", n: 1 });
    expect(call!.triggerMetadata).toMatchObject({
      id: expect.any(String),
      dequeueCount: 1,
      popReceipt: expect.any(String),
      queueTrigger: '{"alertId":"a-1","n":1}',
    });
    for (const time of ["insertionTime", "expirationTime", "nextVisibleTime"]) {
      expect(new Date(call!.triggerMetadata[time] as string).getTime()).not.toBeNaN();
    }
    await waitFor(async () => (await messageCount(storage, "work")) === 0, { description: "work queue empty" });
  });

  it("is passed as a string when it isn't JSON", async () => {
    await start();
    await sendRawText(storage, "work", base64("just text"));
    const [call] = await waitFor(() => callsOf("work").length === 1 && callsOf("work"));
    expect(call!.input).toBe("just text");
  });

  it("is picked up once its queue appears (the host doesn't create trigger queues)", async () => {
    await new QueueClient(storage, "work").deleteIfExists();
    const running = await start();
    await waitFor(() => running.logs.some((line) => line.includes('queue "work" does not exist yet')));
    expect(await new QueueClient(storage, "work").exists()).toBe(false);

    await sendBase64Json(storage, "work", { late: true });
    await waitFor(() => callsOf("work").length === 1, { timeoutMs: 30_000 });
  });
});

describe("a message that fails", () => {
  it("is retried maxDequeueCount times, then its original text moves to <queue>-poison", async () => {
    const running = await start();
    const original = base64(JSON.stringify({ alertId: "doomed" }));
    await sendRawText(storage, "fails", original);

    const [poisoned] = await waitForMessages(storage, "fails-poison", 1);
    expect(poisoned!.raw).toBe(original);
    expect(callsOf("alwaysFails").map((call) => call.triggerMetadata.dequeueCount)).toEqual([1, 2, 3]);
    expect(await messageCount(storage, "fails")).toBe(0);

    const failures = running.logs.filter((line) => line.includes("Executed alwaysFails (Failed"));
    expect(failures).toHaveLength(3);
    expect(failures[0]).toContain("Error: alwaysFails failed on purpose");
    expect(running.logs).toContainEqual(expect.stringContaining('to "fails-poison" because it failed 3 times'));
    expect(running.logs.join("\n")).not.toContain("doomed");
  });

  it("waits host.json visibilityTimeout before each retry", async () => {
    await start({ hostJsonPath: join(__dirname, "fixtures", "host.retry-delay.json") });
    await sendBase64Json(storage, "fails", { slow: true });

    await waitForMessages(storage, "fails-poison", 1, 30_000);
    const [first, second] = callsOf("alwaysFails");
    expect(callsOf("alwaysFails")).toHaveLength(2); // maxDequeueCount 2 in that host.json
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_500);
  });
});

describe("a poison message", () => {
  it("goes to <queue>-poison untouched, without invoking the function, when it isn't base64", async () => {
    await start();
    await sendRawText(storage, "work", '{"not":"base64"}');

    const [poisoned] = await waitForMessages(storage, "work-poison", 1);
    expect(poisoned!.raw).toBe('{"not":"base64"}');
    expect(callsOf("work")).toEqual([]);
    expect(await messageCount(storage, "work")).toBe(0);
  });

  it("goes to <queue>-poison without invoking the function when dequeued more than maxDequeueCount times", async () => {
    const original = base64('"tired"');
    await sendRawText(storage, "work", original);
    const queue = new QueueClient(storage, "work");
    for (let i = 0; i < 3; i++) {
      const [message] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      await queue.updateMessage(message!.messageId, message!.popReceipt, undefined, 0);
    }

    await start();
    const [poisoned] = await waitForMessages(storage, "work-poison", 1);
    expect(poisoned!.raw).toBe(original);
    expect(callsOf("work")).toEqual([]);
  });
});

describe("concurrency and leases", () => {
  it("runs at most batchSize + newBatchThreshold invocations at once", async () => {
    await start();
    // The slow first message keeps one invocation in flight while the quick ones come and go.
    await sendBase64Json(storage, "work", { delayMs: 1_500 });
    for (let i = 0; i < 7; i++) await sendBase64Json(storage, "work", { delayMs: 100 });

    await waitFor(() => callsOf("work").length === 8, { timeoutMs: 30_000 });
    expect(fixtureApp.maxConcurrent).toBe(3);
  });

  it("renews the lease of a long invocation so the message isn't delivered twice", async () => {
    await start({ queueLeaseSeconds: 2 });
    await sendBase64Json(storage, "work", { delayMs: 3_500 });

    await waitFor(() => callsOf("work").length === 1, { timeoutMs: 30_000 });
    await waitFor(async () => (await messageCount(storage, "work")) === 0, { description: "message deleted" });
    // Without renewal the message reappears after 2 s and a second invocation records itself before the delete.
    expect(callsOf("work").map((call) => call.triggerMetadata.dequeueCount)).toEqual([1]);
    expect(host!.logs.join("\n")).not.toContain("could not renew");
  });

  it("stop() waits for invocations in flight, which still settle their messages", async () => {
    const running = await start();
    await sendBase64Json(storage, "work", { delayMs: 1_000 });
    await waitFor(async () => (await new QueueClient(storage, "work").peekMessages()).peekedMessageItems.length === 0);

    await running.stop();
    expect(callsOf("work")).toHaveLength(1);
    expect(await messageCount(storage, "work")).toBe(0);
  });
});
