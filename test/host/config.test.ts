import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { loadFunctionTable } from "../../dev/host/function-table";
import { parseHostConfig, parseTimeSpan } from "../../dev/host/host-config";
import { decodeBase64Strict, isValidQueueName, parseJsonOrText } from "../../dev/host/queue-message";
import { loadLocalSettings } from "../../dev/host/settings";

const scratch = mkdtempSync(join(tmpdir(), "host-config-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeScratch(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

describe("parseTimeSpan", () => {
  it.each([
    ["00:00:00", 0],
    ["00:00:05", 5_000],
    ["00:00:00.500", 500],
    ["00:01:00", 60_000],
    ["01:00", 3_600_000],
    ["1.00:00:00", 86_400_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseTimeSpan(text)).toBe(ms);
  });

  it.each(["5", "00:60:00", "soon", ""])("rejects %j", (text) => {
    expect(() => parseTimeSpan(text)).toThrow(/TimeSpan/);
  });
});

describe("parseHostConfig", () => {
  it("uses the host's defaults, with local development's 2 s polling", () => {
    const config = parseHostConfig({ version: "2.0" });
    expect(config.routePrefix).toBe("api");
    expect(config.queues).toEqual({
      batchSize: 16,
      newBatchThreshold: 8,
      maxDequeueCount: 5,
      retryDelayMs: 0,
      maxPollingIntervalMs: 2_000,
    });
    expect(config.logLevelFor("anything")).toBe("information");
  });

  it("reads the repo's host.json shape", () => {
    const config = parseHostConfig({
      logging: { logLevel: { default: "Warning", "Function.noisy": "Error", "Function.chatty.User": "Trace" } },
      extensions: {
        http: { routePrefix: "/v1/" },
        queues: { batchSize: 8, newBatchThreshold: 4, maxDequeueCount: 5, visibilityTimeout: "00:00:05", maxPollingInterval: "00:00:02" },
      },
    });
    expect(config.routePrefix).toBe("v1");
    expect(config.queues).toMatchObject({ batchSize: 8, newBatchThreshold: 4, retryDelayMs: 5_000 });
    expect(config.logLevelFor("other")).toBe("warning");
    expect(config.logLevelFor("noisy")).toBe("error");
    expect(config.logLevelFor("chatty")).toBe("trace");
  });

  it("allows an empty route prefix", () => {
    expect(parseHostConfig({ extensions: { http: { routePrefix: "" } } }).routePrefix).toBe("");
  });

  it.each([
    [{ batchSize: 33 }, /batchSize must be an integer from 1 to 32/],
    [{ maxDequeueCount: 0 }, /maxDequeueCount/],
    [{ maxPollingInterval: "00:00:00.050" }, /maxPollingInterval must be between 100 ms/],
    [{ visibilityTimeout: "later" }, /visibilityTimeout/],
  ])("rejects queues %j", (queues, error) => {
    expect(() => parseHostConfig({ extensions: { queues } })).toThrow(error);
  });
});

describe("loadLocalSettings", () => {
  it("sets Values that aren't set yet, and never overwrites", () => {
    const path = writeScratch(
      "local.settings.json",
      JSON.stringify({ IsEncrypted: false, Values: { FROM_FILE: "file", ALREADY_SET: "file", COUNT: 3 } }),
    );
    const env: NodeJS.ProcessEnv = { ALREADY_SET: "env" };
    expect(loadLocalSettings(path, env)).toBe(2);
    expect(env).toEqual({ FROM_FILE: "file", ALREADY_SET: "env", COUNT: "3" });
  });

  it("ignores a missing file and refuses an encrypted one", () => {
    expect(loadLocalSettings(join(scratch, "missing.json"), {})).toBe(0);
    const encrypted = writeScratch("encrypted.json", JSON.stringify({ IsEncrypted: true, Values: {} }));
    expect(() => loadLocalSettings(encrypted, {})).toThrow(/encrypted/);
  });
});

describe("queue messages", () => {
  it("decodes base64 as strictly as the host", () => {
    expect(decodeBase64Strict(Buffer.from('{"a":1}').toString("base64"))).toBe('{"a":1}');
    expect(decodeBase64Strict("aGVs\nbG8=")).toBe("hello");
    expect(decodeBase64Strict("")).toBe("");
    expect(decodeBase64Strict("hello world")).toBeUndefined();
    expect(decodeBase64Strict('{"a":1}')).toBeUndefined();
    expect(decodeBase64Strict("aGVsbG8")).toBeUndefined(); // missing padding
    expect(decodeBase64Strict("aGVsbG8=x")).toBeUndefined();
  });

  it("passes JSON as values and anything else as text", () => {
    expect(parseJsonOrText('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonOrText("42")).toBe(42);
    expect(parseJsonOrText("plain text")).toBe("plain text");
  });

  it.each([
    ["alerts", true],
    ["card-refresh-poison", true],
    ["q2", false],
    ["Alerts", false],
    ["double--hyphen", false],
    ["-leading", false],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
  ])("queue name %s valid: %s", (name, valid) => {
    expect(isValidQueueName(name)).toBe(valid);
  });
});

describe("loadFunctionTable", () => {
  it("explains a bundle without a function table", () => {
    const path = writeScratch("no-table.js", "exports.somethingElse = [];");
    expect(() => loadFunctionTable(path)).toThrow(/does not export a `functionTable` array/);
  });

  it.each([
    [{ name: "a", kind: "timer", handler: "fn" }, /kind must be "http" or "queue"/],
    [{ name: "a", kind: "http", route: "a", methods: ["GET"] }, /needs a handler function/],
    [{ name: "a", kind: "http", route: "a", methods: ["HEAD"], handler: "fn" }, /methods must be/],
    [{ name: "a", kind: "queue", queueName: "Bad_Name", handler: "fn" }, /not a valid queue name/],
  ])("rejects %j", (definition, error) => {
    const source = `exports.functionTable = [${JSON.stringify(definition).replace('"fn"', "() => {}")}];`;
    const path = writeScratch(`bad-${Math.random().toString(36).slice(2)}.js`, source);
    expect(() => loadFunctionTable(path)).toThrow(error);
  });

  it("rejects duplicate names", () => {
    const fn = `{ name: "same", kind: "queue", queueName: "alerts", handler: () => {} }`;
    const path = writeScratch("duplicates.js", `exports.functionTable = [${fn}, ${fn}];`);
    expect(() => loadFunctionTable(path)).toThrow(/two functions are named "same"/);
  });
});

describe("loading a bundle that registers with @azure/functions", () => {
  it("drops the expected test-mode notices but keeps other warnings", () => {
    const path = writeScratch(
      "registers.js",
      `const { app } = require(${JSON.stringify(require.resolve("@azure/functions"))});
       const handler = async () => ({ status: 200 });
       app.http("registered", { route: "registered", handler });
       console.warn("WARNING: something the developer should see");
       exports.functionTable = [{ name: "registered", kind: "http", route: "registered", methods: ["GET"], authLevel: "anonymous", handler }];`,
    );
    const warnings: unknown[] = [];
    const spy = vi.spyOn(console, "warn").mockImplementation((...args) => void warnings.push(args[0]));
    try {
      expect(loadFunctionTable(path).map((fn) => fn.name)).toEqual(["registered"]);
    } finally {
      spy.mockRestore();
    }
    expect(warnings).toEqual(["WARNING: something the developer should see"]);
  });
});
