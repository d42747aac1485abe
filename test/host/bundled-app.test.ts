// The production shape: an esbuild CommonJS bundle that includes its own @azure/functions.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startLocalHost, type LocalHost } from "../../dev/host/local-host";
import { FIXTURE_HOST_JSON } from "./fixture";

const outDir = mkdtempSync(join(tmpdir(), "bundled-app-"));
const logs: string[] = [];
const warnings: unknown[] = [];
let host: LocalHost;

beforeAll(async () => {
  const appPath = join(outDir, "index.js");
  await build({
    entryPoints: [join(__dirname, "fixtures", "bundled-app.ts")],
    outfile: appPath,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: ["@azure/functions-core"],
    logLevel: "warning",
  });
  vi.spyOn(console, "warn").mockImplementation((...args) => void warnings.push(args[0]));
  host = await startLocalHost({
    appPath,
    port: 0,
    hostJsonPath: FIXTURE_HOST_JSON,
    localSettingsPath: false,
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await host?.stop();
  vi.restoreAllMocks();
  rmSync(outDir, { recursive: true, force: true });
});

it("converts the bundle's own HttpResponse (not the host's class) to the HTTP response", async () => {
  const response = await fetch(`${host.url}/api/bundled/7`, { method: "POST", body: JSON.stringify({ ok: true }) });
  expect(response.status).toBe(202);
  expect(await response.json()).toEqual({ id: "7", body: { ok: true } });
  expect(response.headers.get("content-type")).toBe("application/json");
  expect(response.headers.get("x-bundled")).toBe("yes");
  expect(response.headers.getSetCookie()).toEqual(["sid=1; Secure; HttpOnly"]);
  expect(logs).toContainEqual(expect.stringMatching(/INFO  \[bundledEcho [0-9a-f]{8}\] bundled handler ran$/));
});

it("keeps the expected test-mode notices of @azure/functions out of the output", () => {
  expect(warnings).toEqual([]);
});
