// An HTTP proxy in front of an emulator that fails a share of the requests the way the platform does
// when it is busy or broken: 429 with and without Retry-After, 5xx, slow answers, and answers slower
// than the app's client waits (the request *was* handled: the app cannot know, an ambiguous timeout).
// The emulators have one-shot fault switches; a steady random share needs a layer in front of them.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultKind = "429-retry-after" | "429-bare" | "5xx" | "slow" | "timeout";
export const FAULT_KINDS: FaultKind[] = ["429-retry-after", "429-bare", "5xx", "slow", "timeout"];

export interface FaultPlan {
  /** Share of matching requests that get a fault (0.2 = 20 %). */
  rate: number;
  /** Which requests may get one. */
  matches(request: { method: string; path: string }): boolean;
  /** Uniform [0, 1): seeded, so a run can be replayed. */
  random(): number;
  /** Slow answers wait this long (well inside the app's client timeout). */
  slowMs: number;
  /** Answers to "timeout" faults wait this long: longer than the app's client timeout (10 s). */
  timeoutMs: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  setPlan(plan: FaultPlan | undefined): void;
  /** Faults served, by kind, since the last reset. */
  readonly served: Record<FaultKind, number>;
  /** Requests that matched the plan (faulted or not). */
  readonly matched: number;
  /** Every fault served, with the request it answered. */
  readonly log: readonly { kind: FaultKind; method: string; path: string }[];
  reset(): void;
  stop(): Promise<void>;
}

type Flavour = "teams" | "slack";

export async function startFaultProxy(target: string, flavour: Flavour): Promise<FaultProxy> {
  let plan: FaultPlan | undefined;
  const served = emptyCounts();
  let matched = 0;
  const log: { kind: FaultKind; method: string; path: string }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        done();
      }, ms);
      timers.add(timer);
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const path = req.url ?? "/";
      const fault = plan && plan.matches({ method: req.method ?? "GET", path }) ? pick(plan, () => matched++) : undefined;
      if (fault) log.push({ kind: fault, method: req.method ?? "GET", path });
      if (fault === "429-retry-after" || fault === "429-bare" || fault === "5xx") {
        served[fault]++;
        const answer = faultAnswer(flavour, fault, plan!);
        res.writeHead(answer.status, answer.headers).end(answer.body);
        return;
      }
      const upstream = await fetch(new URL(path, target), {
        method: req.method,
        headers: forwardHeaders(req),
        body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
        redirect: "manual",
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (fault) {
        served[fault]++;
        await wait(fault === "slow" ? plan!.slowMs : plan!.timeoutMs);
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"].includes(name)) headers[name] = value;
      });
      if (!res.destroyed) res.writeHead(upstream.status, headers).end(answer);
    })().catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(502).end("soak proxy: upstream failed");
      else res.destroy();
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setPlan: (next) => {
      plan = next;
    },
    get served() {
      return { ...served };
    },
    get matched() {
      return matched;
    },
    get log() {
      return log;
    },
    reset() {
      Object.assign(served, emptyCounts());
      matched = 0;
      log.length = 0;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** 30 % 429 with Retry-After, 20 % 429 without, 25 % 5xx, 20 % slow, 5 % slower than the client waits. */
function pick(plan: FaultPlan, count: () => void): FaultKind | undefined {
  count();
  if (plan.random() >= plan.rate) return undefined;
  const r = plan.random();
  if (r < 0.3) return "429-retry-after";
  if (r < 0.5) return "429-bare";
  if (r < 0.75) return "5xx";
  if (r < 0.95) return "slow";
  return "timeout";
}

function faultAnswer(flavour: Flavour, fault: FaultKind, plan: FaultPlan): { status: number; headers: Record<string, string>; body: string } {
  const status = fault === "5xx" ? [500, 502, 503][Math.floor(plan.random() * 3)]! : 429;
  const retryAfter: Record<string, string> = fault === "429-retry-after" ? { "retry-after": "1" } : {};
  if (flavour === "slack") {
    // Slack's rate limit is HTTP 429 with `{ok:false,error:"ratelimited"}`; its outages are bare 5xx pages.
    return status === 429
      ? { status, headers: { "content-type": "application/json", ...retryAfter }, body: JSON.stringify({ ok: false, error: "ratelimited" }) }
      : { status, headers: { "content-type": "text/html" }, body: "<html><body>Service Unavailable</body></html>" };
  }
  const code = status === 429 ? "Throttled" : "ServiceError";
  return {
    status,
    headers: { "content-type": "application/json", ...retryAfter },
    body: JSON.stringify({ error: { code, message: "Injected by the soak proxy." } }),
  };
}

function forwardHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ["host", "content-length", "connection", "transfer-encoding"].includes(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function emptyCounts(): Record<FaultKind, number> {
  return { "429-retry-after": 0, "429-bare": 0, "5xx": 0, slow: 0, timeout: 0 };
}

/** mulberry32: a small seeded generator, so the faults of a run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
