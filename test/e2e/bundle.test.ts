// Loads the deployable bundle in plain Node (not vitest, which would paper over module-format problems)
// with a stand-in for the Functions worker's `@azure/functions-core`, and checks what the real host would
// be told: every function of the table, with its route and methods or its queue; and that the big,
// rarely needed packages stay out of the start and load, working, on first use.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { validSettings } from "../fixtures/settings";

const ROOT = resolve(__dirname, "..", "..");
const DIST = join(ROOT, "dist");
const BUNDLE = join(DIST, "index.js");
const CHUNKS = join(DIST, "chunks");

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
  bindings: Record<
    string,
    { type: string; route?: string; methods?: string[]; authLevel?: string; queueName?: string; connection?: string; direction: string }
  >;
}

function workerModules(): string {
  const dir = mkdtempSync(join(tmpdir(), "functions-core-"));
  mkdirSync(join(dir, "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(dir, "@azure", "functions-core", "index.js"), FAKE_CORE);
  return dir;
}

function childEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, NODE_PATH: workerModules(), ...env } as NodeJS.ProcessEnv;
}

function loadBundle(env: Record<string, string | undefined>): {
  registered: Registration[];
  table: { name: string; kind: string; route?: string; queueName?: string }[];
} {
  const script = `const t = require(${JSON.stringify(BUNDLE)}).functionTable;
process.on("exit", () => process.stdout.write("\\n" + JSON.stringify(t.map(({ name, kind, route, queueName }) => ({ name, kind, route, queueName })))));`;
  const output = execFileSync(process.execPath, ["-e", script], { cwd: ROOT, env: childEnv(env), encoding: "utf8" });
  const [registered, table] = output.trim().split("\n");
  return { registered: JSON.parse(registered!), table: JSON.parse(table!) };
}

/** Which chunk files Node has loaded (file names), as seen from inside the child. */
const LOADED_CHUNKS = `() => Object.keys(require.cache).filter((file) => file.startsWith(${JSON.stringify(CHUNKS + "/")})).map((file) => file.slice(${CHUNKS.length + 1})).sort()`;

/** Every file of dist/ Node has loaded (absolute paths), as seen from inside the child. */
const LOADED_FILES = `() => Object.keys(require.cache).filter((file) => file.startsWith(${JSON.stringify(DIST + "/")})).sort()`;

/** Code that loads only when first needed: never at start (dev/build.mjs LOADED_ON_FIRST_USE). */
const FIRST_USE_ONLY =
  /node_modules\/(@azure\/identity|discord-api-types|@slack\/web-api|openid-client)\/|^shared\/(discord|inbound\/discord)\/|^shared\/delivery\/discord-sender\.ts$|^shared\/cards\/(discord-message|release-[\w-]+)\.ts$|^shared\/workflows\/release-notices\.ts$/;
const DISCORD_OR_RELEASE =
  /node_modules\/discord-api-types\/|^shared\/(discord|inbound\/discord)\/|^shared\/delivery\/discord-sender\.ts$|^shared\/cards\/(discord-message|release-[\w-]+)\.ts$|^shared\/workflows\/release-notices\.ts$/;

