// Bundles the deployable app (functions/index.ts) into dist/index.js as CommonJS.
// dev/ and test/ are never reachable from the entry point, so they are never bundled.
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const { version } = JSON.parse(readFileSync("package.json", "utf8"));

const result = await build({
  entryPoints: ["functions/index.ts"],
  outfile: "dist/index.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: true,
  minify: false,
  legalComments: "none",
  metafile: true,
  external: ["@azure/functions-core"],
  // The Azure storage SDKs' ESM builds call createRequire(import.meta.url), which is empty in CJS.
  banner: { js: 'const __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__import_meta_url", __APP_VERSION__: JSON.stringify(version) },
  logLevel: "warning",
});

const leaked = Object.keys(result.metafile.inputs).filter((file) => /^(dev|test|bench)\//.test(file));
if (leaked.length > 0) {
  console.error(`dev/test code must never be bundled, found: ${leaked.join(", ")}`);
  process.exit(1);
}
