import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { APP_VERSION, getRuntime } from "../shared/runtime";

const STORAGE_CHECK_TIMEOUT_MS = 3000;

/** GET /api/health: the version, and whether storage answers (503 when it does not). */
export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { storage } = getRuntime();
  const reachable = await storage.probe(STORAGE_CHECK_TIMEOUT_MS).then(
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
