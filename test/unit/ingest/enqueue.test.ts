// Against real Azurite, behind a proxy that makes one queue send fail: a failure reported to the
// sender leaves nothing on the alerts queue.
import { createServer, request as forwardRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { HttpRequest } from "@azure/functions";
import { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingest } from "../../../shared/ingest/ingest";
import { StorageClients } from "../../../shared/storage/clients";
import { startTestAzurite, type Azurite } from "../../support/azurite";
import { sample } from "./fixtures";

const TOKEN = "t".repeat(40);
let azurite: Azurite;
let proxy: Server;
let proxiedConnectionString: string;
let sends = 0;
const FAILING_SEND = 20;

beforeAll(async () => {
  azurite = await startTestAzurite();
  const upstream = new URL(azurite.queueEndpoint);
  proxy = createServer((req, res) => {
    if (req.method === "POST" && req.url?.includes("/alerts/messages") && ++sends === FAILING_SEND) {
      req.resume();
      res.writeHead(400, { "content-type": "application/xml", "x-ms-error-code": "InvalidInput" });
      return res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidInput</Code><Message>injected</Message></Error>');
    }
    const outgoing = forwardRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as AddressInfo).port;
  proxiedConnectionString = azurite.connectionString.replace(
    /QueueEndpoint=[^;]+/,
    `QueueEndpoint=http://127.0.0.1:${port}${upstream.pathname.replace(/\/$/, "")}`,
  );
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  await azurite?.stop();
});

describe("enqueuing a batch", () => {
  it("storage fails on the 20th of 50 alerts: the error is raised and the alerts already sent are taken back", async () => {
    const group = sample("alertmanager-firing") as any;
    group.alerts = Array.from({ length: 50 }, (_, n) => ({ ...group.alerts[0], fingerprint: (n + 1).toString(16).padStart(16, "0") }));
    const storage = new StorageClients({ kind: "connectionString", connectionString: proxiedConnectionString });
    const httpRequest = new HttpRequest({
      method: "POST",
      url: "http://localhost/api/ingest/alertmanager",
      params: { source: "alertmanager" },
      headers: { authorization: `Bearer ${TOKEN}` },
      body: { string: JSON.stringify(group) },
    });
    await expect(ingest(httpRequest, { tokens: [TOKEN] }, storage)).rejects.toThrow();
    expect(sends).toBeGreaterThanOrEqual(FAILING_SEND);
    const properties = await new QueueClient(azurite.connectionString, "alerts").getProperties();
    expect(properties.approximateMessagesCount).toBe(0);
  });
});
