import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { APP_VERSION, getRuntime } from "../shared/runtime";
import { QUEUES, TABLES, type StorageClients } from "../shared/storage/clients";

const STORAGE_CHECK_TIMEOUT_MS = 3000;

/** GET /api/health: the version, and whether storage answers (503 when it does not). */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const storage = getRuntime().storage;
  const reachable = await withTimeout(probe(storage), STORAGE_CHECK_TIMEOUT_MS).then(
    () => true,
    (error: unknown) => {
      context.warn(`Health: storage unreachable (${(error as Error).name}: ${(error as Error).message})`);
      return false;
    },
  );
  return {
    status: reachable ? 200 : 503,
    jsonBody: { status: reachable ? "ok" : "degraded", version: APP_VERSION, storage: reachable ? "reachable" : "unreachable" },
    headers: { "cache-control": "no-store" },
  };
}

/**
 * One call on a queue and one on a table the app owns, as its functions make them. Not the service properties: in
 * Azure those need queueServices/read and tableServices/read (control-plane actions), which the app's data roles
 * (Storage Queue/Table Data Contributor) don't grant, so an identity-based app would always look unreachable.
 */
async function probe(storage: StorageClients): Promise<void> {
  const [alerts, issues] = await Promise.all([storage.queue(QUEUES.alerts), storage.table(TABLES.issues)]);
  await Promise.all([
    alerts.getProperties(),
    issues
      .listEntities({ queryOptions: { select: ["RowKey"] } })
      .byPage({ maxPageSize: 1 })
      .next(),
  ]);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
