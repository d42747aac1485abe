// The host as e2e tests use it: dev/host-cli.ts in its own Node process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { startHostProcess } from "../support/host-process";
import { sendBase64Json, waitForMessages } from "../support/queues";

const FIXTURE_ARGS = ["--app", "test/host/fixtures/app.js", "--host-json", "test/host/fixtures/host.json"];

let azurite: Azurite;

beforeAll(async () => {
  azurite = await startTestAzurite();
});

afterAll(async () => {
  await azurite?.stop();
});

describe("startHostProcess", () => {
  it("serves the app in a child process and stops it cleanly", async () => {
    const host = await startHostProcess({ env: { AzureWebJobsStorage: azurite.connectionString }, args: FIXTURE_ARGS });
    try {
      expect(host.url).toBe(`http://127.0.0.1:${host.port}`);
      const response = await fetch(`${host.url}/api/greet/ana`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ params: { name: "ana" } });

      await sendBase64Json(azurite.connectionString, "fails", { n: 1 });
      await waitForMessages(azurite.connectionString, "fails-poison", 1);

      expect(host.logs()).toContain(`Triage Relay host listening on http://localhost:${host.port}`);
      expect(host.logs()).toContain("  http   GET /api/greet/{name}/{suffix?}  (greet)");
      expect(host.logs()).toContain("  queue  work  (work)");
    } finally {
      expect(await host.stop()).toEqual({ code: 0, signal: null });
    }
    expect(host.logs()).toContain("SIGTERM: stopping (waiting for invocations in flight)");
  });

  it("fails with the host's output when it cannot start", async () => {
    await expect(startHostProcess({ env: { PORT: "not-a-port" }, args: FIXTURE_ARGS })).rejects.toThrow(
      /host exited \(code 1, signal null\) before listening\. Output:\n.*PORT must be a port number/,
    );
  });

  it("reports a missing storage connection instead of hanging", async () => {
    await expect(startHostProcess({ args: FIXTURE_ARGS })).rejects.toThrow(/AzureWebJobsStorage is not set/);
  });
});
