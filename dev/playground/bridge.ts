// The signing bridge between Microsoft 365 Agents Playground and the app, on loopback only.
// The Playground posts activities with no Bot Framework token; the app refuses those, as it should.
// The bridge signs each one as Bot Framework would (the Teams emulator's channel keys, which the app
// trusts through BOT_OPENID_METADATA_URL), forwards it to /api/messages and returns the app's answer
// unchanged. It signs only activities for the Playground's own serviceUrl, so it can't be used to
// mint tokens for anything else.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { normaliseServiceUrl } from "../../shared/teams/auth";

/** Bot Framework activities are far smaller; the app's own limit is the same. */
const MAX_BODY_BYTES = 1024 * 1024;
const FORWARD_TIMEOUT_MS = 30_000;

export interface SigningBridgeOptions {
  /** The app's messaging endpoint, e.g. `http://127.0.0.1:3978/api/messages`. */
  appMessagesUrl: string;
  /** The Playground's Bot Connector URL: the only `serviceUrl` the bridge signs for. */
  serviceUrl: string;
  /** A channel token for this serviceUrl (audience = the app id). */
  signToken(serviceUrl: string): Promise<string>;
  /** 0 (default) picks a free port. */
  port?: number;
  log?: (line: string) => void;
}

export interface SigningBridge {
  /** `http://127.0.0.1:<port>/api/messages`: give this to the Playground as its app endpoint. */
  readonly messagesUrl: string;
  stop(): Promise<void>;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

export async function startSigningBridge(options: SigningBridgeOptions): Promise<SigningBridge> {
  const log = options.log ?? ((line: string) => console.log(line));
  const expectedServiceUrl = normaliseServiceUrl(options.serviceUrl);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof Refused ? error.status : 502;
      const reason = error instanceof Error ? error.message : String(error);
      log(`signing bridge: ${request.method} ${request.url} answered ${status}: ${reason}`);
      if (!response.headersSent) response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      response.end(`${reason}\n`);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (new URL(request.url ?? "/", "http://bridge").pathname !== "/api/messages") throw new Refused(404, "only /api/messages is bridged");
    // The Playground checks that the app is up with a HEAD first: nothing to sign, pass it on.
    if (request.method === "HEAD" || request.method === "GET") {
      const answer = await fetch(options.appMessagesUrl, { method: request.method, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
      await relay(answer, response);
      return;
    }
    if (request.method !== "POST") throw new Refused(405, `${request.method} is not bridged`);

    const body = await readBody(request);
    const serviceUrl = serviceUrlOf(body);
    if (normaliseServiceUrl(serviceUrl) !== expectedServiceUrl) {
      throw new Refused(400, `activity serviceUrl ${serviceUrl} is not the Playground's (${options.serviceUrl}); not signed`);
    }
    const token = await options.signToken(serviceUrl);
    const answer = await fetch(options.appMessagesUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
    });
    await relay(answer, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    messagesUrl: `http://127.0.0.1:${port}/api/messages`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new Refused(413, `activity larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refused(413, `activity larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function serviceUrlOf(body: Buffer): string {
  let activity: unknown;
  try {
    activity = JSON.parse(body.toString("utf8"));
  } catch {
    throw new Refused(400, "activity is not JSON");
  }
  const serviceUrl = typeof activity === "object" && activity !== null ? (activity as { serviceUrl?: unknown }).serviceUrl : undefined;
  if (typeof serviceUrl !== "string") throw new Refused(400, "activity has no serviceUrl");
  return serviceUrl;
}

/** The app's answer as it came: status, content type, body. */
async function relay(answer: Response, response: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  const contentType = answer.headers.get("content-type");
  if (contentType) headers["content-type"] = contentType;
  const body = Buffer.from(await answer.arrayBuffer());
  response.writeHead(answer.status, headers);
  response.end(body);
}
