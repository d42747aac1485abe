// `npm start` in the first hour: quiet, stable across restarts, and the caller's environment respected.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait";
import { freePort } from "./stack";

const ROOT = resolve(__dirname, "..", "..");
const MY_INGEST_TOKEN = "my-own-ingest-token-0123456789abcdef";

const isFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });

async function fivePortsInARow(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const first = await freePort();
    if ((await Promise.all([1, 2, 3, 4].map((offset) => isFree(first + offset)))).every(Boolean)) return first;
  }
  throw new Error("no five free ports in a row");
}

/** Runs npm start until it is ready, lets `whileRunning` look around, then Ctrl-C; returns everything it printed. */
async function runNpmStart(
  dataDir: string,
  env: Record<string, string>,
  whileRunning: (port: number) => Promise<void> = async () => {},
): Promise<string> {
  const port = await fivePortsInARow();
  const output: string[] = [];
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "dev", "start.ts")], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      TRIAGE_DEV_DATA: dataDir,
      TRIAGE_DEV_AZURITE_PORTS: "random",
      NO_COLOR: "1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  try {
    await waitFor(() => output.join("").includes("Ctrl-C stops everything") || undefined, {
      timeoutMs: 60_000,
      description: `npm start to be ready:\n${output.join("")}`,
    });
    // Let the queue listeners make their first polls.
    await new Promise((done) => setTimeout(done, 1500));
    await whileRunning(port);
  } finally {
    child.kill("SIGINT");
  }
  expect(await exited).toBe(0);
  return output.join("");
}

const generalChannel = (output: string) => /General channel (19:\S+)/.exec(output)?.[1];

describe("npm start, started twice on the same data", () => {
  it("says nothing alarming, keeps the caller's settings, and keeps the demo ids across the restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "triage-dev-"));
    const first = await runNpmStart(dataDir, { INGEST_TOKENS: MY_INGEST_TOKEN }, async (port) => {
      // The caller's token is the one the app accepts.
      const mine = await fetch(`http://127.0.0.1:${port}/api/ingest/alerts`, {
        method: "POST",
        headers: { authorization: `Bearer ${MY_INGEST_TOKEN}`, "content-type": "application/json" },
        body: "{}",
      });
      expect.soft(mine.status).toBe(400);
    });
    expect.soft(first).toContain("Your environment overrides these demo settings: INGEST_TOKENS");
    expect.soft(first).not.toMatch(/Unsupported runtime/);
    expect.soft(first).not.toMatch(/does not exist yet/);

    const second = await runNpmStart(dataDir, {});
    expect(generalChannel(first)).toBeDefined();
    expect(generalChannel(second)).toBe(generalChannel(first));
    expect(second).not.toMatch(/overrides these demo settings/);
  }, 180_000);
});
