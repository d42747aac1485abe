// A local stand-in for the Azure Functions host. Outside the real host, @azure/functions registers
// nothing ("test mode"), so we serve the app's own `functionTable` (functions/index.ts) instead:
// HTTP functions on node:http, queue functions by polling storage with the host's semantics.
//
// Deliberate gaps: no function keys (authLevel isn't enforced, as under Core Tools), no output or
// input bindings (handlers write through the storage SDK), no HTTP streaming, retry policies,
// dynamic concurrency, hooks, functionTimeout or binding expressions. Storage is reached with the
// `AzureWebJobsStorage` connection string only: identity-based `AzureWebJobsStorage__*` settings
// are an Azure deployment concern and are refused here.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { QueueServiceClient } from "@azure/storage-queue";
import type { FunctionDefinition, HttpFunction, HttpMethod, QueueFunction } from "../../functions/table";
import { loadFunctionTable } from "./function-table";
import { readHostConfig, type HostConfig } from "./host-config";
import { compileHttpRoutes, createRequestHandler } from "./http-server";
import { createLogger, type HostLogger, type LineSink } from "./logger";
import { startQueueListener, type QueueListener } from "./queue-listener";
import { loadLocalSettings } from "./settings";

export interface LocalHostOptions {
  /** The built CommonJS bundle exporting `functionTable`, e.g. `dist/index.js`. */
  appPath: string;
  /** 0 picks a free port. Default 7071. */
  port?: number;
  /** Default 127.0.0.1: a dev host is not for the network. */
  hostname?: string;
  /** Default `host.json` in the working directory. */
  hostJsonPath?: string;
  /** Default `local.settings.json` next to host.json; `false` skips it (tests). */
  localSettingsPath?: string | false;
  /** Where log lines go. Default stdout. */
  log?: LineSink;
  /** Larger request bodies get 413. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long a received queue message stays leased while its handler runs. Default 600 (the host's). */
  queueLeaseSeconds?: number;
}

export type FunctionSummary =
  | { name: string; kind: "http"; methods: HttpMethod[]; route: string; authLevel: HttpFunction["authLevel"] }
  | { name: string; kind: "queue"; queueName: string };

export interface LocalHost {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  functions: FunctionSummary[];
  /** Stops accepting requests and polling, and waits for invocations in flight. */
  stop(): Promise<void>;
}

const DEFAULT_PORT = 7071;
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
const HOST_LEASE_SECONDS = 600;
const FORCE_CLOSE_AFTER_MS = 10_000;

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const logger = createLogger(options.log ?? ((line) => process.stdout.write(`${line}\n`)));
  const hostJsonPath = resolve(options.hostJsonPath ?? "host.json");
  const config = readHostConfig(hostJsonPath);
  // Settings before the app: it may read process.env while it loads.
  loadSettings(options.localSettingsPath ?? join(dirname(hostJsonPath), "local.settings.json"), logger);
  const table = loadFunctionTable(resolve(options.appPath));
  const httpFunctions = table.filter((fn): fn is HttpFunction => fn.kind === "http");
  const queueFunctions = table.filter((fn): fn is QueueFunction => fn.kind === "queue");
  const functions = summarize(table, config.routePrefix);

  const queueService = queueFunctions.length > 0 ? queueServiceFromEnvironment() : undefined;
  if (queueService) await checkStorageReachable(queueService);
  const routes = compileHttpRoutes(httpFunctions, config.routePrefix, config.logLevelFor);
  const server = createServer(
    createRequestHandler({
      routes,
      logger,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      adminEndpoints: { "/admin/functions": () => functions },
    }),
  );
  const hostname = options.hostname ?? "127.0.0.1";
  const port = await listen(server, options.port ?? DEFAULT_PORT, hostname);
  const listeners = queueFunctions.map((fn) =>
    startQueueListener({
      fn,
      queueService: queueService!, // set whenever there are queue functions
      settings: config.queues,
      logger,
      logLevel: config.logLevelFor(fn.name),
      leaseSeconds: options.queueLeaseSeconds ?? HOST_LEASE_SECONDS,
    }),
  );

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${hostname}:${port}`,
    port,
    functions,
    stop: () => (stopping ??= stopAll(server, listeners)),
  };
}

function loadSettings(path: string | false, logger: HostLogger): void {
  if (path === false) return;
  const loaded = loadLocalSettings(path);
  if (loaded > 0) logger.info(`loaded ${loaded} setting(s) from ${path}`);
}

function summarize(table: FunctionDefinition[], routePrefix: string): FunctionSummary[] {
  return table.map((fn) =>
    fn.kind === "http"
      ? {
          name: fn.name,
          kind: "http",
          methods: fn.methods,
          route: `/${[routePrefix, fn.route || fn.name].filter(Boolean).join("/")}`,
          authLevel: fn.authLevel,
        }
      : { name: fn.name, kind: "queue", queueName: fn.queueName },
  );
}

function queueServiceFromEnvironment(): QueueServiceClient {
  const connectionString = process.env.AzureWebJobsStorage;
  if (connectionString) {
    // Few, quick retries: the listener backs off by itself, and stop() shouldn't wait on SDK retries.
    return QueueServiceClient.fromConnectionString(connectionString, {
      retryOptions: { maxTries: 2, retryDelayInMs: 100, maxRetryDelayInMs: 1000 },
    });
  }
  const identityBased = Object.keys(process.env).some((name) => name.startsWith("AzureWebJobsStorage__"));
  throw new Error(
    identityBased
      ? "the local host supports AzureWebJobsStorage as a connection string only, not identity-based AzureWebJobsStorage__* settings"
      : "AzureWebJobsStorage is not set: queue-triggered functions need a storage connection string (Azurite: UseDevelopmentStorage=true)",
  );
}

/** Storage could not be reached at all (nothing listening, unknown host): said once, before anything starts. */
export class StorageUnreachableError extends Error {
  constructor(
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(
      `storage is not reachable at ${endpoint} (AzureWebJobsStorage). ` +
        "Start Azurite first with `npm run azurite` in another terminal, or run `npm start`, which starts its own.",
      { cause },
    );
    this.name = "StorageUnreachableError";
  }
}

const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ETIMEDOUT/;

async function checkStorageReachable(queueService: QueueServiceClient): Promise<void> {
  try {
    await queueService.getProperties({ abortSignal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const { code, message, name } = error as { code?: string; message?: string; name?: string };
    // Anything else (a wrong key, a missing permission) reaches storage: the listeners report it as they poll.
    if (UNREACHABLE.test(`${code} ${message}`) || name === "AbortError") throw new StorageUnreachableError(new URL(queueService.url).host, error);
  }
}

function listen(server: Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolveListening, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${hostname}:${port}: ${error.code ?? error.message}`));
    server.once("error", onError);
    server.listen(port, hostname, () => {
      server.removeListener("error", onError);
      resolveListening((server.address() as AddressInfo).port);
    });
  });
}

async function stopAll(server: Server, listeners: QueueListener[]): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  // Keep-alive connections would hold close() open: drop them as soon as they are idle.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  const forceClose = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_AFTER_MS);
  try {
    await Promise.all([...listeners.map((listener) => listener.stop()), closed]);
  } finally {
    clearInterval(sweeper);
    clearTimeout(forceClose);
  }
}
