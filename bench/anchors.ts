// Anchors for the cold-start benchmark: other chat-bot stacks, loaded the same way in the same run, so
// the app's load time reads as a ratio that holds on any machine. Their exact versions (and every
// transitive one) are pinned by bench/anchors/package.json and package-lock.json and installed with
// `npm ci` into .tmp/bench-anchors/, outside the project's own dependencies.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./paths";

const PINNED = join(ROOT, "bench", "anchors");
export const ANCHORS_DIR = join(ROOT, ".tmp", "bench-anchors");
const MANIFESTS = ["package.json", "package-lock.json"];

export interface Anchor {
  /** Package name, e.g. `@slack/bolt`. */
  name: string;
  version: string;
  /** Absolute path of the file `require(name)` loads, for a child process started anywhere. */
  entry: string;
}

/** Installs the pinned anchors unless .tmp/bench-anchors/ already holds exactly them. */
export async function installAnchors(progress: (line: string) => void): Promise<Anchor[]> {
  const names = Object.keys(
    (JSON.parse(readFileSync(join(PINNED, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies,
  );
  if (!isInstalled(names)) {
    progress(`cold start: installing the anchors (${names.join(", ")}) into ${ANCHORS_DIR}`);
    mkdirSync(ANCHORS_DIR, { recursive: true });
    for (const file of MANIFESTS) copyFileSync(join(PINNED, file), join(ANCHORS_DIR, file));
    await promisify(execFile)("npm", ["ci", "--prefix", ANCHORS_DIR, "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: ANCHORS_DIR,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  const require = createRequire(join(ANCHORS_DIR, "package.json"));
  return names.map((name) => ({
    name,
    version: (JSON.parse(readFileSync(join(ANCHORS_DIR, "node_modules", name, "package.json"), "utf8")) as { version: string }).version,
    entry: require.resolve(name),
  }));
}

function isInstalled(names: string[]): boolean {
  const same = (file: string) =>
    existsSync(join(ANCHORS_DIR, file)) && readFileSync(join(ANCHORS_DIR, file)).equals(readFileSync(join(PINNED, file)));
  return MANIFESTS.every(same) && names.every((name) => existsSync(join(ANCHORS_DIR, "node_modules", name, "package.json")));
}
