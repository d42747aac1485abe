import { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { MAX_ALERT_JSON_BYTES, type Alert } from "../../shared/domain/alert";
import { ID_LIMITS } from "../../shared/domain/ids";
import { DeliveryRepository, type DeliveryBatch } from "../../shared/storage/deliveries";
import { subscribe } from "../../shared/storage/subscriptions";
import { TAGS_JSON_BUDGET } from "../../shared/domain/tags";
import type { StorageClients } from "../../shared/storage/clients";
import { permanentStorageRejection, safeKey } from "../../shared/storage/table";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { useTestStorage } from "../support/test-storage";
import { drain, queueClient, sendBase64Json } from "../support/queues";

let azurite: Azurite;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, storage } = started));

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * An alert of exactly `size` bytes of JSON: 20 tags whose values are 1,000 quote marks (each escaped,
 * so the tags alone are more than one Table property holds), the description filling up the rest.
 */
function alertOfSize(size: number, id: string): Alert {
  const tags = Object.fromEntries(Array.from({ length: 20 }, (_, n) => [`tag-${n}`, '"'.repeat(1000)]));
  const alert = anAlert({ alertId: id, issue: { id, tags, description: "" } });
  alert.issue.description = "d".repeat(size - bytes(alert));
  expect(bytes(alert)).toBe(size);
  return alert;
}

describe("alert intake within storage limits", () => {
  it("the largest alert a queue message holds is taken and stored", async () => {
    const alert = alertOfSize(MAX_ALERT_JSON_BYTES, "largest");
    // It does fit a queue message: Azurite takes it (base64, 65,536 characters) and hands it back.
    await sendBase64Json(azurite.connectionString, "alerts", alert);
    const [queued] = await drain(azurite.connectionString, "alerts");
    expect(queued!.raw.length).toBe(65_536);

    const result = await takeAlert(storage, queued!.body, queued!.text!);
    expect(result).toMatchObject({ kind: "accepted", duplicate: false });
    const stored = (await new IssueRepository(storage).get("largest"))!.issue;
    expect(stored.description).toBe(alert.issue.description);
    expect(stored.count).toBe(alert.issue.count);
    // As many of its tags as one property holds, each whole.
    const kept = Object.entries(stored.tags);
    expect(kept.length).toBeGreaterThan(10);
    expect(kept.every(([key, value]) => alert.issue.tags[key] === value)).toBe(true);
    expect(JSON.stringify(stored.tags).length).toBeLessThanOrEqual(TAGS_JSON_BUDGET);
  });

  it("one byte more is refused at once, with the reason, and could not have been queued anyway", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    const alert = alertOfSize(MAX_ALERT_JSON_BYTES + 1, "too-large");
    await expect(sendBase64Json(azurite.connectionString, "alerts", alert)).rejects.toMatchObject({ statusCode: 413 });

    const text = JSON.stringify(alert);
    expect(await takeAlert(storage, alert, text)).toMatchObject({ kind: "poisoned" });
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    expect(poison!.body).toMatchObject({
      error: "The message is larger than an alert can be.",
      issues: [{ path: "", message: expect.stringContaining(`at most ${MAX_ALERT_JSON_BYTES}`) }],
    });
    expect(await new IssueRepository(storage).get("too-large")).toBeUndefined();
  });

  it("20 alerts each adding 10 new 1,000-character tags to one issue are all taken", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    const last = 20;
    for (let n = 1; n <= last; n++) {
      const tags = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`a${n}-t${k}`, `${n}`.repeat(1000).slice(0, 1000)]));
      const alert = anAlert({
        alertId: `growing-${n}`,
        issue: { id: "growing", count: 100 + n, lastSeen: new Date(Date.parse("2026-11-21T14:00:00Z") + n * 60_000).toISOString(), tags },
      });
      expect(await takeAlert(storage, alert, JSON.stringify(alert))).toMatchObject({ kind: "accepted", duplicate: false });
    }
    const stored = (await new IssueRepository(storage).get("growing"))!.issue;
    expect(stored.count).toBe(100 + last);
    expect(stored.version).toBe(last);
    // Newest win: the last alert's tags are all there, the first alert's are gone.
    for (let k = 0; k < 10; k++) expect(stored.tags[`a${last}-t${k}`]).toHaveLength(1000);
    expect(stored.tags["a1-t0"]).toBeUndefined();
    expect(JSON.stringify(stored.tags).length).toBeLessThanOrEqual(TAGS_JSON_BUDGET);
    expect(await drain(azurite.connectionString, "alerts-poison")).toEqual([]);
  });
});

