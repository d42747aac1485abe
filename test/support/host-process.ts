// Runs `dev/host-cli.ts` in its own Node process, as e2e tests need: the built bundle is loaded by
// plain Node `require`, not by vitest's module runner (which would mask bundling problems).
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { waitFor } from "./wait";

export interface HostProcessOptions {
  /** Merged over a minimal base env (PATH, HOME, temp dirs); `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Default 0: a free port, so parallel test files never collide. */
  port?: number;
  /** Extra host-cli options, e.g. `["--app", "test/host/fixtures/app.js"]`. */
  args?: string[];
  /** Read local.settings.json too. Default false: tests see only the env they pass. */
  localSettings?: boolean;
  /** Default 30 s (includes building the bundle when stale). */
  startTimeoutMs?: number;
}

export interface HostProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The host's process id (to sample its memory, or to kill it as a crash would). */
  pid: number;
  /** Every line the process printed so far, stdout and stderr interleaved. */
  logs(): string[];
  /** SIGTERM (the host drains in-flight work), SIGKILL after 10 s; resolves with how it exited. */
  stop(): Promise<ExitStatus>;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const ROOT = resolve(__dirname, "..", "..");
const LISTENING = /host listening on http:\/\/[^:\s]+:(\d+)/;
const STOP_GRACE_MS = 10_000;
const BASE_ENV_NAMES = ["PATH", "HOME", "TMPDIR", "TMP", "TEMP", "SystemRoot", "USERPROFILE", "APPDATA"];

export async function startHostProcess(options: HostProcessOptions = {}): Promise<HostProcess> {
  const args = ["--import", "tsx", join(ROOT, "dev", "host-cli.ts"), ...(options.args ?? [])];
  if (!options.localSettings) args.push("--no-local-settings");
  // `node --import tsx` rather than the tsx CLI: one process, so signals reach the host directly
  // and a killed test run can't orphan a grandchild.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: processEnv(options),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  collectLines(child, lines);
  const exited = new Promise<ExitStatus>((done) => {
    child.once("exit", (code, signal) => done({ code, signal }));
    child.once("error", (error) => {
      lines.push(`could not run the host: ${error.message}`);
      done({ code: null, signal: null });
    });
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async (): Promise<ExitStatus> => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  try {
    const port = await waitForListening(child, lines, options.startTimeoutMs ?? 30_000);
    return { url: `http://127.0.0.1:${port}`, port, pid: child.pid!, logs: () => [...lines], stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function processEnv(options: HostProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NO_COLOR: "1" };
  for (const name of BASE_ENV_NAMES) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  env.PORT = String(options.port ?? 0);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function collectLines(child: ChildProcess, lines: string[]): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      const parts = (pending + chunk).split(/\r?\n/);
      pending = parts.pop() ?? "";
      lines.push(...parts);
    });
    stream?.on("end", () => pending && lines.push(pending));
  }
}

function waitForListening(child: ChildProcess, lines: string[], timeoutMs: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const output = () => lines.join("\n") || "(no output)";
    const finish = (settle: () => void) => {
      clearInterval(poller);
      clearTimeout(timer);
      child.removeListener("exit", onExit);
      settle();
    };
    const poller = setInterval(() => {
      const port = lines.map((line) => LISTENING.exec(line)?.[1]).find(Boolean);
      if (port) finish(() => resolvePort(Number(port)));
    }, 20);
    const timer = setTimeout(
      () => finish(() => reject(new Error(`host did not start listening within ${timeoutMs} ms. Output:\n${output()}`))),
      timeoutMs,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      // Give the last output a moment to arrive before reporting it.
      setTimeout(() => finish(() => reject(new Error(`host exited (code ${code}, signal ${signal}) before listening. Output:\n${output()}`))), 50);
    child.once("exit", onExit);
  });
}

/**
 * The host's log from line `from` on, once a line matching `match` is in it. Lines come through a pipe from the
 * host's process, so one can arrive after the HTTP answer (or the storage write) it goes with.
 */
export async function logsOnceLogged(host: Pick<HostProcess, "logs">, match: string | RegExp, from = 0): Promise<string> {
  const matches = (line: string) => (typeof match === "string" ? line.includes(match) : match.test(line));
  await waitFor(() => host.logs().slice(from).some(matches), { intervalMs: 20, description: `a log line matching ${String(match)}` });
  return host.logs().slice(from).join("\n");
}
