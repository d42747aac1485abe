import type { HttpRequest } from "@azure/functions";

export class BodyTooLargeError extends Error {}

/**
 * Reads the raw body once, refusing anything over `maxBytes` before buffering all of it
 * (Content-Length first, then the actual bytes, since the header can lie or be absent).
 */
export async function readBody(request: HttpRequest, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new BodyTooLargeError();
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw new BodyTooLargeError();
  return bytes.toString("utf8");
}
