import type { HttpRequest } from "@azure/functions";

export class BodyTooLargeError extends Error {}

/**
 * Reads the raw body once, refusing anything over `maxBytes` without buffering more than that:
 * Content-Length first, then a running count of the bytes actually read (the header can lie or be absent).
 */
export async function readBody(request: HttpRequest, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new BodyTooLargeError();
  const stream = request.body;
  if (!stream) return "";
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Where a value failed its schema, and what was expected there: for a 400's reason or the log, never the value itself. */
export function zodPath(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issue = error.issues[0];
  return `${issue?.path.map(String).join(".") || "(root)"}: ${issue?.message ?? "invalid"}`;
}

/** One cookie's value from the request's Cookie header; undefined when it isn't there. */
export function readCookie(request: HttpRequest, name: string): string | undefined {
  return (request.headers.get("cookie") ?? "")
    .split(";")
    .map((part) => part.trim().split("="))
    .find(([cookieName]) => cookieName === name)?.[1];
}

/**
 * Why a signed request's headers can't be checked further, or undefined: both present, and the timestamp (Unix
 * seconds) within `maxSkewSeconds` of now either way (a replayed or future-dated request is refused).
 */
export function signatureHeadersProblem(
  signatureHeader: string | null | undefined,
  timestampHeader: string | null | undefined,
  maxSkewSeconds: number,
  nowMs = Date.now(),
): string | undefined {
  if (!signatureHeader || !timestampHeader) return "missing signature headers";
  if (!/^\d{1,12}$/.test(timestampHeader)) return "timestamp is not a number";
  if (Math.abs(nowMs / 1000 - Number(timestampHeader)) > maxSkewSeconds) return "timestamp outside the five-minute window";
  return undefined;
}

/** A request body as a JSON object, or why not. */
export function parseJsonObject(raw: string): { json: Record<string, unknown> } | { problem: "not JSON" | "not an object" } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { problem: "not JSON" };
  }
  return typeof json === "object" && json !== null && !Array.isArray(json) ? { json: json as Record<string, unknown> } : { problem: "not an object" };
}

/** The body, or undefined when it is larger than `maxBytes` (answer 413); other read errors are thrown. */
export async function readBodyWithin(request: HttpRequest, maxBytes: number): Promise<string | undefined> {
  try {
    return await readBody(request, maxBytes);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return undefined;
    throw error;
  }
}

/**
 * The `error` an OAuth provider sends back on its redirect, fit for a log line and a page: an error code is
 * [\w.-]; anything else in the query is someone's typing (the redirect URL is public), kept out.
 */
export function oauthErrorCode(value: string | null | undefined): string | undefined {
  return value?.replace(/[^\w.-]/g, "?").slice(0, 60) || undefined;
}

/** Connection errors that prove a request never left: nothing can have reached the other side. */
const NEVER_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * Whether a request that failed without an HTTP answer never left (no connection was made), looking through the
 * errors it wraps: undici puts the socket error on `cause`, the Slack SDK on `original`.
 */
export function requestNeverSent(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown; original?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && NEVER_SENT_CODES.has(e.code)) return true;
    e = (e.cause ?? e.original) as typeof e;
  }
  return false;
}
