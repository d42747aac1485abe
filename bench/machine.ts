import { execFileSync } from "node:child_process";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import { ROOT } from "./paths";

export interface Machine {
  node: string;
  cpuModel: string;
  cpuCount: number;
  memoryGiB: number;
  os: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAtStart: number;
  date: string;
  /** The code measured: HEAD, and the files changed on top of it (bench/ and the report aside). */
  code: string;
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    node: process.version,
    cpuModel: cores[0]?.model.trim() ?? "unknown",
    cpuCount: cores.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${type()} ${release()}`,
    loadAtStart: Math.round(loadavg()[0]! * 100) / 100,
    date: new Date().toISOString(),
    code: describeCode(),
  };
}

function describeCode(): string {
  try {
    const git = (...args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" });
    const head = git("log", "-1", "--format=%h (%cs)").trim();
    const changed = git("status", "--porcelain")
      .split("\n")
      .map((line) => line.slice(3))
      .filter((path) => path && !path.startsWith("bench/") && path !== "BENCHMARKS.md");
    return changed.length ? `${head} + uncommitted changes to ${changed.join(", ")}` : head;
  } catch {
    return "unknown (not a git checkout)";
  }
}
