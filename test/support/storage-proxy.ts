// A counting reverse proxy in front of Azurite: the app is given the proxy's connection string, and every
// storage request it makes is counted by service, operation and table/queue. Azurite is far slower than
// Azure Storage under deep queues, so scale is judged by requests, not seconds.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Azurite } from "./azurite";

export type StorageService = "blob" | "queue" | "table";

export interface StorageRequest {
  service: StorageService;
  /** `GET`, `POST`, `PUT`, `MERGE`, `PATCH`, `DELETE` … */
  method: string;
  /** The table or queue addressed (`deliveries`, `cards`, `Tables`, `$batch`…). */
  resource: string;
  status: number;
  at: number;
  /** When the request reached the proxy (`at` is when Azurite's answer did). */
  sentAt: number;
  /** The request's path and query, kept only with STORAGE_PROXY_URLS set (the benchmark's call dumps). */
  url?: string;
}

export interface StorageProxy {
  connectionString: string;
  requests: StorageRequest[];
  /** Requests counted since `mark` was called (or since the start). */
  countSince(mark: number, filter?: (r: StorageRequest) => boolean): number;
  /** An index into `requests` for `countSince`. */
  mark(): number;
  /**
   * Until called again with `undefined`: every request `refusing` gives a status for is answered with it (and
   * Azure Storage's error body) instead of reaching Azurite; it is counted like any other.
   */
  refuse(refusing: Refusing | undefined): void;
  stop(): Promise<void>;
}

export type Refusing = (request: { service: StorageService; method: string; url: string }) => number | undefined;

/**
 * The storage requests among `requests` that the app made for its work: queue polls (GET of messages) go on all
 * the time, so they are left out, and each message the app took counts one receive, known by its delete (a
 * receive that brought several messages is counted once per message: the count errs high).
 */
export function workRequests(requests: StorageRequest[]): { total: number; byResource: Record<string, number> } {
  const byResource: Record<string, number> = {};
  let total = 0;
  for (const r of requests) {
    if (r.service === "queue" && r.method === "GET") continue;
    const receives = r.service === "queue" && r.method === "DELETE" ? 1 : 0;
    total += 1 + receives;
    const name = `${r.service} ${r.resource} ${r.method}`;
    byResource[name] = (byResource[name] ?? 0) + 1;
    if (receives) byResource[`queue ${r.resource} GET (receive)`] = (byResource[`queue ${r.resource} GET (receive)`] ?? 0) + 1;
  }
  return { total, byResource };
}

export async function startStorageProxy(azurite: Azurite): Promise<StorageProxy> {
  const requests: StorageRequest[] = [];
  const targets: Record<StorageService, string> = { blob: azurite.blobEndpoint, queue: azurite.queueEndpoint, table: azurite.tableEndpoint };
  const servers: Server[] = [];
  const endpoints = {} as Record<StorageService, string>;
  let refusing: Refusing | undefined;
  for (const service of Object.keys(targets) as StorageService[]) {
    const upstream = new URL(targets[service]);
    const server = createServer((req, res) => {
      const status = refusing?.({ service, method: req.method ?? "GET", url: decodeURIComponent(req.url ?? "/") });
      if (status === undefined) return forward(service, upstream, req, res, requests);
      refuse(service, status, req, res, requests);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const port = (server.address() as AddressInfo).port;
    endpoints[service] = `http://127.0.0.1:${port}${upstream.pathname.replace(/\/$/, "")}`;
  }
  const account = /AccountName=([^;]+)/.exec(azurite.connectionString)![1];
  const key = /AccountKey=([^;]+)/.exec(azurite.connectionString)![1];
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};` +
      `BlobEndpoint=${endpoints.blob};QueueEndpoint=${endpoints.queue};TableEndpoint=${endpoints.table};`,
    requests,
    mark: () => requests.length,
    refuse: (given) => {
      refusing = given;
    },
    countSince: (mark, filter = () => true) => requests.slice(mark).filter(filter).length,
    async stop() {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}

function forward(service: StorageService, upstream: URL, req: IncomingMessage, res: ServerResponse, requests: StorageRequest[]): void {
  const sentAt = Date.now();
  const outgoing = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
    (answer) => {
      requests.push({
        service,
        method: req.method ?? "GET",
        resource: resourceOf(service, req.url ?? "/"),
        status: answer.statusCode ?? 0,
        at: Date.now(),
        sentAt,
        ...(process.env.STORAGE_PROXY_URLS ? { url: req.url } : {}),
      });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  outgoing.on("error", () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(outgoing);
}

function refuse(service: StorageService, status: number, req: IncomingMessage, res: ServerResponse, requests: StorageRequest[]): void {
  req.resume();
  req.on("end", () => {
    const at = Date.now();
    requests.push({ service, method: req.method ?? "GET", resource: resourceOf(service, req.url ?? "/"), status, at, sentAt: at });
    const code = status === 503 ? "ServerBusy" : status === 403 ? "AuthorizationPermissionMismatch" : "InternalError";
    const body =
      service === "table"
        ? JSON.stringify({ "odata.error": { code, message: { lang: "en-US", value: `Refused by the test's storage proxy (${status}).` } } })
        : `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>Refused by the test's storage proxy (${status}).</Message></Error>`;
    res.writeHead(status, { "content-type": service === "table" ? "application/json" : "application/xml", "x-ms-error-code": code }).end(body);
  });
}

/** `/devstoreaccount1/deliveries(PartitionKey='a',RowKey='b')` → `deliveries`; `/devstoreaccount1/alerts/messages` → `alerts`. */
function resourceOf(service: StorageService, url: string): string {
  const segments = url.split("?")[0]!.split("/").filter(Boolean);
  const name = segments[1] ?? segments[0] ?? "";
  return service === "table" ? decodeURIComponent(name.replace(/\(.*$/, "")) : decodeURIComponent(name);
}
