// Bundles the deployable app (functions/index.ts) into dist/index.js as CommonJS, plus one chunk file per
// package in LAZY_CHUNKS (dist/chunks/*.js). dev/ and test/ are never reachable from the entry point,
// so they are never bundled.
//
// Cold start: Node compiles every byte of a file it requires, even code that only runs inside an
// `import()` that never happens. The packages in LAZY_CHUNKS are big and needed only on some requests,
// so the app bundle `require`s them from their own file at the first `import()`; a static import of
// one of them is a build error, since it would load the chunk on every start.
import { createRequire } from "node:module";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { build } from "esbuild";

const OUT_DIR = "dist";

/** Package → its chunk file under dist/. */
const LAZY_CHUNKS = {
  "@azure/identity": "chunks/azure-identity.js",
};

const { version } = JSON.parse(readFileSync("package.json", "utf8"));
const requireFromRoot = createRequire(join(process.cwd(), "package.json"));

const common = {
  bundle: true,
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
  external: ["@azure/functions-core"],
  // The Azure storage SDKs' ESM builds call createRequire(import.meta.url), which is empty in CJS.
  banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__import_meta_url", __APP_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
};

// The previous build's files go first: a chunk no longer built must not ship in the zip, and a failed
// build must leave no dist/index.js behind, so that dev/host/build-if-stale.ts builds again.
for (const file of ["index.js", "index.js.map", "chunks"]) rmSync(join(OUT_DIR, file), { recursive: true, force: true });

// The chunks before the app: once dist/index.js exists, everything it requires does too.
const chunkResults = await Promise.all(
  Object.entries(LAZY_CHUNKS).map(([name, chunk]) =>
    build({ ...common, entryPoints: [name], outfile: join(OUT_DIR, chunk), plugins: [lazyChunks(dirname(join(OUT_DIR, chunk)), { except: name })] }),
  ),
);
const appResult = await build({
  ...common,
  entryPoints: ["functions/index.ts"],
  outfile: join(OUT_DIR, "index.js"),
  plugins: [lazyChunks(OUT_DIR, { dynamicOnly: true }), zodNamespaceImports()],
  // import() of a chunk becomes require(): a CommonJS chunk's named exports (`module.exports = require_lib()`)
  // are invisible to Node's import(), and require() skips the ESM loader.
  supported: { "dynamic-import": false },
});
const results = [...chunkResults, appResult];

const inputs = results.flatMap((result) => Object.keys(result.metafile.inputs));
const leaked = [...new Set(inputs.filter((file) => /^(dev|test|bench)\//.test(file)))];
if (leaked.length > 0) fail(`dev/test code must never be bundled, found: ${leaked.join(", ")}`);

for (const file of results.flatMap((result) => Object.keys(result.metafile.outputs)).filter((file) => file.endsWith(".js"))) {
  const offset = readFileSync(file).findIndex((byte) => byte > 0x7f);
  if (offset >= 0) fail(`${file} must be pure ASCII (V8 loads it several times slower otherwise); non-ASCII byte at offset ${offset}`);
}

/**
 * Resolves each LAZY_CHUNKS package (other than `except`, the chunk being built) to a `require` of its
 * chunk file, relative to `fromDir` (the directory of the file being written). With `dynamicOnly`, a
 * static import of one fails the build.
 */
function lazyChunks(fromDir, { dynamicOnly = false, except } = {}) {
  const names = Object.keys(LAZY_CHUNKS).filter((name) => name !== except);
  const escaped = names.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  return {
    name: "lazy-chunks",
    setup(pluginBuild) {
      if (names.length === 0) return;
      pluginBuild.onResolve({ filter: new RegExp(`^(${escaped.join("|")})$`) }, async (args) => {
        if (args.pluginData === "lazy-chunks") return undefined; // our own resolve() below
        // Only the copy our package.json installs is in the chunk; a nested copy of another version stays bundled.
        const resolved = await pluginBuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "lazy-chunks" });
        if (!resolved.path.startsWith(packageDir(args.path) + "/")) return undefined;
        if (dynamicOnly && args.kind !== "dynamic-import") {
          return {
            errors: [
              { text: `"${args.path}" must be loaded with import() so that it stays out of the cold start (see LAZY_CHUNKS in dev/build.mjs)` },
            ],
          };
        }
        const chunk = relative(fromDir, join(OUT_DIR, LAZY_CHUNKS[args.path]));
        return { path: chunk.startsWith(".") ? chunk : `./${chunk}`, external: true };
      });
    },
  };
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

function packageDir(name) {
  const dir = dirname(requireFromRoot.resolve(`${name}/package.json`));
  if (!existsSync(dir)) fail(`cannot find the package directory of ${name}`);
  return dir;
}

/** A rejected build leaves no dist/index.js, so nothing loads it and the next host start builds again. */
function fail(message) {
  console.error(message);
  rmSync(join(OUT_DIR, "index.js"), { force: true });
  process.exit(1);
}
