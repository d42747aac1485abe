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
