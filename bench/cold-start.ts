// Cold start proxy: a fresh plain `node` process requiring the deployable bundle, as the Functions
// worker does on a new instance, with a stand-in for the worker's `@azure/functions-core` (the same one
// test/e2e/bundle.test.ts uses) so the app registers its functions exactly as in production. Beside it,
// in the same rounds, other chat-bot stacks (bench/anchors.ts), so the figure reads as a ratio.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { validSettings } from "../test/fixtures/settings";
import { installAnchors } from "./anchors";
import { ROOT } from "./paths";
import { summarize, type Summary } from "./stats";

export const BUNDLE = join(ROOT, "dist", "index.js");
const CHUNKS = join(ROOT, "dist", "chunks");
/** The anchor the goal is set against: the app should load in at most half its time. */
export const GOAL_ANCHOR = "@slack/bolt";
export const GOAL_RATIO = 0.5;

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
  /** `name@version` of an anchor package. */
  anchor?: string;
}

export interface ColdStartRow {
  label: string;
  /** Set on the other stacks' rows: `name@version`. */
  anchor?: string;
  /** Spawn until the child printed its marker after `require` returned. */
  spawnToReadyMs: Summary;
  /** Time inside the child spent in `require` alone. */
  requireMs: Summary;
}

export interface ColdStartResult {
  /** What Node loads at start: dist/index.js and the chunk files it requires at once. */
  bundleBytes: number;
  /** The other dist/chunks/*.js, loaded on first use (a function's first call, Discord, @azure/identity…), not at start. */
  chunkBytes: number;
  warmupRounds: number;
  /** The floor, the `@azure/functions` baseline, the app, then the anchors, in that order. */
  rows: ColdStartRow[];
}

export async function measureColdStart(runs: number, progress: (line: string) => void): Promise<ColdStartResult> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  // Without the registry (offline), the app is still measured; the report says the anchors are missing.
  const anchors = await installAnchors(progress).catch((error: unknown) => {
    progress(`cold start: no anchors, installing them failed: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
    return [];
  });
  const variants: Variant[] = [
    { label: "node, empty script (floor)" },
    { label: "require('@azure/functions') (baseline)", module: "@azure/functions" },
    { label: "require('dist/index.js') (the app)", module: BUNDLE },
    ...anchors.map((a) => ({ label: `require('${a.name}') ${a.version} (anchor)`, module: a.entry, anchor: `${a.name}@${a.version}` })),
  ];
  const workerModules = fakeWorkerModules();
  const warmupRounds = 1;
  const samples = variants.map(() => ({ spawnToReady: [] as number[], require: [] as number[] }));
  try {
    // Rounds interleave the variants, so drift on the machine (other load, page cache) hits all alike.
    for (let round = 0; round < warmupRounds + runs; round++) {
      for (const [i, variant] of variants.entries()) {
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
  const atStart = await filesLoadedAtStart(fakeWorkerModules());
  const allFiles = [
    BUNDLE,
    ...(existsSync(CHUNKS)
      ? readdirSync(CHUNKS)
          .filter((f) => f.endsWith(".js"))
          .map((f) => join(CHUNKS, f))
      : []),
  ];
  const size = (files: string[]) => files.reduce((sum, file) => sum + statSync(file).size, 0);
  return {
    bundleBytes: size(atStart),
    chunkBytes: size(allFiles.filter((file) => !atStart.includes(file))),
    warmupRounds,
    rows: variants.map((variant, i) => ({
      label: variant.label,
      ...(variant.anchor ? { anchor: variant.anchor } : {}),
      spawnToReadyMs: summarize(samples[i]!.spawnToReady),
      requireMs: summarize(samples[i]!.require),
    })),
  };
}

export interface AnchorRatio {
  anchor: string;
  /** The app's median over the anchor's median, same run. */
  require: number;
  spawnToReady: number;
}

/** The app against each anchor (and the `@azure/functions` baseline), by medians of the same run. */
export function anchorRatios(r: ColdStartResult): AnchorRatio[] {
  const app = r.rows[2]!;
  const others = [r.rows[1]!, ...r.rows.filter((row) => row.anchor)];
  return others.map((row) => ({
    anchor: row.anchor ?? "@azure/functions (the baseline, the app's own copy)",
    require: app.requireMs.median / row.requireMs.median,
    spawnToReady: app.spawnToReadyMs.median / row.spawnToReadyMs.median,
  }));
}

/** The files of dist/ a fresh node has loaded once `require` of the bundle returned. */
async function filesLoadedAtStart(workerModules: string): Promise<string[]> {
  const script = `require(${JSON.stringify(BUNDLE)}); const dist = ${JSON.stringify(join(ROOT, "dist") + "/")};
process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((file) => file.startsWith(dist))));`;
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, NODE_PATH: workerModules, ...validSettings() } as NodeJS.ProcessEnv,
    });
    return JSON.parse(stdout) as string[];
  } finally {
    rmSync(workerModules, { recursive: true, force: true });
  }
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
