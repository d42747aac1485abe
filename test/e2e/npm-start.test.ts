// `npm start` as a developer runs it: everything comes up, a test alert becomes a card, one Ctrl-C stops it all.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait";
import { runNpmStart } from "../support/npm-start";

const ROOT = resolve(__dirname, "..", "..");

describe("npm start", () => {
  it("brings up Azurite, the host and the emulators; a test alert becomes a Teams card; Ctrl-C stops everything", async () => {
    const { port, exitCode } = await runNpmStart({
      dataDir: mkdtempSync(join(tmpdir(), "triage-dev-")),
      whileRunning: async (port, output) => {
        const health = await fetch(`http://127.0.0.1:${port}/api/health`);
        expect(health.status).toBe(200);

        const command = /(AzureWebJobsStorage='[^']+') npx tsx dev\/send-alert\.ts (.+)/.exec(output())!;
        const storage = command[1]!.slice("AzureWebJobsStorage='".length, -1);
        const args = command[2]!.trim().split(/\s+/);
        await new Promise<void>((done, fail) => {
          const sender = spawn(process.execPath, ["--import", "tsx", join(ROOT, "dev", "send-alert.ts"), ...args], {
            cwd: ROOT,
            env: { ...process.env, AzureWebJobsStorage: storage },
          });
          sender.once("exit", (code) => (code === 0 ? done() : fail(new Error(`send-alert exited ${code}`))));
        });
        const teamsChannel = args[args.indexOf("--teams") + 1]!;
        await waitFor(
          async () => {
            const messages = (await (await fetch(`http://127.0.0.1:${port + 1}/_emulator/messages`)).json()) as {
              conversationId: string;
              activity: unknown;
            }[];
            return (
              messages.some((m) => m.conversationId === teamsChannel && JSON.stringify(m.activity).includes("TypeError: cart is undefined")) ||
              undefined
            );
          },
          { timeoutMs: 30_000, description: "the test alert's card in the demo Teams channel" },
        );
      },
    });
    expect(exitCode).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();
  }, 120_000);
});
