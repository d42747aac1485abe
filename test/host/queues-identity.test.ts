// `npm run queues` against a deployed storage account: shared keys are off there, so it must go by
// AzureWebJobsStorage__accountName with an Entra ID credential, as the app does, never fall back to Azurite.
// A stand-in managed identity endpoint (IDENTITY_ENDPOINT) answers the token requests; nothing reaches Azure.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queueService } from "../../dev/queues";

const ROOT = resolve(__dirname, "..", "..");
const IDENTITY = {
  AzureWebJobsStorage__accountName: "relaystore",
  AzureWebJobsStorage__credential: "managedidentity",
  AzureWebJobsStorage__clientId: "uami-client-id",
};

let server: Server;
let tokenEndpoint: string;
let tokenRequests: string[];
let refuseTokens: boolean;

beforeAll(async () => {
  server = createServer((req, res) => {
    tokenRequests.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    if (refuseTokens) {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: "invalid_request", error_description: "Identity not found" }));
      return;
    }
    const expiresOn = String(Math.floor(Date.now() / 1000) + 3600);
    res.end(JSON.stringify({ access_token: "t", expires_on: expiresOn, resource: "https://storage.azure.com", token_type: "Bearer" }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));
beforeEach(() => {
  tokenRequests = [];
  refuseTokens = false;
});

describe("npm run queues with AzureWebJobsStorage__accountName", () => {
  it("addresses the account and signs in with the configured identity, not Azurite's key", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.AzureWebJobsStorage;
      Object.assign(process.env, IDENTITY, { IDENTITY_ENDPOINT: tokenEndpoint, IDENTITY_HEADER: "header-secret" });
      const service = queueService();
      expect(service.url).toBe("https://relaystore.queue.core.windows.net");
      // The client's own credential (protected in the SDK's types): a token credential, not the shared key.
      const { credential } = service as unknown as { credential: TokenCredential };
      const token = await credential.getToken("https://storage.azure.com/.default");
      expect(token?.token).toBe("t");
      expect(tokenRequests).toEqual([expect.stringContaining("client_id=uami-client-id")]);
    } finally {
      process.env = saved;
    }
  });

  it("keeps a connection string first, as the app does", () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, IDENTITY, { AzureWebJobsStorage: "UseDevelopmentStorage=true" });
      expect(queueService().url).toBe("http://127.0.0.1:10001/devstoreaccount1");
    } finally {
      process.env = saved;
    }
  });

  it("says which role the operator needs when the identity can't get a token, and lists nothing", async () => {
    refuseTokens = true;
    const run = await promisify(execFile)(process.execPath, ["--import", "tsx", join(ROOT, "dev", "queues.ts")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...IDENTITY, IDENTITY_ENDPOINT: tokenEndpoint, IDENTITY_HEADER: "header-secret" },
    }).then(
      () => ({ code: 0, output: "" }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );
    expect(run.code).toBe(1);
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(run.output).toContain("Storage Queue Data Reader");
    expect(run.output).toContain("Storage Queue Data Contributor");
    expect(run.output).not.toMatch(/^alerts\s/m);
  });
});
