// Rebuilds dist/ (`node dev/build.mjs`) when dist/index.js or a chunk file it requires is missing, or
// older than its sources.
// Several hosts may start at once (parallel e2e test files): a lock makes one of them build while
// the others wait, so nobody loads a half-written bundle.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const SOURCE_DIRS = ["functions", "shared"];
const SOURCE_FILES = ["dev/build.mjs", "package-lock.json"];
const LOCK_STALE_MS = 120_000;
const LOCK_POLL_MS = 200;

export async function buildIfStale(root: string, log: (line: string) => void): Promise<void> {
  if (!isStale(root)) return;
  await withLock(lockPathFor(root), async () => {
    if (!isStale(root)) return; // another process built it while we waited
    log("building dist/index.js and its chunks (missing or older than functions/, shared/)");
    await runBuild(root);
  });
}

export function isStale(root: string): boolean {
  const bundle = join(root, "dist", "index.js");
  if (!existsSync(bundle)) return true;
  const outputs = [bundle, ...chunksRequiredBy(bundle)];
  if (!outputs.every((file) => existsSync(file))) return true;
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  const sources = [...SOURCE_DIRS.flatMap((dir) => filesUnder(join(root, dir))), ...SOURCE_FILES.map((f) => join(root, f))];
  return sources.some((file) => existsSync(file) && statSync(file).mtimeMs > built);
}

/** The chunk files (dist/chunks/*.js) the bundle loads on first use: without them it starts, then fails later. */
export function chunksRequiredBy(bundle: string): string[] {
  const requires = readFileSync(bundle, "utf8").matchAll(/\brequire\("(\.\/chunks\/[\w.-]+\.js)"\)/g);
  return [...new Set([...requires].map((match) => join(dirname(bundle), match[1]!)))];
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function runBuild(root: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["dev/build.mjs"], { cwd: root, stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`node dev/build.mjs failed (exit code ${code})`))));
  });
}

/** One lock per checkout, outside the repo so a crash never leaves it in dist/. */
function lockPathFor(root: string): string {
  const id = createHash("sha256").update(root).digest("hex").slice(0, 16);
  return join(tmpdir(), `triage-relay-build-${id}.lock`);
}

/** mkdir is atomic: whoever creates the directory holds the lock. A lock older than 2 min is a crash's. */
async function withLock(path: string, work: () => Promise<void>): Promise<void> {
  for (;;) {
    try {
      mkdirSync(path);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() - lockCreatedAt(path) > LOCK_STALE_MS) rmSync(path, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  try {
    await work();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

function lockCreatedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now(); // released meanwhile: just retry
  }
}
