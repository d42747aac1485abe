// A local host process the fault suite can crash: like host-process.ts, plus `kill()` (SIGKILL, no
// draining: what a crashed or evicted instance does) and a short queue lease (soak/host-entry.ts),
// so a restart on the same port and the same Azurite picks up the messages the dead one held.
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import type { ExitStatus, HostProcess } from "./host-process";

export interface SoakHost extends HostProcess {
  /** SIGKILL: in-flight invocations die mid-way, leased messages stay invisible until the lease ends. */
  kill(): Promise<ExitStatus>;
  /** Resolves when the process exits, however it exits. */
  readonly exited: Promise<ExitStatus>;
}

export interface SoakHostOptions {
  env: Record<string, string>;
  port: number;
  /** Every line printed goes here too (kept across restarts by the caller). */
  onLine?: (line: string) => void;
  leaseSeconds?: number;
  startTimeoutMs?: number;
}

const ROOT = resolve(__dirname, "..", "..");
const LISTENING = /host listening on http:\/\/[^:\s]+:(\d+)/;
const BASE_ENV_NAMES = ["PATH", "HOME", "TMPDIR", "TMP", "TEMP"];

export async function startSoakHost(options: SoakHostOptions): Promise<SoakHost> {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1" };
  for (const name of BASE_ENV_NAMES) if (process.env[name] !== undefined) env[name] = process.env[name];
  Object.assign(env, options.env, { PORT: String(options.port), SOAK_QUEUE_LEASE_SECONDS: String(options.leaseSeconds ?? 20) });
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "soak", "host-entry.ts")], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let listening: (port: number) => void = () => {};
  const port = new Promise<number>((done) => (listening = done));
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (pending + chunk).split(/\r?\n/);
      pending = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        options.onLine?.(line);
        const match = LISTENING.exec(line);
        if (match) listening(Number(match[1]));
      }
    });
  }
  const exited = new Promise<ExitStatus>((done) => child.once("exit", (code, signal) => done({ code, signal })));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const settle = async (signal: NodeJS.Signals): Promise<ExitStatus> => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const started = await Promise.race([
    port,
    exited.then((status) => new Error(`host exited (${status.code ?? status.signal}) before listening:\n${lines.join("\n")}`)),
    new Promise<Error>((done) =>
      setTimeout(() => done(new Error(`host did not listen within ${timeoutMs} ms:\n${lines.join("\n")}`)), timeoutMs).unref(),
    ),
  ]);
  if (started instanceof Error) {
    await settle("SIGKILL");
    throw started;
  }
  return {
    url: `http://127.0.0.1:${started}`,
    port: started,
    pid: child.pid!,
    logs: () => [...lines],
    stop: () => settle("SIGTERM"),
    kill: () => settle("SIGKILL"),
    exited,
  };
}
