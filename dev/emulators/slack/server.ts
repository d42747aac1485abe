import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { authorize } from "./oauth";
import type { Params } from "./params";
import { handleResponseUrlPost } from "./response-url";
import type { EmulatorState } from "./state";
import { handleApiCall, type HttpAnswer } from "./web-api";

const MAX_BODY_BYTES = 5 * 1024 * 1024;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Routes: `/api/<method>` (Web API), `/response/<id>` (response_url), `/oauth/v2/authorize` (install). */
export async function startServer(state: EmulatorState, port: number, host: string): Promise<RunningServer> {
  const server = createServer((req, res) => {
    route(state, req)
      .then((answer) => send(res, answer))
      .catch((error: unknown) => {
        state.log(`internal error: ${error instanceof Error ? error.message : String(error)}`);
        send(res, { status: 500, headers: { "content-type": "text/plain" }, body: "emulator error" });
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actualPort } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // fetch keeps connections alive; without this close() waits for them to idle out.
        server.closeAllConnections();
      }),
  };
}

async function route(state: EmulatorState, req: IncomingMessage): Promise<HttpAnswer> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const path = url.pathname;

  if (path.startsWith("/api/") && (req.method === "POST" || req.method === "GET")) {
    const raw = await readBody(req);
    const parsed = await parseParams(req.headers["content-type"], raw);
    return handleApiCall(state, {
      method: decodeURIComponent(path.slice("/api/".length)),
      params: { ...Object.fromEntries(url.searchParams), ...parsed.params },
      authorization: req.headers.authorization,
      jsonBody: parsed.json,
      parseError: parsed.error,
    });
  }
  if (path.startsWith("/response/") && req.method === "POST") {
    return handleResponseUrlPost(state, decodeURIComponent(path.slice("/response/".length)), (await readBody(req)).toString("utf8"));
  }
  if (path === "/oauth/v2/authorize" && req.method === "GET") {
    const result = authorize(state, url.searchParams);
    return {
      status: result.status,
      headers: result.location ? { location: result.location } : { "content-type": "text/plain; charset=utf-8" },
      body: result.text ?? "",
    };
  }
  return { status: 404, headers: { "content-type": "text/plain; charset=utf-8" }, body: "not found" };
}

/** Slack takes form bodies (what @slack/web-api sends), JSON bodies and multipart forms. */
async function parseParams(contentType: string | undefined, raw: Buffer): Promise<{ params: Params; json: boolean; error?: string }> {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (raw.length === 0) return { params: {}, json: false };
  if (type === "application/json") {
    try {
      const value: unknown = JSON.parse(raw.toString("utf8"));
      if (typeof value === "object" && value !== null && !Array.isArray(value)) return { params: value as Params, json: true };
    } catch {
      // fall through
    }
    return { params: {}, json: true, error: "invalid_json" };
  }
  if (type === "application/x-www-form-urlencoded" || type === "text/plain") {
    return { params: Object.fromEntries(new URLSearchParams(raw.toString("utf8"))), json: false };
  }
  if (type === "multipart/form-data") {
    try {
      const form = await new Response(raw, { headers: { "content-type": contentType! } }).formData();
      const params: Params = {};
      form.forEach((value, key) => {
        params[key] = typeof value === "string" ? value : `[file ${value.name}]`;
      });
      return { params, json: false };
    } catch {
      return { params: {}, json: false, error: "invalid_form_data" };
    }
  }
  return { params: {}, json: false, error: type ? "invalid_post_type" : "missing_post_type" };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, answer: HttpAnswer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
