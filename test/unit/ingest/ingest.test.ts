import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { ingest } from "../../../shared/ingest/ingest";
import type { StorageClients } from "../../../shared/storage/clients";
import { sampleText } from "./fixtures";

const TOKEN = "t".repeat(40);
// These requests are answered before anything is enqueued: storage is never reached.
const noStorage = undefined as unknown as StorageClients;
const request = (source: string, body: string, headers: Record<string, string> = {}) =>
  new HttpRequest({ method: "POST", url: `http://localhost/api/ingest/${source}`, params: { source }, headers, body: { string: body } });

describe("ingest answers before enqueuing", () => {
  it("INGEST_TOKENS unset: every ingest route answers 404", async () => {
    const answer = await ingest(
      request("alertmanager", sampleText("alertmanager-firing"), { authorization: `Bearer ${TOKEN}` }),
      undefined,
      noStorage,
    );
    expect(answer.status).toBe(404);
  });

  it("unknown source 404; the bad token is refused before the body is read (401, not 413)", async () => {
    const settings = { tokens: [TOKEN] };
    expect((await ingest(request("zabbix", "{}", { authorization: `Bearer ${TOKEN}` }), settings, noStorage)).status).toBe(404);
    const answer = await ingest(request("alertmanager", "x".repeat(2 * 1024 * 1024), { authorization: "Bearer wrong" }), settings, noStorage);
    expect(answer).toMatchObject({ status: 401, log: "Ingest alertmanager: 401, token not accepted; nothing enqueued" });
  });

  it("Sentry without SENTRY_CLIENT_SECRET: 401", async () => {
    const answer = await ingest(
      request("sentry", sampleText("sentry-event-alert"), { "sentry-hook-resource": "event_alert", "sentry-hook-signature": "0".repeat(64) }),
      { tokens: [TOKEN] },
      noStorage,
    );
    expect(answer.status).toBe(401);
  });
});

describe("ingest body limit", () => {
  it("over 1 MiB with a good token: 413, counted while read (no Content-Length to trust)", async () => {
    const answer = await ingest(request("alerts", "x".repeat(1024 * 1024 + 1), { authorization: `Bearer ${TOKEN}` }), { tokens: [TOKEN] }, noStorage);
    expect(answer).toMatchObject({ status: 413, log: "Ingest alerts: 413, body over 1 MiB" });
  });
});

describe("ingest queue message limit", () => {
  it("a valid alert too large for a queue message: 413 naming it, nothing enqueued (not a 500 from storage)", async () => {
    const tags = Object.fromEntries(Array.from({ length: 100 }, (_, n) => [`tag${n}`, "v".repeat(1000)]));
    const alert = {
      schemaVersion: 1,
      alertId: "big",
      issue: {
        id: "big",
        project: "p",
        title: "t",
        level: "error",
        count: 1,
        firstSeen: "2026-01-01T00:00:00Z",
        lastSeen: "2026-01-01T00:00:00Z",
        tags,
      },
    };
    const answer = await ingest(request("alerts", JSON.stringify(alert), { authorization: `Bearer ${TOKEN}` }), { tokens: [TOKEN] }, noStorage);
    expect(answer).toMatchObject({ status: 413, body: { error: expect.stringMatching(/Alert 0 is larger than a queue message/) } });
  });
});
