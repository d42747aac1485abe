// Cold start proxy: a fresh plain `node` process requiring the deployable bundle, as the Functions
// worker does on a new instance, with a stand-in for the worker's `@azure/functions-core` (the same one
// test/e2e/bundle.test.ts uses) so the app registers its functions exactly as in production.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validSettings } from "../test/fixtures/settings";
import { ROOT } from "./paths";
import { summarize, type Summary } from "./stats";

export const BUNDLE = join(ROOT, "dist", "index.js");

const FAKE_FUNCTIONS_CORE = `module.exports = {
  registerFunction() { return { dispose() {} }; },
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
};`;

const MARKER = "BENCH-READY";

interface Variant {
  label: string;
  /** What the child requires; undefined: nothing (node's own start-up). */
  module?: string;
}

const VARIANTS: Variant[] = [
  { label: "node, empty script (floor)" },
  { label: "require('@azure/functions') (baseline)", module: "@azure/functions" },
  { label: "require('dist/index.js') (the app)", module: BUNDLE },
];

export interface ColdStartRow {
  label: string;
  /** Spawn until the child printed its marker after `require` returned. */
  spawnToReadyMs: Summary;
  /** Time inside the child spent in `require` alone. */
  requireMs: Summary;
}

export interface ColdStartResult {
  bundleBytes: number;
  warmupRounds: number;
  rows: ColdStartRow[];
}

export async function measureColdStart(runs: number, progress: (line: string) => void): Promise<ColdStartResult> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  const workerModules = fakeWorkerModules();
  const warmupRounds = 1;
  const samples = VARIANTS.map(() => ({ spawnToReady: [] as number[], require: [] as number[] }));
  try {
    // Rounds interleave the variants, so drift on the machine (other load, page cache) hits all alike.
    for (let round = 0; round < warmupRounds + runs; round++) {
      for (const [i, variant] of VARIANTS.entries()) {
        const sample = await spawnAndRequire(variant, workerModules);
        if (round < warmupRounds) continue;
        samples[i]!.spawnToReady.push(sample.spawnToReadyMs);
        samples[i]!.require.push(sample.requireMs);
      }
      if (round >= warmupRounds) progress(`cold start: round ${round - warmupRounds + 1}/${runs}`);
    }
  } finally {
    rmSync(workerModules, { recursive: true, force: true });
  }
  return {
    bundleBytes: statSync(BUNDLE).size,
    warmupRounds,
    rows: VARIANTS.map((variant, i) => ({
      label: variant.label,
      spawnToReadyMs: summarize(samples[i]!.spawnToReady),
      requireMs: summarize(samples[i]!.require),
    })),
  };
}

function fakeWorkerModules(): string {
  const dir = mkdtempSync(join(tmpdir(), "bench-functions-core-"));
  mkdirSync(join(dir, "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(dir, "@azure", "functions-core", "index.js"), FAKE_FUNCTIONS_CORE);
  return dir;
}

function childScript(module: string | undefined): string {
  const load = module ? `require(${JSON.stringify(module)});` : "";
  return `const t = performance.now(); ${load} const r = performance.now() - t;
process.stdout.write("${MARKER} " + r + "\\n"); process.exit(0);`;
}

function spawnAndRequire(variant: Variant, workerModules: string): Promise<{ spawnToReadyMs: number; requireMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["-e", childScript(variant.module)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_PATH: workerModules, ...validSettings() } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let ready: { spawnToReadyMs: number; requireMs: number } | undefined;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = new RegExp(`${MARKER} ([\\d.]+)`).exec(stdout);
      if (match && !ready) ready = { spawnToReadyMs: performance.now() - started, requireMs: Number(match[1]) };
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      if (ready && code === 0) resolve(ready);
      else reject(new Error(`${variant.label} exited with ${code} before it was ready:\n${stderr || stdout}`));
    });
  });
}
