import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { BodyTooLargeError, readBody } from "../shared/http";
import { getRuntime } from "../shared/runtime";
import { getIssue, patchIssue } from "../shared/workflows/issue-api";

const MAX_PATCH_BYTES = 16 * 1024;

/** GET and PATCH /api/issues/{id}, behind a function key (authLevel "function"). */
export async function issueApi(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  const { storage } = getRuntime();
  const issueId = request.params.id ?? "";
  if (request.method === "GET") return json(await getIssue(storage, issueId));
  let body: unknown;
  try {
    body = JSON.parse(await readBody(request, MAX_PATCH_BYTES));
  } catch (error) {
    const status = error instanceof BodyTooLargeError ? 413 : 400;
    context.warn(`Issue API: ${status === 413 ? "body too large" : "body is not JSON"}`);
    return { status, jsonBody: { error: status === 413 ? "The body is too large." : "The body must be JSON." } };
  }
  const answer = await patchIssue(storage, issueId, body);
  context.log(`Issue API: PATCH ${issueId} → ${answer.status}`);
  return json(answer);
}

function json(answer: { status: number; body: unknown }): HttpResponseInit {
  return { status: answer.status, jsonBody: answer.body, headers: { "cache-control": "no-store" } };
}
