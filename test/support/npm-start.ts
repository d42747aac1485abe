// `npm start` (dev/start.ts) as a developer runs it, in its own process on free ports, for the tests of it.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { freePort, isFree } from "./ports";
import { waitFor } from "./wait";

const ROOT = resolve(__dirname, "..", "..");

export interface NpmStartOptions {
  /** TRIAGE_DEV_DATA: where the demo keeps its state between runs. */
  dataDir: string;
  /** The caller's environment, over the minimal one (PATH, HOME, the ports). */
  env?: Record<string, string>;
  /** Looks around while everything runs; `port` is the app's, the emulators' follow it. */
  whileRunning?: (port: number, output: () => string) => Promise<void>;
}

export interface NpmStartRun {
  /** The app's port (the Teams emulator's is port + 1). */
  port: number;
  /** Everything it printed, stdout and stderr. */
  output: string;
  exitCode: number | null;
}

/** Runs npm start until it says it is ready, lets `whileRunning` look around, then presses Ctrl-C once. */
export async function runNpmStart(options: NpmStartOptions): Promise<NpmStartRun> {
  const port = await fivePortsInARow();
  const chunks: string[] = [];
  const output = () => chunks.join("");
  const child = spawn(process.execPath, ["--import", "tsx", resolve(ROOT, "dev", "start.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      TRIAGE_DEV_DATA: options.dataDir,
      TRIAGE_DEV_AZURITE_PORTS: "random",
      NO_COLOR: "1",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  try {
    await waitFor(() => output().includes("Ctrl-C stops everything") || undefined, {
      timeoutMs: 60_000,
      description: `npm start to be ready:\n${output()}`,
    });
    await options.whileRunning?.(port, output);
  } finally {
    child.kill("SIGINT");
  }
  return { port, exitCode: await exited, output: output() };
}

/** The app's port and the four emulators' after it, all free. */
async function fivePortsInARow(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const first = await freePort();
    if ((await Promise.all([1, 2, 3, 4].map((offset) => isFree(first + offset)))).every(Boolean)) return first;
  }
  throw new Error("no five free ports in a row");
}