/** The source files a built file holds, by its source map, relative to the repository (packages as node_modules/...). */
function sourcesOf(file: string): string[] {
  const { sources } = JSON.parse(readFileSync(`${file}.map`, "utf8")) as { sources: string[] };
  return sources.map((source) => relative(ROOT, resolve(dirname(file), source)).replace(/^(\.\.\/)+[^]*?node_modules\//, "node_modules/"));
}

/** `file` and the chunk files it requires at once, transitively (an import() of a chunk is a require inside a callback). */
function staticRequireClosure(file: string): string[] {
  const files = [file];
  for (const current of files) {
    for (const [, path] of readFileSync(current, "utf8").matchAll(/var import_\w+=require\("(\.{1,2}\/[\w./-]+\.js)"\)/g)) {
      const required = resolve(dirname(current), path!);
      if (!files.includes(required)) files.push(required);
    }
  }
  return files;
}

/** Runs `script` in plain Node with the app's settings; it calls `report(value)` once. Async: the emulators run in this process. */
async function inPlainNode<T>(script: string, env: Record<string, string | undefined>): Promise<T> {
  const report = `const report = (value) => process.stdout.write("\\nRESULT " + JSON.stringify(value) + "\\n");`;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", report + script], { cwd: ROOT, env: childEnv(env), encoding: "utf8" });
  const line = stdout.split("\n").find((text) => text.startsWith("RESULT "));
  if (!line) throw new Error(`the child reported nothing:\n${stdout}`);
  return JSON.parse(line.slice("RESULT ".length)) as T;
}

describe("the built bundle in plain Node", () => {
  it("registers every function of the table with the Functions worker", () => {
    const { registered, table } = loadBundle(validSettings());
    expect(table.map((fn) => fn.name).sort()).toEqual(
      [
        "alertsQueue",
        "cardRefreshQueue",
        "deliveriesQueue",
        "discordInteractions",
        "health",
        "ingest",
        "issueApi",
        "linkCallback",
        "linkConfirm",
        "linkStart",
        "memberSyncQueue",
        "slackActionsQueue",
        "slackCommands",
        "slackEvents",
        "slackInstall",
        "slackInteractions",
        "slackOAuthRedirect",
        "teamsMessages",
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

describe("the built bundle starts light", () => {
  let teams: TeamsEmulator;
  beforeAll(async () => {
    teams = await startTeamsEmulator({ appId: "6a1d3c2e-0000-4000-8000-00000000b07a", tenantId: "72f988bf-0000-4000-8000-000000000001" });
  });
  afterAll(async () => {
    await teams?.stop();
  });

  it("ships @azure/identity as a chunk file of its own, and every file is pure ASCII", () => {
    const files = [
      BUNDLE,
      ...readdirSync(CHUNKS)
        .filter((file) => file.endsWith(".js"))
        .map((file) => join(CHUNKS, file)),
    ];
    expect(files).toContain(join(CHUNKS, "azure-identity.js"));
    // Its one copy: the import() in the app and the named chunk resolve to the same build of the package.
    const identityCopies = files.filter((file) => sourcesOf(file).some((source) => source.startsWith("node_modules/@azure/identity/")));
    expect(identityCopies).toEqual([join(CHUNKS, "azure-identity.js")]);
    for (const file of files) {
      // One non-ASCII character makes V8 read the whole file as UTF-16: several times slower to load.
      expect(
        readFileSync(file).findIndex((byte) => byte > 0x7f),
        file,
      ).toBe(-1);
    }
  });

  it("keeps what Node compiles on every cold start (dist/index.js and the chunks it requires at once) under 0.5 MiB", async () => {
    // 6.7 MB when botframework-connector, @azure/identity and all of zod were in it; 1.5 MiB with every
    // handler. Over budget: find the new weight (esbuild --analyze) and load it with import() where it is used.
    const atStart = await inPlainNode<string[]>(`require(${JSON.stringify(BUNDLE)}); report((${LOADED_FILES})());`, validSettings());
    expect(atStart).toContain(BUNDLE);
    expect(atStart.reduce((bytes, file) => bytes + statSync(file).size, 0)).toBeLessThan(0.5 * 1024 * 1024);
  });

  it("loads no handler, Discord, release-notice, Slack Web API or @azure/identity code at start", async () => {
    const atStart = await inPlainNode<string[]>(`require(${JSON.stringify(BUNDLE)}); report((${LOADED_FILES})());`, validSettings());
    const sources = atStart.flatMap(sourcesOf);
    expect(sources.filter((source) => source.startsWith("functions/")).sort()).toEqual([
      "functions/function-table.ts",
      "functions/index.ts",
      "functions/on-first-call.ts",
      "functions/table.ts",
    ]);
    expect(sources.filter((source) => FIRST_USE_ONLY.test(source))).toEqual([]);
  });

  it("the chunks a Teams, Slack, alert or delivery handler requires hold no Discord or release-notice code", () => {
    for (const handler of ["teams-messages", "slack-interactions", "slack-events", "alerts-queue", "deliveries-queue", "card-refresh-queue"]) {
      const chunk = readdirSync(CHUNKS).find((file) => new RegExp(`^${handler}-\\w+\\.js$`).test(file));
      expect(chunk, handler).toBeDefined();
      const sources = staticRequireClosure(join(CHUNKS, chunk!)).flatMap(sourcesOf);
      expect(sources.length, handler).toBeGreaterThan(0);
      expect(
        sources.filter((source) => DISCORD_OR_RELEASE.test(source)),
        handler,
      ).toEqual([]);
    }
    // The check would see them: the Discord handler's own chunks do hold Discord code.
    const discord = readdirSync(CHUNKS).find((file) => /^discord-interactions-\w+\.js$/.test(file))!;
    expect(
      staticRequireClosure(join(CHUNKS, discord))
        .flatMap(sourcesOf)
        .some((source) => DISCORD_OR_RELEASE.test(source)),
    ).toBe(true);
  });

  it("builds no Intl.Segmenter at start; a Teams request then loads its handler and authenticates in plain node, without @azure/identity", async () => {
    const env = validSettings({
      MicrosoftAppId: teams.appId,
      BOT_OPENID_METADATA_URL: teams.openIdMetadataUrl,
      TEAMS_SERVICE_URL_HOSTS: "127.0.0.1",
    });
    const team = teams.addTeam({ name: "Cold start", members: [teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" })] });
    const activity = teams.botAddedToTeam({ team });
    const token = await teams.signChannelToken();
    const script = `
let segmenters = 0;
const RealSegmenter = Intl.Segmenter;
Intl.Segmenter = class extends RealSegmenter { constructor(...args) { super(...args); segmenters++; } };
const { HttpRequest, InvocationContext } = require("@azure/functions");
const loadedChunks = ${LOADED_CHUNKS};
const { functionTable } = require(${JSON.stringify(BUNDLE)});
const atStart = { segmenters };
const request = new HttpRequest({
  method: "POST",
  url: "http://127.0.0.1:7071/api/messages",
  headers: { authorization: "Bearer " + ${JSON.stringify(token)}, "content-type": "application/json" },
  body: { string: ${JSON.stringify(JSON.stringify(activity))} },
});
const warnings = [];
const context = new InvocationContext({ logHandler: (level, ...args) => { if (level === "warning") warnings.push(args.join(" ")); } });
functionTable.find((fn) => fn.name === "teamsMessages").handler(request, context).then((response) => {
  report({ atStart, status: response.status, warnings, afterRequest: loadedChunks() });
});`;
    const result = await inPlainNode<{
      atStart: { segmenters: number };
      status: number;
      warnings: string[];
      afterRequest: string[];
    }>(script, env);

    expect(result.atStart).toEqual({ segmenters: 0 });
    // Authenticated (a bad or unverifiable token is a 401); then refused only because the fixture
    // settings allow another tenant, before any storage is touched.
    expect(result.warnings).toEqual(["Teams request refused (403): tenant not allowed"]);
    expect(result.status).toBe(403);
    expect(result.afterRequest.some((file) => /^teams-messages-\w+\.js$/.test(file))).toBe(true);
    // Inbound authentication is jose; @azure/identity loads only for outbound tokens or identity-based storage.
    expect(result.afterRequest).not.toContain("azure-identity.js");
  });

  it("a token the chunk cannot verify is still a 401 with its reason", async () => {
    const env = validSettings({
      MicrosoftAppId: teams.appId,
      BOT_OPENID_METADATA_URL: teams.openIdMetadataUrl,
      TEAMS_SERVICE_URL_HOSTS: "127.0.0.1",
    });
    const team = teams.addTeam({ name: "Forged", members: [teams.addUser({ name: "Bo Chen", email: "bo@contoso.com" })] });
    const activity = teams.botAddedToTeam({ team });
    const token = await teams.signChannelToken({ key: "unpublished" });
    const script = `
const { HttpRequest, InvocationContext } = require("@azure/functions");
const { functionTable } = require(${JSON.stringify(BUNDLE)});
const request = new HttpRequest({
  method: "POST",
  url: "http://127.0.0.1:7071/api/messages",
  headers: { authorization: "Bearer " + ${JSON.stringify(token)}, "content-type": "application/json" },
  body: { string: ${JSON.stringify(JSON.stringify(activity))} },
});
const warnings = [];
const context = new InvocationContext({ logHandler: (level, ...args) => { if (level === "warning") warnings.push(args.join(" ")); } });
functionTable.find((fn) => fn.name === "teamsMessages").handler(request, context).then((response) => {
  report({ status: response.status, warnings });
});`;
    const result = await inPlainNode<{ status: number; warnings: string[] }>(script, env);
    expect(result.status).toBe(401);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^Teams request refused \(401\): /);
    // The library's own verdict, not a failure to load it.
    expect(result.warnings[0]).not.toMatch(/is not a (constructor|function)|Cannot find module|undefined/);
  });
});
