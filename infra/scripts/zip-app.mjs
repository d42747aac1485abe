#!/usr/bin/env node
// Packs the Functions app for `az functionapp deployment source config-zip`:
// host.json, package.json and dist/ (the esbuild bundle and the chunk files it loads on first use),
// nothing else.
//
//   node infra/scripts/zip-app.mjs --out app.zip [--root <project dir>]
//
// Prints the package's SHA-256. The zip is deterministic (sorted entries, fixed
// timestamps), so an unchanged build gives an unchanged hash and deploy.sh can
// skip publishing it.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { zipSync } from "fflate";

// DOS timestamps are local time and start in 1980; a local-time date keeps the bytes equal across time zones.
const FIXED_MTIME = new Date(1980, 0, 1);

export function appFiles(root) {
  for (const required of ["host.json", "package.json", "dist/index.js"]) {
    if (!existsSync(path.join(root, required))) throw new Error(`${required} not found in ${root}`);
  }
  const dist = readdirSync(path.join(root, "dist"), { recursive: true, encoding: "utf8" })
    .map((entry) => `dist/${entry.split(path.sep).join("/")}`)
    // dist/ also receives the Teams app package; archives never belong in the app.
    .filter((entry) => statSync(path.join(root, entry)).isFile() && !entry.endsWith(".zip"));
  // A missing chunk would not stop the app from starting, only fail its first Teams request in Azure.
  const missing = requiredChunks(root).filter((chunk) => !dist.includes(chunk));
  if (missing.length > 0) throw new Error(`${missing.join(", ")} not found in ${root} (dist/index.js loads it): run npm run build`);
  return ["host.json", "package.json", ...dist].sort();
}

/** The dist/chunks/*.js files dist/index.js requires, at start or on first use, and the chunks those require. */
function requiredChunks(root) {
  const found = new Set();
  const read = (file) => {
    const text = existsSync(path.join(root, file)) ? readFileSync(path.join(root, file), "utf8") : "";
    for (const match of text.matchAll(/\brequire\("\.\/((?:chunks\/)?[\w.-]+\.js)"\)/g)) {
      const chunk = file === "dist/index.js" ? `dist/${match[1]}` : `dist/chunks/${match[1].replace(/^chunks\//, "")}`;
      if (found.has(chunk)) continue;
      found.add(chunk);
      read(chunk);
    }
  };
  read("dist/index.js");
  return [...found];
}

export function zipApp(root) {
  const entries = Object.fromEntries(appFiles(root).map((file) => [file, readFileSync(path.join(root, file))]));
  return zipSync(entries, { level: 9, mtime: FIXED_MTIME });
}

function main() {
  const { values } = parseArgs({
    options: {
      root: { type: "string", default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..") },
      out: { type: "string" },
    },
  });
  if (!values.out) throw new Error("usage: zip-app.mjs --out <file.zip> [--root <dir>]");
  const zip = zipApp(path.resolve(values.root));
  mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
  writeFileSync(values.out, zip);
  process.stdout.write(`${createHash("sha256").update(zip).digest("hex")}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`zip-app: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