describe("a project subscribed in many conversations with the longest ids", () => {
  it("gets every delivery queued, in messages the queue takes", async () => {
    await drain(azurite.connectionString, "deliveries");
    // 100 Teams channels whose ids are as long as ids get: 100 targets no longer fit one queue message.
    for (let n = 0; n < 100; n++) {
      const suffix = "@thread.tacv2";
      const conversationId =
        `19:${String(n).padStart(4, "0")}${"x".repeat(ID_LIMITS.teamsConversationId)}`.slice(0, ID_LIMITS.teamsConversationId - suffix.length) +
        suffix;
      await subscribe(storage, {
        conversationKey: `msteams:${safeKey(conversationId)}`,
        project: "long-ids",
        minLevel: "debug",
        target: { provider: "msteams", conversationId },
      });
    }
    const alert = anAlert({ alertId: "long-ids-1", issue: { id: "long-ids", project: "long-ids" } });

    expect(await takeAlert(storage, alert, JSON.stringify(alert))).toMatchObject({ kind: "accepted", deliveries: 100 });
    const messages = await drain(azurite.connectionString, "deliveries");
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.flatMap((message) => (message.body as DeliveryBatch).targets)).toHaveLength(100);
    const rows = await new DeliveryRepository(storage).listForAlert("long-ids-1");
    expect(rows.filter((row) => row.enqueued)).toHaveLength(100);
  });
});

describe("an alert whose keys storage would refuse", () => {
  it("is refused at the schema and goes to alerts-poison at once, with the reason", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    // Every % is escaped as %25 in its keys: 256 of them made a delivery key over Table Storage's limit,
    // which used to fail in storage after the issue was written (issue 10, items 2 and 14).
    const alert = anAlert({ alertId: "%".repeat(256), issue: { id: "refused" }, targets: [{ provider: "slack", teamId: "T01", channel: "C01" }] });
    const text = JSON.stringify(alert);
    const result = await takeAlert(storage, alert, text);
    expect(result).toMatchObject({ kind: "poisoned" });
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    expect(poison!.body).toEqual({
      error: "The message does not match alert schema v1.",
      issues: [{ path: "alertId", message: expect.stringContaining("counting / \\ # ? % as three") }],
      original: text,
    });
    expect(await new IssueRepository(storage).get("refused")).toBeUndefined();
  });
});

describe("storage failures: permanent ones are told apart from those worth retrying", () => {
  const table = () => TableClient.fromConnectionString(azurite.connectionString, "probe", { allowInsecureConnection: true });
  const caught = async (work: () => Promise<unknown>) =>
    work().then(
      () => expect.fail("expected a failure"),
      (error: unknown) => error,
    );

  it("a value too large for a property, and an entity too large, are permanent, named by storage's code", async () => {
    await table().createTable();
    const tooLong = await caught(() => table().upsertEntity({ partitionKey: "p", rowKey: "a", text: "x".repeat(32_769) }));
    expect(permanentStorageRejection(tooLong)).toBe("storage refused it with 400 PropertyValueTooLarge");
    const over1MiB = Object.fromEntries(Array.from({ length: 40 }, (_, n) => [`p${n}`, "x".repeat(32_000)]));
    const tooLarge = await caught(() => table().upsertEntity({ partitionKey: "p", rowKey: "b", ...over1MiB }));
    expect(permanentStorageRejection(tooLarge)).toBe("storage refused it with 400 EntityTooLarge");
  });

  it("a key that cannot go in a URL is permanent", async () => {
    const error = await caught(() => new IssueRepository(storage).get("a\ud800b"));
    expect(permanentStorageRejection(error)).toMatch(/URIError/);
  });

  it("a queue message too large is permanent", async () => {
    const queue = queueClient(azurite.connectionString, "probe");
    await queue.createIfNotExists();
    const error = await caught(() => queue.sendMessage("A".repeat(65_537)));
    expect(permanentStorageRejection(error)).toBe("storage refused it with 413 RequestBodyTooLarge");
  });

  it("contention, a missing queue, a network error and a busy server are worth retrying", async () => {
    await table().upsertEntity({ partitionKey: "p", rowKey: "c", n: 1 });
    const { etag } = await table().getEntity("p", "c");
    await table().upsertEntity({ partitionKey: "p", rowKey: "c", n: 2 });
    const stale = await caught(() => table().updateEntity({ partitionKey: "p", rowKey: "c", n: 3 }, "Merge", { etag }));
    expect(permanentStorageRejection(stale)).toBeUndefined();
    const missing = await caught(() => queueClient(azurite.connectionString, "no-such-queue").sendMessage("e30="));
    expect(permanentStorageRejection(missing)).toBeUndefined();
    // What the SDK throws when the service can't be reached, or is unavailable.
    expect(permanentStorageRejection(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBeUndefined();
    expect(permanentStorageRejection(Object.assign(new Error("Server Busy"), { statusCode: 503, code: "ServerBusy" }))).toBeUndefined();
  });
});
