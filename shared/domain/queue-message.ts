/**
 * A queue message holds at most 65,536 characters (64 KiB; Azurite refuses one more with 413), and the host
 * reads base64, which takes 4 characters for every 3 bytes: so a message is at most 49,152 bytes of JSON.
 */
export const QUEUE_MESSAGE_JSON_BYTES = 49_152;

/** A queue message as a value: its text parsed as JSON, or the value as the host gave it; not-json when the text is not JSON. */
export function queueMessageValue(message: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof message !== "string") return { ok: true, value: message };
  try {
    return { ok: true, value: JSON.parse(message) };
  } catch {
    return { ok: false };
  }
}

/** The `kind` a queue message claims (then validated as that kind, never as another). */
export function claimedKind(message: unknown): unknown {
  const read = queueMessageValue(message);
  return read.ok && typeof read.value === "object" && read.value !== null ? (read.value as { kind?: unknown }).kind : undefined;
}
