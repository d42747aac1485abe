import { createServer, type IncomingMessage, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { BOT_FRAMEWORK_ISSUER } from "./channelTokens.js";
import { matchConnectorRoute, type Connector, type ConnectorRoute } from "./connector.js";
import { faultReply, type FaultBook, type RateLimiter } from "./faults.js";
import { BadRequest, bearerToken, errorReply, isLoopbackAddress, parseJson, readBody, writeReply, type Reply } from "./http.js";
import { managedIdentityToken, type AccessTokenIssuer } from "./identity.js";
import { jwksDocument, type KeySet } from "./keys.js";
import type { RecordedCall } from "./types.js";

export const PATHS = {
  openIdMetadata: "/v1/.well-known/openidconfiguration",
  jwks: "/v1/.well-known/keys",
  managedIdentity: "/msi/token",
  /** Like `https://smba.trafficmanager.net/amer/`: a path prefix, with the trailing slash. */
  serviceUrl: "/teams/",
  control: "/_emulator/",
} as const;

export interface ServerDeps {
  appId: string;
  identityHeader: string;
  keys: KeySet;
  issuer: AccessTokenIssuer;
  connector: Connector;
  faults: FaultBook;
  limiter: RateLimiter;
  calls: RecordedCall[];
  control: (req: IncomingMessage, url: URL, body: unknown) => Promise<Reply>;
}

export interface EmulatorServer {
  url: string;
  stop(): Promise<void>;
}

export async function startServer(deps: ServerDeps, port: number, host: string): Promise<EmulatorServer> {
  const stopping = new AbortController();
  let baseUrl = "";

  const server: Server = createServer((req, res) => {
    // Concatenated, not resolved: a request target like `//host/x` must stay a path.
    const url = new URL(`${baseUrl}${req.url ?? "/"}`);
    route(req, url)
      .catch((error: unknown) =>
        error instanceof BadRequest ? errorReply(400, "BadArgument", error.message) : errorReply(500, "InternalServerError", String(error)),
      )
      .then((reply) => {
        if (!res.headersSent && !res.destroyed) writeReply(res, reply);
      })
      .catch(() => res.destroy());
  });

  async function route(req: IncomingMessage, url: URL): Promise<Reply> {
    const { pathname } = url;
    if (req.method === "GET" && pathname === PATHS.openIdMetadata) {
      return (await intercept("openIdMetadata", undefined)) ?? { status: 200, body: openIdMetadata(baseUrl) };
    }
    if (req.method === "GET" && pathname === PATHS.jwks) {
      return (await intercept("jwks", undefined)) ?? { status: 200, body: jwksDocument([deps.keys.trusted, deps.keys.notEndorsed]) };
    }
    if (pathname === PATHS.managedIdentity) return managedIdentity(req, url);
    if (pathname.startsWith(PATHS.serviceUrl)) return connector(req, url);
    if (pathname.startsWith(PATHS.control)) {
      if (!isLoopbackAddress(req.socket.remoteAddress)) return errorReply(403, "Forbidden", "The control API is loopback-only.");
      return deps.control(req, url, parseJson(await readBody(req)));
    }
    return errorReply(404, "NotFound", `No route for ${req.method} ${pathname}`);
  }

  async function managedIdentity(req: IncomingMessage, url: URL): Promise<Reply> {
    const at = Date.now();
    await readBody(req);
    const reply =
      req.method !== "GET"
        ? { status: 405, body: { error: "invalid_request", error_description: "GET only" } }
        : ((await intercept("token", undefined)) ??
          managedIdentityToken(url, req.headers, { issuer: deps.issuer, appId: deps.appId, identityHeader: deps.identityHeader }));
    record({ method: req.method ?? "", path: url.pathname + url.search, operation: "token", status: reply.status, at });
    return reply;
  }

  async function connector(req: IncomingMessage, url: URL): Promise<Reply> {
    const at = Date.now();
    const route: ConnectorRoute = matchConnectorRoute(req.method ?? "", url.pathname.slice(PATHS.serviceUrl.length));
    let body: unknown;
    let reply: Reply;
    try {
      body = parseJson(await readBody(req));
      reply = await authorizedConnectorCall(req, route, body, url.searchParams);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      reply = errorReply(400, "BadArgument", error.message);
    }
    record({
      method: req.method ?? "",
      path: url.pathname + url.search,
      operation: route.operation,
      ...(route.conversationId === undefined ? {} : { conversationId: route.conversationId }),
      ...(route.activityId === undefined ? {} : { activityId: route.activityId }),
      ...(body === undefined ? {} : { body }),
      status: reply.status,
      at,
    });
    return reply;
  }

  async function authorizedConnectorCall(req: IncomingMessage, route: ConnectorRoute, body: unknown, query: URLSearchParams): Promise<Reply> {
    const rejection = deps.issuer.connectorRejection(bearerToken(req));
    if (rejection) {
      return errorReply(401, "Unauthorized", `Authorization has been denied for this request: ${rejection}.`, {
        "www-authenticate": "Bearer",
      });
    }
    const fault = await intercept(route.operation, route.conversationId);
    if (fault) return fault;
    if (route.operation !== "unknown") {
      const retryAfterSec = deps.limiter.check(route.operation, route.conversationId);
      if (retryAfterSec !== undefined) {
        return errorReply(
          429,
          "Throttled",
          "Too many requests.",
          deps.limiter.sendsRetryAfter ? { "retry-after": String(retryAfterSec) } : undefined,
        );
      }
    }
    return deps.connector.handle(route, { body, query });
  }

  /** Applies an armed fault: waits `delayMs`, then drops the connection or answers its status, or undefined to carry on (status 200). */
  async function intercept(operation: RecordedCall["operation"], conversationId: string | undefined): Promise<Reply | undefined> {
    const fault = deps.faults.take(operation, conversationId);
    if (!fault) return undefined;
    if (fault.delayMs) await sleep(fault.delayMs, undefined, { signal: stopping.signal });
    if (fault.disconnect) return { status: 0, disconnect: true };
    return fault.status === 200 ? undefined : faultReply(fault);
  }

  function record(call: RecordedCall): void {
    deps.calls.push(call);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("Emulator server has no TCP address");
  baseUrl = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;

  return {
    url: baseUrl,
    async stop() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function openIdMetadata(baseUrl: string): Record<string, unknown> {
  return {
    issuer: BOT_FRAMEWORK_ISSUER,
    authorization_endpoint: `${baseUrl}/v1/authorize`,
    jwks_uri: `${baseUrl}${PATHS.jwks}`,
    id_token_signing_alg_values_supported: ["RS256"],
    token_endpoint_auth_signing_alg_values_supported: ["RS256"],
  };
}
