// GET /api/health against storage as the deployed app's identity sees it. Its roles (Storage Queue Data Contributor,
// Storage Table Data Contributor: infra/modules/roles.bicep) cover the app's own queues and tables, not the
// service-level operations (Get Queue/Table Service Properties need queueServices/read and tableServices/read,
// control-plane actions: "Permissions for calling data operations", Azure Storage REST docs). The storage proxy
// answers those with the 403 Azure gives.
import { randomBytes } from "node:crypto";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { health } from "../../functions/health";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { startStorageProxy, type StorageProxy } from "../support/storage-proxy";

let azurite: Azurite;
let proxy: StorageProxy;

beforeAll(async () => {
  azurite = await startTestAzurite();
  proxy = await startStorageProxy(azurite);
  Object.assign(process.env, {
    AzureWebJobsStorage: proxy.connectionString,
    MicrosoftAppId: "00000000-0000-0000-0000-0000000000b0",
    MicrosoftAppType: "UserAssignedMSI",
    MicrosoftAppTenantId: "00000000-0000-0000-0000-0000000000a0",
    PUBLIC_BASE_URL: "http://localhost:7071",
    LINK_SIGNING_KEY: randomBytes(32).toString("hex"),
  });
});

afterEach(() => proxy.refuse(undefined));

afterAll(async () => {
  await proxy?.stop();
  await azurite?.stop();
});

/** What the data roles refuse: the account-level service operations (`?restype=service`). */
const serviceLevel = ({ url }: { url: string }) => (url.includes("restype=service") ? 403 : undefined);

async function getHealth(): Promise<{ status: number | undefined; body: unknown; warnings: string[] }> {
  const warnings: string[] = [];
  const context = new InvocationContext({
    functionName: "health",
    logHandler: (level, ...args) => level === "warning" && warnings.push(args.join(" ")),
  });
  const response = await health(new HttpRequest({ method: "GET", url: "http://localhost:7071/api/health" }), context);
  return { status: response.status, body: response.jsonBody, warnings };
}

describe("GET /api/health", () => {
  it("answers 200 with storage reachable when the identity may use the app's queues and tables but not the service properties", async () => {
    proxy.refuse(serviceLevel);
    const mark = proxy.mark();
    const answer = await getHealth();
    expect(answer).toEqual({ status: 200, body: { status: "ok", version: "dev", storage: "reachable" }, warnings: [] });
    // It asked storage something on both services, and nothing the data roles don't allow.
    const asked = proxy.requests.slice(mark);
    expect(new Set(asked.map((r) => r.service))).toEqual(new Set(["queue", "table"]));
    expect(asked.filter((r) => r.status === 403)).toEqual([]);
  });

  it("answers 503 with storage unreachable when storage refuses the app", async () => {
    proxy.refuse(() => 403);
    const answer = await getHealth();
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual({ status: "degraded", version: "dev", storage: "unreachable" });
    expect(answer.warnings.join("\n")).toMatch(/Health: storage unreachable/);
  });
});
