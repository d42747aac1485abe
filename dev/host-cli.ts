// `npm run host`: serves the built app (dist/index.js) with the local host on PORT (default 7071),
// rebuilding it first when it is missing or stale. Settings come from the environment, then
// local.settings.json. Ctrl-C / SIGTERM stop it cleanly (exit 0).
//
// Options (tests use them; `npm run host` needs none):
//   --app <file>           serve another CommonJS bundle exporting `functionTable` (never rebuilt)
//   --host-json <file>     default: host.json at the repo root
//   --no-build             never rebuild dist/index.js
//   --no-local-settings    ignore local.settings.json
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildIfStale } from "./host/build-if-stale";
import { startLocalHost, type FunctionSummary, type LocalHost } from "./host/local-host";
import { describeError } from "./host/logger";

const ROOT = resolve(__dirname, "..");

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      app: { type: "string" },
      "host-json": { type: "string" },
      "no-build": { type: "boolean", default: false },
      "no-local-settings": { type: "boolean", default: false },
    },
  });
  const port = parsePort(process.env.PORT);
  const appPath = args.app ? resolve(args.app) : join(ROOT, "dist", "index.js");
  if (!args.app && !args["no-build"]) await buildIfStale(ROOT, console.log);

  const host = await startLocalHost({
    appPath,
    port,
    hostJsonPath: args["host-json"] ? resolve(args["host-json"]) : join(ROOT, "host.json"),
    localSettingsPath: args["no-local-settings"] ? false : join(ROOT, "local.settings.json"),
  });
  console.log(`Triage Relay host listening on http://localhost:${host.port}`);
  for (const fn of host.functions) console.log(describe(fn));
  stopOnSignals(host);
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === "") return 7071;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw Object.assign(new Error(`PORT must be a port number from 0 to 65535, got "${value}"`), { name: "PortError" });
  }
  return port;
}

function describe(fn: FunctionSummary): string {
  return fn.kind === "http" ? `  http   ${fn.methods.join(",")} ${fn.route}  (${fn.name})` : `  queue  ${fn.queueName}  (${fn.name})`;
}

/** The first signal drains and exits 0; a second one gives up waiting. */
function stopOnSignals(host: LocalHost): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting for invocations in flight`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping (waiting for invocations in flight)`);
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`stopping failed: ${describeError(error)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/** Problems with what the host was given, not with the code: said plainly, with what to do, and no stack. */
const SETUP_PROBLEMS = new Set(["ConfigError", "StorageUnreachableError", "SettingsFileError", "PortError"]);

main().catch((error: unknown) => {
  if (error instanceof Error && SETUP_PROBLEMS.has(error.name)) {
    console.error(`Triage Relay host failed to start: ${error.message}`);
    if (error.name === "ConfigError") {
      console.error(
        "\nFor the demo (everything emulated on this machine), run `npm start`.\n" +
          'To run this host with your own bot and workspace, copy local.settings.example.json to local.settings.json and fill it in (README: "Run the host with your own settings").',
      );
    }
    process.exit(1);
  }
  console.error(`Triage Relay host failed to start: ${describeError(error)}`);
  process.exit(1);
});
