/** Azure SDK errors carry the HTTP status as `statusCode`. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown })?.statusCode;
  return typeof status === "number" ? status : undefined;
}

export const isConflict = (error: unknown) => statusOf(error) === 409;
export const isPreconditionFailed = (error: unknown) => statusOf(error) === 412;
export const isNotFound = (error: unknown) => statusOf(error) === 404;

/**
 * Why storage refused a request for good, or undefined when trying again may work. Permanent: what the
 * request holds was refused (400: `PropertyValueTooLarge`, `EntityTooLarge`, `InvalidInput`, …; 413: a
 * body too large) or a key could not even be put in a URL (`URIError`). Everything else — 5xx, 408,
 * 429, a network error, 409/412 contention — may pass on another try. The reason names the storage
 * error code, never the data.
 */
export function permanentStorageRejection(error: unknown): string | undefined {
  if (error instanceof URIError) return "a key could not be encoded in a storage URL (URIError)";
  const status = statusOf(error);
  if (status !== 400 && status !== 413) return undefined;
  const code = storageErrorCode(error);
  return `storage refused it with ${status}${code ? ` ${code}` : ""}`;
}

/** The storage error code (`PropertyValueTooLarge`, …): on the error itself, or in the OData error body (tables). */
export function storageErrorCode(error: unknown): string | undefined {
  const { code, details } = (error ?? {}) as { code?: unknown; details?: { errorCode?: unknown; odataError?: { code?: unknown } } };
  const candidates = [code, details?.errorCode, details?.odataError?.code];
  const found = candidates.find((value): value is string => typeof value === "string" && /^[A-Za-z]{1,64}$/.test(value));
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
