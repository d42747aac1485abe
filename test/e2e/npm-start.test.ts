// `npm start` as a developer runs it: everything comes up, a test alert becomes a card, one Ctrl-C stops it all.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../support/wait";
import { freePort } from "./stack";

const ROOT = resolve(__dirname, "..", "..");

const isFree = (port: number) =>
  new Promise<boolean>((done) => {
    const server = createServer()
      .once("error", () => done(false))
      .listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });

/** The app's port and the four emulators' after it, all free. */
async function fivePortsInARow(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const first = await freePort();
    if ((await Promise.all([1, 2, 3, 4].map((offset) => isFree(first + offset)))).every(Boolean)) return first;
  }
  throw new Error("no five free ports in a row");
}

describe("npm start", () => {
  it("brings up Azurite, the host and the emulators; a test alert becomes a Teams card; Ctrl-C stops everything", async () => {
    const port = await fivePortsInARow();

    const output: string[] = [];
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "dev", "start.ts")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(port),
        TRIAGE_DEV_DATA: mkdtempSync(join(tmpdir(), "triage-dev-")),
        TRIAGE_DEV_AZURITE_PORTS: "random",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    try {
      await waitFor(() => output.join("").includes("Triage Relay is running") || undefined, {
        timeoutMs: 60_000,
        description: `npm start to be ready:\n${output.join("")}`,
      });
      const health = await fetch(`http://127.0.0.1:${port}/api/health`);
      expect(health.status).toBe(200);

      const command = /(AzureWebJobsStorage='[^']+') npx tsx dev\/send-alert\.ts (.+)/.exec(output.join(""))!;
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
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();
  }, 120_000);
});
