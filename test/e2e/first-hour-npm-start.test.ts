// `npm start` in the first hour: quiet, stable across restarts, and the caller's environment respected.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runNpmStart } from "../support/npm-start";

const MY_INGEST_TOKEN = "my-own-ingest-token-0123456789abcdef";

/** npm start on `dataDir` until it is ready and its queue listeners have made their first polls; returns all it printed. */
async function runNpmStartOn(
  dataDir: string,
  env: Record<string, string>,
  whileRunning: (port: number) => Promise<void> = async () => {},
): Promise<string> {
  const { output, exitCode } = await runNpmStart({
    dataDir,
    env,
    whileRunning: async (port) => {
      await new Promise((done) => setTimeout(done, 1500));
      await whileRunning(port);
    },
  });
  expect(exitCode).toBe(0);
  return output;
}

const generalChannel = (output: string) => /General channel (19:\S+)/.exec(output)?.[1];

describe("npm start, started twice on the same data", () => {
  it("says nothing alarming, keeps the caller's settings, and keeps the demo ids across the restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "triage-dev-"));
    const first = await runNpmStartOn(dataDir, { INGEST_TOKENS: MY_INGEST_TOKEN }, async (port) => {
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

    const second = await runNpmStartOn(dataDir, {});
    expect(generalChannel(first)).toBeDefined();
    expect(generalChannel(second)).toBe(generalChannel(first));
    expect(second).not.toMatch(/overrides these demo settings/);
  }, 180_000);
});
