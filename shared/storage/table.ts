import type { GetTableEntityResponse, TableClient, TableEntityResult, TransactionAction } from "@azure/data-tables";

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

/**
 * Table keys cannot hold / \ # ? or control characters: those (and %) are percent-encoded as UTF-8, so
 * `decodeURIComponent` always reverses it. Total: an unpaired surrogate (refused at every edge) becomes U+FFFD
 * rather than throwing.
 */
export function safeKey(value: string): string {
  return value.toWellFormed().replace(/[/\\#?%\u0000-\u001f\u007f-\u009f]/g, (c: string) => encodeURIComponent(c).toLowerCase());
}

export function escapeOData(value: string): string {
  return value.replace(/'/g, "''");
}

export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A Table transaction holds at most 100 operations on one partition. */
export const MAX_TRANSACTION_ACTIONS = 100;

/** Submits the actions (all on one partition) as transactions of at most 100; none when there are none. */
export async function submitInChunks(table: TableClient, actions: TransactionAction[]): Promise<void> {
  for (let start = 0; start < actions.length; start += MAX_TRANSACTION_ACTIONS) {
    await table.submitTransaction(actions.slice(start, start + MAX_TRANSACTION_ACTIONS));
  }
}

/** Creates the row; false when it already exists (409): the table's own "first one wins". */
export async function createIfAbsent(
  table: TableClient,
  entity: { partitionKey: string; rowKey: string; [property: string]: unknown },
): Promise<boolean> {
  try {
    await table.createEntity(entity);
    return true;
  } catch (error) {
    if (isConflict(error)) return false;
    throw error;
  }
}

/** The row, or undefined when there is none (404). */
export async function getIfPresent<T extends object>(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<GetTableEntityResponse<TableEntityResult<T>> | undefined> {
  try {
    return await table.getEntity<T>(partitionKey, rowKey);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Every row the OData filter selects. */
export async function listWhere<T extends object>(table: TableClient, filter: string): Promise<TableEntityResult<T>[]> {
  const rows: TableEntityResult<T>[] = [];
  for await (const entity of table.listEntities<T>({ queryOptions: { filter } })) rows.push(entity);
  return rows;
}
