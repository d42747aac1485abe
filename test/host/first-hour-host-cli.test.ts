// `npm run host` in the first hour: what a newcomer sees when settings or storage are missing.
import { describe, expect, it } from "vitest";
import { freePort } from "../e2e/stack";
import { startHostProcess } from "../support/host-process";

const FIXTURE_ARGS = ["--app", "test/host/fixtures/app.js", "--host-json", "test/host/fixtures/host.json"];

async function startupFailure(options: Parameters<typeof startHostProcess>[0]): Promise<string> {
  try {
    const host = await startHostProcess(options);
    await host.stop();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the host started");
}

describe("npm run host, first try", () => {
  it("with no settings: names them, says what to do, and prints no stack trace", async () => {
    // The real app (dist/index.js) reads its settings as it loads.
    const output = await startupFailure({ env: { AzureWebJobsStorage: "UseDevelopmentStorage=true" } });
    expect(output).toMatch(/MicrosoftAppId: required/);
    expect(output).toMatch(/LINK_SIGNING_KEY: required/);
    expect(output).toContain("run `npm start`");
    expect(output).toContain("copy local.settings.example.json");
    expect(output).not.toMatch(/\n\s+at /);
  });

  it("with storage not running: one clear line pointing at npm run azurite, not a stream of ECONNREFUSED", async () => {
    const port = await freePort(); // nothing listens there
    const storage = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from("k").toString("base64")};QueueEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    const output = await startupFailure({ env: { AzureWebJobsStorage: storage }, args: FIXTURE_ARGS });
    expect(output).toContain(`storage is not reachable at 127.0.0.1:${port}`);
    expect(output).toContain("npm run azurite");
    expect(output.match(/ECONNREFUSED/g) ?? []).toHaveLength(0);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
