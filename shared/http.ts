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
