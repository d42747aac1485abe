import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";

import { tmpdir } from "node:os";

import { join } from "node:path";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { buildIfStale, isStale } from "../../dev/host/build-if-stale";

// A stand-in checkout whose dev/build.mjs counts its runs and takes a while, like esbuild, and writes
// a bundle that loads a chunk on first use, as the real one does.
const FAKE_BUILD = `
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";




appendFileSync("builds.log", "built\\n");
await new Promise((resolve) => setTimeout(resolve, 300));
mkdirSync("dist/chunks", { recursive: true });
writeFileSync("dist/chunks/botframework-connector.js", "exports.loaded = true;");
writeFileSync("dist/index.js", 'exports.functionTable = []; exports.auth = () => Promise.resolve().then(() => require("./chunks/botframework-connector.js"));');
`;

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "build-if-stale-"));
  mkdirSync(join(root, "dev"));
  mkdirSync(join(root, "functions"));
  writeFileSync(join(root, "dev", "build.mjs"), FAKE_BUILD);
  writeFileSync(join(root, "functions", "index.ts"), "export {};");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const builds = () => readFileSync(join(root, "builds.log"), "utf8").trim().split("\n").length;

function age(path: string, secondsAgo: number): void {
  const when = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, when, when);
}

describe("buildIfStale", () => {
  it("builds a missing bundle once, even when several hosts start together", async () => {
    expect(isStale(root)).toBe(true);
    await Promise.all([1, 2, 3].map(() => buildIfStale(root, () => undefined)));
    expect(builds()).toBe(1);
    expect(isStale(root)).toBe(false);
  });

  it("rebuilds when a source is newer than the bundle, and only then", async () => {
    await buildIfStale(root, () => undefined);
    age(join(root, "dist", "index.js"), 30);
    age(join(root, "dev", "build.mjs"), 60);
    age(join(root, "functions", "index.ts"), 60);
    expect(isStale(root)).toBe(false);

    mkdirSync(join(root, "shared", "cards"), { recursive: true });
    writeFileSync(join(root, "shared", "cards", "view.ts"), "export {};");
    const lines: string[] = [];
    await buildIfStale(root, (line) => lines.push(line));
    expect(builds()).toBe(2);
    expect(lines).toEqual([expect.stringContaining("building dist/index.js")]);
  });

  it("rebuilds when a chunk file the bundle requires is missing or older than a source", async () => {
    await buildIfStale(root, () => undefined);
    const chunk = join(root, "dist", "chunks", "botframework-connector.js");
    rmSync(chunk);
    expect(isStale(root)).toBe(true);
    await buildIfStale(root, () => undefined);
    expect(builds()).toBe(2);

    age(join(root, "dev", "build.mjs"), 60);
    age(join(root, "functions", "index.ts"), 60);
    age(chunk, 90);
    expect(isStale(root)).toBe(true);
    age(chunk, 30);
    expect(isStale(root)).toBe(false);
  });
});
