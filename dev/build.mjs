// Bundles the deployable app (functions/index.ts) into dist/index.js as CommonJS, plus the chunk files
// (dist/chunks/*.js) that it loads on first use. dev/ and test/ are never reachable from the entry
// point, so they are never bundled.
//
// Cold start: Node compiles every byte of a file it requires, even code that only runs inside an
// `import()` that never happens. So every `import()` in the app becomes a chunk of its own, required on
// first use: each function's handler (functions/function-table.ts), and big parts only some requests
// need (@azure/identity, Discord, release notices). Code shared by several chunks goes into shared
// chunks, so each module exists once and keeps one state. esbuild splits only ESM output, and Node's
// import() cannot see a CommonJS chunk's named exports: so the app is split as ESM into a scratch
// directory, then each file is turned into CommonJS on its own, every import becoming a require().
import { readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { build } from "esbuild";

const OUT_DIR = "dist";
const SPLIT_DIR = join(OUT_DIR, ".split");

/** Packages given a chunk file of their own name (others are named by esbuild after their module). */
const NAMED_CHUNKS = { "@azure/identity": "chunks/azure-identity" };

/**
 * Inputs that must never be in the files Node loads at start (dist/index.js and the chunks it requires
 * without import()): the build fails naming the static import chain that pulled one in.
 */
const LOADED_ON_FIRST_USE = [
  /^node_modules\/@azure\/identity\//,
  /^node_modules\/discord-api-types\//,
  /^node_modules\/@slack\/web-api\//,
  /^node_modules\/openid-client\//,
  /^shared\/discord\//,
  /^shared\/inbound\/discord\//,
  /^shared\/delivery\/discord-sender\.ts$/,
  /^shared\/cards\/(discord-message|release-[\w-]+)\.ts$/,
  /^shared\/workflows\/release-notices\.ts$/,
];

const { version } = JSON.parse(readFileSync("package.json", "utf8"));

// The previous build's files go first: a chunk no longer built must not ship in the zip, and a failed
// build must leave no dist/index.js behind, so that dev/host/build-if-stale.ts builds again.
for (const file of ["index.js", "index.js.map", "chunks", ".split"]) rmSync(join(OUT_DIR, file), { recursive: true, force: true });

const split = await build({
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  entryPoints: [{ in: "functions/index.ts", out: "index" }, ...Object.entries(NAMED_CHUNKS).map(([name, out]) => ({ in: name, out }))],
  outdir: SPLIT_DIR,
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: true,
  legalComments: "none",
  metafile: true,
  external: ["@azure/functions-core"],
  plugins: [zodNamespaceImports()],
  define: { __APP_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});

const inputs = Object.keys(split.metafile.inputs).map(fromRoot);
const leaked = inputs.filter((file) => /^(dev|test|bench)\//.test(file));
if (leaked.length > 0) fail(`dev/test code must never be bundled, found: ${leaked.join(", ")}`);
checkStartup(split.metafile);

const splitFiles = Object.keys(split.metafile.outputs).filter((file) => file.endsWith(".js"));
const commonJs = await build({
  entryPoints: splitFiles,
  outbase: SPLIT_DIR,
  outdir: OUT_DIR,
  bundle: false,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  // Whitespace only: it drops comments, which also keeps the output pure ASCII (esbuild already escapes
  // non-ASCII in strings and identifiers; one non-ASCII byte in a comment makes V8 decode and scan the
  // whole file as UTF-16, several times slower). Names stay as written, so stack traces stay readable;
  // short lines keep the source line Node prints with an uncaught error short too.
  minifyWhitespace: true,
  lineLimit: 160,
  legalComments: "none",
  charset: "ascii",
  metafile: true,
  // The Azure storage SDKs' ESM builds call createRequire(import.meta.url), which is empty in CJS.
  banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__import_meta_url" },
  // import() becomes require(): a CommonJS chunk's named exports are invisible to Node's import(), and
  // require() skips the ESM loader.
  supported: { "dynamic-import": false },
  logLevel: "warning",
});
rmSync(SPLIT_DIR, { recursive: true, force: true });

for (const file of Object.keys(commonJs.metafile.outputs).filter((file) => file.endsWith(".js"))) {
  const offset = readFileSync(file).findIndex((byte) => byte > 0x7f);
  if (offset >= 0) fail(`${file} must be pure ASCII (V8 loads it several times slower otherwise); non-ASCII byte at offset ${offset}`);
}

/** Fails the build if a LOADED_ON_FIRST_USE input is in a file required at start, naming how it got there. */
function checkStartup(metafile) {
  const entry = join(SPLIT_DIR, "index.js");
  const atStart = new Set([entry]);
  for (const file of atStart) {
    for (const { path, kind } of metafile.outputs[file].imports) if (kind === "import-statement" && path.endsWith(".js")) atStart.add(path);
  }
  const loadedAtStart = [...atStart].flatMap((file) => Object.keys(metafile.outputs[file].inputs));
  const wrong = loadedAtStart.filter((input) => LOADED_ON_FIRST_USE.some((pattern) => pattern.test(fromRoot(input))));
  if (wrong.length === 0) return;
  const named = [...new Set(wrong.map((input) => fromRoot(input).replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*/, "$1")))];
  fail(
    `these must load on first use, not at start (see LOADED_ON_FIRST_USE in dev/build.mjs): ${named.join(", ")}\n` +
      `import chain: ${staticChain(metafile, "functions/index.ts", wrong[0]).join(" -> ")}\n` +
      "load them with import() where they are needed.",
  );
}

/** The shortest chain of static imports from `from` to `to`, by the inputs' own import lists. */
function staticChain(metafile, from, to) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === to) break;
    for (const { path, kind } of metafile.inputs[current]?.imports ?? []) {
      if (kind === "dynamic-import" || previous.has(path)) continue;
      previous.set(path, current);
      queue.push(path);
    }
  }
  const chain = [];
  for (let at = to; at !== undefined; at = previous.get(at)) chain.unshift(fromRoot(at));
  return chain;
}

/** Metafile input paths are relative to the working directory; node_modules is a symlink in worktrees. */
function fromRoot(input) {
  return input.replace(/^(\.\.\/)+[^]*?node_modules\//, "node_modules/");
}

/**
 * `import { z } from "zod"` binds zod's namespace object as a value, so esbuild keeps all of zod: every
 * locale, JSON Schema conversion, 0.75 MB that V8 must compile at start. `import * as z from "zod"`
 * (the form zod's own docs use) lets it keep only what is called: the app's own files are built as if
 * written that way. Same module, same exports: only the unused code goes.
 */
function zodNamespaceImports() {
  const namedImport = /import\s*\{([^}]*)\}\s*from\s*(["'])zod\2\s*;?/g;
  return {
    name: "zod-namespace-imports",
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (/[\\/]node_modules[\\/]/.test(args.path)) return undefined;
        const source = await readFile(args.path, "utf8");
        const contents = source.replace(namedImport, (statement, names) => {
          const list = names
            .split(",")
            .map((name) => name.trim())
            .filter(Boolean);
          if (!list.includes("z")) return statement;
          const others = list.filter((name) => name !== "z");
          return `import * as z from "zod";${others.length > 0 ? ` import { ${others.join(", ")} } from "zod";` : ""}`;
        });
        return { contents, loader: "ts" };
      });
    },
  };
}

/** A rejected build leaves no dist/index.js, so nothing loads it and the next host start builds again. */
function fail(message) {
  console.error(message);
  for (const file of ["index.js", ".split"]) rmSync(join(OUT_DIR, file), { recursive: true, force: true });
  process.exit(1);
}
