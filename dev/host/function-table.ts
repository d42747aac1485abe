// Loads the built app and checks its exported `functionTable` (functions/index.ts) before serving it.
import { createRequire } from "node:module";
import type { FunctionDefinition } from "../../functions/table";
import { isValidQueueName } from "./queue-message";

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** `require`s the CommonJS bundle at `appPath` (absolute) and returns its validated function table. */
export function loadFunctionTable(appPath: string): FunctionDefinition[] {
  const exports = requireWithoutTestModeNotices(appPath) as { functionTable?: unknown };
  const table = exports.functionTable;
  if (!Array.isArray(table)) {
    throw new Error(`${appPath} does not export a \`functionTable\` array (see functions/index.ts)`);
  }
  table.forEach((entry, index) => checkDefinition(entry, index));
  const names = table.map((fn: FunctionDefinition) => fn.name.toLowerCase());
  const duplicate = names.find((name, index) => names.indexOf(name) !== index);
  if (duplicate) throw new Error(`functionTable: two functions are named "${duplicate}"`);
  return table as FunctionDefinition[];
}

/**
 * Outside the Functions host, @azure/functions warns once that it is in "test mode" and once per
 * `app.http`/`app.storageQueue` call that it skips the registration. Here that is expected (we
 * serve the table instead), so those notices are dropped; others, e.g. about hooks, still show.
 */
function requireWithoutTestModeNotices(appPath: string): unknown {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (!TEST_MODE_NOTICE.test(String(args[0]))) warn(...args);
  };
  try {
    return createRequire(appPath)(appPath);
  } finally {
    console.warn = warn;
  }
}

const TEST_MODE_NOTICE = /^WARNING: (Failed to detect the Azure Functions runtime|Skipping call to register function )/;

function checkDefinition(entry: unknown, index: number): asserts entry is FunctionDefinition {
  const fn = entry as Partial<Record<string, unknown>>;
  const where = `functionTable[${index}]${typeof fn?.name === "string" ? ` (${fn.name})` : ""}`;
  const fail = (problem: string): never => {
    throw new Error(`${where}: ${problem}`);
  };
  if (typeof fn !== "object" || fn === null) fail("not an object");
  if (typeof fn.name !== "string" || !/^[A-Za-z][\w-]*$/.test(fn.name)) fail("needs a name (letters, digits, _ or -)");
  if (typeof fn.handler !== "function") fail("needs a handler function");
  if (fn.kind === "http") {
    if (typeof fn.route !== "string") fail("needs a route");
    const methods = fn.methods;
    if (!Array.isArray(methods) || methods.length === 0 || !methods.every((m) => METHODS.has(m))) {
      fail(`methods must be a non-empty list of ${[...METHODS].join(", ")}`);
    }
  } else if (fn.kind === "queue") {
    if (typeof fn.queueName !== "string" || !isValidQueueName(fn.queueName)) {
      fail(`queueName ${JSON.stringify(fn.queueName)} is not a valid queue name (3-63 lowercase letters, digits, hyphens)`);
    }
  } else {
    fail(`kind must be "http" or "queue", got ${JSON.stringify(fn.kind)}`);
  }
}
