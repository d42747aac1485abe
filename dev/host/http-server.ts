// Serves HTTP-triggered functions the way the Functions host does: route match (404 for an unknown
// route or a method the function doesn't accept, as the host does), a buffered body, HttpRequest +
// InvocationContext in, HttpResponse / HttpResponseInit out (undefined → 204), a thrown error → 500
// with an empty body.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpRequest, HttpResponse, InvocationContext, type Cookie, type HttpResponseInit, type LogLevel } from "@azure/functions";
import type { HttpFunction, HttpMethod } from "../../functions/table";
import type { HostLogger } from "./logger";
import { comparePrecedence, compileRoute, type CompiledRoute } from "./routes";

export interface HttpRoute {
  fn: HttpFunction;
  route: CompiledRoute;
  logLevel: LogLevel;
}

export interface HttpServerOptions {
  routes: HttpRoute[];
  logger: HostLogger;
  maxBodyBytes: number;
  /** Extra GET endpoints outside the functions (e.g. `/admin/functions`), path → JSON body. */
  adminEndpoints: Record<string, () => unknown>;
}

interface ResponseParts {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: Buffer;
}

/** `${routePrefix}/${route}` compiled, sorted so the most specific template wins. */
export function compileHttpRoutes(functions: HttpFunction[], routePrefix: string, logLevelFor: (name: string) => LogLevel): HttpRoute[] {
  return functions
    .map((fn) => ({
      fn,
      route: compileRoute(`${routePrefix}/${fn.route || fn.name}`),
      logLevel: logLevelFor(fn.name),
    }))
    .sort((a, b) => comparePrecedence(a.route, b.route));
}

export function createRequestHandler(options: HttpServerOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger.error(`${req.method} ${pathOf(req)} failed in the host`, error);
      if (res.headersSent) return void res.destroy();
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      writeParts(res, emptyResponse(500));
    });
  };
}

async function handle(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req);
  if (!url) return writeParts(res, emptyResponse(400));
  const admin = options.adminEndpoints[url.pathname];
  if (admin && req.method === "GET") return writeParts(res, jsonResponse(admin()));

  const match = findRoute(options.routes, req.method ?? "GET", url.pathname);
  const body = await readBody(req, options.maxBodyBytes);
  if (!match) return writeParts(res, emptyResponse(404));
  if (body === "too-large") return writeParts(res, emptyResponse(413));
  writeParts(res, await invoke(options.logger, match.route, req, url, match.params, body));
}

function findRoute(routes: HttpRoute[], method: string, path: string) {
  const upperMethod = method.toUpperCase() as HttpMethod;
  for (const route of routes) {
    if (!route.fn.methods.includes(upperMethod)) continue;
    const params = route.route.match(path);
    if (params) return { route, params };
  }
  return undefined;
}

async function invoke(
  logger: HostLogger,
  { fn, route, logLevel }: HttpRoute,
  req: IncomingMessage,
  url: URL,
  params: Record<string, string>,
  body: Buffer,
): Promise<ResponseParts> {
  const invocationId = randomUUID();
  const request = new HttpRequest({ method: req.method, url: url.href, headers: flattenHeaders(req), params, body: { bytes: body } });
  const context = new InvocationContext({
    invocationId,
    functionName: fn.name,
    logHandler: logger.forInvocation(fn.name, invocationId, logLevel),
    options: {
      trigger: { type: "httpTrigger", name: "request", methods: fn.methods, route: route.template, authLevel: fn.authLevel },
      return: { type: "http", name: "$return" },
    },
  });
  const started = Date.now();
  // The query string is left out of logs: it may carry tokens.
  const summary = (outcome: string) => `${req.method} ${url.pathname} → ${outcome}, Id=${invocationId}, ${Date.now() - started} ms`;
  try {
    const parts = await toResponseParts(await fn.handler(request, context));
    logger.info(`Executed ${fn.name} (${summary(String(parts.status))})`);
    return parts;
  } catch (error) {
    logger.error(`Executed ${fn.name} (Failed, ${summary("500")})`, error);
    return emptyResponse(500);
  }
}

/** Node joins repeated headers itself except `set-cookie`-like ones, which arrive as arrays. */
function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function requestUrl(req: IncomingMessage): URL | undefined {
  const { port } = req.socket.address() as { port?: number };
  for (const host of [req.headers.host, `127.0.0.1:${port}`]) {
    try {
      return new URL(req.url ?? "/", `http://${host}`);
    } catch {
      // A malformed Host header: fall back to our own address.
    }
  }
  return undefined;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}

/** Buffers the body; past the limit it keeps reading (so the client sees the 413) but keeps nothing. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.once("end", () => resolve(size > limit ? "too-large" : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/**
 * What the worker does with a handler's result. The app's bundle carries its own copy of
 * @azure/functions, so its HttpResponse isn't `instanceof` ours: recognise it by shape rather
 * than re-wrap it as if it were an HttpResponseInit (which works only by accident).
 */
async function toResponseParts(result: unknown): Promise<ResponseParts> {
  if (result === undefined || result === null) return emptyResponse(204);
  if (typeof result !== "object") {
    throw new TypeError(`an HTTP handler must return an object or HttpResponse, got ${typeof result}`);
  }
  const response = isHttpResponse(result) ? result : new HttpResponse(result as HttpResponseInit);
  const headers: Record<string, string> = {};
  const setCookies = response.cookies.map(serializeCookie);
  for (const [name, value] of response.headers) {
    if (name === "set-cookie") setCookies.push(value);
    else if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  return { status: response.status, headers, setCookies, body: Buffer.from(await response.arrayBuffer()) };
}

/** The host sets these itself. */
const HOP_BY_HOP = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

interface HttpResponseLike {
  status: number;
  headers: Headers;
  cookies: Cookie[];
  arrayBuffer(): Promise<ArrayBuffer>;
}

function isHttpResponse(value: object): value is HttpResponseLike {
  const candidate = value as Partial<HttpResponseLike>;
  return (
    value instanceof HttpResponse ||
    (typeof candidate.arrayBuffer === "function" && candidate.headers instanceof Headers && Array.isArray(candidate.cookies))
  );
}

function serializeCookie(cookie: Cookie): string {
  const attributes = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain) attributes.push(`Domain=${cookie.domain}`);
  if (cookie.path) attributes.push(`Path=${cookie.path}`);
  if (cookie.expires !== undefined) attributes.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.maxAge !== undefined) attributes.push(`Max-Age=${Math.trunc(cookie.maxAge)}`);
  if (cookie.secure) attributes.push("Secure");
  if (cookie.httpOnly) attributes.push("HttpOnly");
  if (cookie.sameSite) attributes.push(`SameSite=${cookie.sameSite}`);
  return attributes.join("; ");
}

function emptyResponse(status: number): ResponseParts {
  return { status, headers: {}, setCookies: [], body: Buffer.alloc(0) };
}

function jsonResponse(value: unknown): ResponseParts {
  const body = Buffer.from(JSON.stringify(value, null, 2));
  return { status: 200, headers: { "content-type": "application/json; charset=utf-8" }, setCookies: [], body };
}

function writeParts(res: ServerResponse, { status, headers, setCookies, body }: ResponseParts): void {
  const bodyless = status === 204 || status === 304 || res.req.method === "HEAD";
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  if (setCookies.length > 0) res.setHeader("set-cookie", setCookies);
  if (bodyless) return void res.end();
  res.setHeader("content-length", body.length);
  res.end(body);
}
