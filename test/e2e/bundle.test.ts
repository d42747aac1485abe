// Loads the deployable bundle in plain Node (not vitest, which would paper over module-format problems)
// with a stand-in for the Functions worker's `@azure/functions-core`, and checks what the real host would
// be told: every function of the table, with its route and methods or its queue.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { validSettings } from "../fixtures/settings";

const ROOT = resolve(__dirname, "..", "..");

const FAKE_CORE = `
const registered = [];
module.exports = {
  registerFunction(metadata) { registered.push(metadata); return { dispose() {} }; },
  setProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  log() {},
};
process.on("exit", () => process.stdout.write(JSON.stringify(registered)));
`;

interface Registration {
  name: string;
  bindings: Record<string, { type: string; route?: string; methods?: string[]; authLevel?: string; queueName?: string; connection?: string; direction: string }>;
}

function loadBundle(env: Record<string, string | undefined>): { registered: Registration[]; table: { name: string; kind: string; route?: string; queueName?: string }[] } {
  const workerModules = mkdtempSync(join(tmpdir(), "functions-core-"));
  mkdirSync(join(workerModules, "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(workerModules, "@azure", "functions-core", "index.js"), FAKE_CORE);
  const script = `const t = require(${JSON.stringify(join(ROOT, "dist", "index.js"))}).functionTable;
process.on("exit", () => process.stdout.write("\\n" + JSON.stringify(t.map(({ name, kind, route, queueName }) => ({ name, kind, route, queueName })))));`;
  const output = execFileSync(process.execPath, ["-e", script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_PATH: workerModules, ...env } as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  const [registered, table] = output.trim().split("\n");
  return { registered: JSON.parse(registered!), table: JSON.parse(table!) };
}

describe("the built bundle in plain Node", () => {
  it("registers every function of the table with the Functions worker", () => {
    const { registered, table } = loadBundle(validSettings());
    expect(table.map((fn) => fn.name).sort()).toEqual(
      [
        "alertsQueue", "cardRefreshQueue", "deliveriesQueue", "health", "ingest", "issueApi", "linkCallback", "linkConfirm", "linkStart", "memberSyncQueue",
        "slackActionsQueue", "slackCommands", "slackEvents", "slackInstall", "slackInteractions", "slackOAuthRedirect", "teamsMessages",
      ].sort(),
    );
    expect(registered.map((r) => r.name)).toEqual(table.map((fn) => fn.name));
    for (const fn of table) {
      const trigger = Object.values(registered.find((r) => r.name === fn.name)!.bindings).find((b) => b.direction === "in")!;
      if (fn.kind === "http") expect(trigger).toMatchObject({ type: "httpTrigger", route: fn.route });
      else expect(trigger).toMatchObject({ type: "queueTrigger", queueName: fn.queueName, connection: "AzureWebJobsStorage" });
    }
  });

  it("refuses to load with an unsafe configuration, naming the setting", () => {
    expect(() => loadBundle(validSettings({ MicrosoftAppId: "" }))).toThrow(/MicrosoftAppId: required/);
  });
});
