// Starts Azurite (the Azure Storage emulator) as a child process. Azurite has no supported
// programmatic API, so we run its CLI and read the "listening at" lines it prints.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

export interface AzuriteOptions {
  /** Keep all data in memory (tests). Cannot be combined with `location`. Default false. */
  inMemory?: boolean;
  /** Where persistent data goes when not in memory. Default `.azurite` (relative to the cwd). */
  location?: string;
  /** `random` lets the OS pick free ports (tests); `default` uses 10000-10002. Default `default`. */
  ports?: "random" | "default";
}

export interface Azurite {
  connectionString: string;
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  stop(): Promise<void>;
}

/** Azurite's published development account; not a secret. */
const ACCOUNT_NAME = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const HOST = "127.0.0.1";
const DEFAULT_PORTS = { blob: 10000, queue: 10001, table: 10002 };
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const OUTPUT_LINES_KEPT = 50;

type Service = "blob" | "queue" | "table";
type Ports = Record<Service, number>;

/** See the file: an in-memory Azurite's queue garbage collection is put off to the end of its run. */
export const IN_MEMORY_PRELOAD = resolve(__dirname, "azurite-in-memory.cjs");

const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/;

export async function startAzurite(opts: AzuriteOptions = {}): Promise<Azurite> {
  if (opts.inMemory && opts.location !== undefined) {
    throw new Error("startAzurite: `inMemory` and `location` cannot be combined (Azurite rejects it)");
  }
  const preload = opts.inMemory ? ["--require", IN_MEMORY_PRELOAD] : [];
  const child = spawn(process.execPath, [...preload, azuriteCli(), ...azuriteArgs(opts)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // A test runner that dies without calling stop() must not leave Azurite behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.removeListener("exit", killOnExit);
    await terminate(child);
  };
  try {
    const ports = await waitUntilListening(child);
    return { ...endpoints(ports), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function azuriteCli(): string {
  return require.resolve("azurite/dist/src/azurite.js");
}

function azuriteArgs(opts: AzuriteOptions): string[] {
  const args = ["--silent", "--skipApiVersionCheck", "--disableTelemetry", ...["--blobHost", HOST, "--queueHost", HOST, "--tableHost", HOST]];
  if (opts.inMemory) {
    args.push("--inMemoryPersistence", "--extentMemoryLimit", "256");
  } else {
    const location = resolve(opts.location ?? ".azurite");
    mkdirSync(location, { recursive: true });
    args.push("--location", location);
  }
  const ports = opts.ports === "random" ? { blob: 0, queue: 0, table: 0 } : DEFAULT_PORTS;
  args.push("--blobPort", String(ports.blob), "--queuePort", String(ports.queue), "--tablePort", String(ports.table));
  return args;
}

function waitUntilListening(child: ChildProcess): Promise<Ports> {
  return new Promise((resolvePorts, reject) => {
    const found: Partial<Ports> = {};
    const output: string[] = [];
    const fail = (reason: string) => {
      clearTimeout(timer);
      reject(new Error(`Azurite ${reason}. Output:\n${output.join("\n") || "(none)"}`));
    };
    const timer = setTimeout(() => fail(`was not listening within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);

    onLines(child, (line) => {
      output.push(line);
      if (output.length > OUTPUT_LINES_KEPT) output.shift();
      const match = LISTENING.exec(line);
      if (!match) return;
      found[match[1]!.toLowerCase() as Service] = Number(match[2]);
      if (found.blob && found.queue && found.table) {
        clearTimeout(timer);
        resolvePorts(found as Ports);
      }
    });
    child.once("error", (error) => fail(`could not be started (${error.message})`));
    child.once("exit", (code, signal) => fail(`exited before it was ready (code ${code}, signal ${signal})`));
  });
}

/** Calls `onLine` for every line on stdout and stderr; keeps reading so the pipes never fill up. */
function onLines(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const lines = (pending + chunk).split(/\r?\n/);
      pending = lines.pop() ?? "";
      lines.filter(Boolean).forEach(onLine);
    });
  }
}

function endpoints(ports: Ports): Omit<Azurite, "stop"> {
  const url = (port: number) => `http://${HOST}:${port}/${ACCOUNT_NAME}`;
  const blobEndpoint = url(ports.blob);
  const queueEndpoint = url(ports.queue);
  const tableEndpoint = url(ports.table);
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT_NAME};AccountKey=${ACCOUNT_KEY};` +
    `BlobEndpoint=${blobEndpoint};QueueEndpoint=${queueEndpoint};TableEndpoint=${tableEndpoint};`;
  return { connectionString, blobEndpoint, queueEndpoint, tableEndpoint };
}

/** SIGTERM, then SIGKILL if the process hasn't exited after a grace period. */
async function terminate(child: ChildProcess): Promise<void> {
  const notRunning = child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
  if (notRunning) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
