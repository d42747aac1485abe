// node:http on 127.0.0.1: the page's files, adaptivecards' browser bundle, and the JSON routes.
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { join } from "node:path";
import { HttpError } from "./http-error";
import type { Route } from "./routes";

const CLIENT_DIR = join(__dirname, "client");
const MAX_BODY_BYTES = 256 * 1024;
const resolveModule = createRequire(__filename).resolve;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** URL path → file. A fixed list: nothing else on disk is reachable. */
const FILES: Record<string, string> = {
  "/": join(CLIENT_DIR, "index.html"),
  ...Object.fromEntries(
    [
      "style.css",
      "main.js",
      "api.js",
      "dom.js",
      "markdown.js",
      "messages.js",
      "sidebar.js",
      "teams.js",
      "slack.js",
      "discord.js",
      "threads.js",
      "composer.js",
      "queues.js",
    ].map((name) => [`/app/${name}`, join(CLIENT_DIR, name)]),
  ),
  "/vendor/adaptivecards.js": resolveModule("adaptivecards/dist/adaptivecards.js"),
  "/vendor/adaptivecards.css": resolveModule("adaptivecards/dist/adaptivecards.css"),
};

const SECURITY_HEADERS = {
  // Cards may show images from anywhere; scripts and connections stay on this origin.
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

export async function listen(port: number, routes: Record<string, Route>): Promise<{ url: string; stop(): Promise<void> }> {
  let hosts: string[] = [];
  const server = createServer((req, res) => {
    handle(req, res, routes, hosts).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      sendJson(res, status, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  hosts = [`127.0.0.1:${actual}`, `localhost:${actual}`];
  return {
    url: `http://127.0.0.1:${actual}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: Record<string, Route>, hosts: string[]): Promise<void> {
  // A page on another site can't reach us through DNS rebinding (Host) or a cross-site form (Origin, JSON only).
  if (!hosts.includes(req.headers.host ?? "")) throw new HttpError(421, "This page only answers on its loopback address.");
  const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
  const route = routes[`${req.method} ${url.pathname}`];
  if (route) {
    if (req.method !== "GET") checkSameOrigin(req, hosts);
    const body = req.method === "GET" ? undefined : await readJson(req);
    sendJson(res, 200, await route({ query: url.searchParams, body }));
    return;
  }
  const file = FILES[url.pathname];
  if (!file || req.method !== "GET") throw new HttpError(404, "Not found.");
  const extension = file.slice(file.lastIndexOf("."));
  res.writeHead(200, { "content-type": TYPES[extension] ?? "application/octet-stream", "cache-control": "no-cache", ...SECURITY_HEADERS });
  res.end(await readFile(file));
}

function checkSameOrigin(req: IncomingMessage, hosts: string[]): void {
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.some((host) => origin === `http://${host}`)) throw new HttpError(403, "Cross-origin requests are refused.");
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "Send JSON.");
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "Request too large.");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "The body is not JSON.");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}
