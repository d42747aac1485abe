import { TABLES, type StorageClients } from "./clients";
import { getIfPresent, isConflict, isNotFound, isPreconditionFailed, safeKey } from "./table";

/**
 * How long an attempt at an event holds it: a retry arriving meanwhile neither runs the event a second time nor is
 * told it was handled. Short enough that an attempt whose instance died before it could give the event up (so its
 * lease is never released) leaves it to Slack's retry a minute later.
 */
export const EVENT_LEASE_MS = 30_000;

/** How many times a claim tries again when attempts contend for one event's row (taking over an expired lease together). */
const CLAIM_TRIES = 3;

interface EventEntity {
  partitionKey: string;
  rowKey: string;
  /** `handling` while an attempt holds the lease; `handled` once the event was acted on. Rows without it predate leases: handled. */
  state?: "handling" | "handled";
  /** ISO time the lease runs out (only while `handling`). */
  leaseUntil?: string;
  receivedAt?: string;
  handledAt?: string;
}

/** The right to act on one event, from `claimEvent` until `markEventHandled` or `releaseEvent`. */
export interface EventLease {
  readonly provider: string;
  readonly eventId: string;
  readonly etag: string;
}

export type EventClaim =
  | { kind: "claimed"; lease: EventLease }
  /** Acted on already: the platform's retry is answered as done. */
  | { kind: "handled" }
  /** Another attempt holds the lease: it is neither done nor given up yet. */
  | { kind: "in-progress" };

/** Partition key of a platform's event id in the `events` table (one row per event, row key ""). */
function eventKey(provider: string, eventId: string): string {
  return `${provider}:${safeKey(eventId)}`;
}

/**
 * Takes the lease on an event for `leaseMs`: a new row, or a conditional write (the row's ETag) over a lease that ran
 * out, so that of two attempts only one acts at a time.
 */
export async function claimEvent(storage: StorageClients, provider: string, eventId: string, leaseMs = EVENT_LEASE_MS): Promise<EventClaim> {
  const table = await storage.table(TABLES.events);
  const partitionKey = eventKey(provider, eventId);
  const leased = (receivedAt: string | undefined): EventEntity => ({
    partitionKey,
    rowKey: "",
    state: "handling",
    leaseUntil: new Date(Date.now() + leaseMs).toISOString(),
    receivedAt: receivedAt ?? new Date().toISOString(),
  });
  const claimed = (etag: string | undefined): EventClaim => ({ kind: "claimed", lease: { provider, eventId, etag: etag ?? "*" } });
  for (let tries = 0; tries < CLAIM_TRIES; tries++) {
    try {
      return claimed((await table.createEntity(leased(undefined))).etag);
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    const row = await getIfPresent<EventEntity>(table, partitionKey, "");
    // Given up meanwhile by a failed attempt: create it afresh.
    if (!row) continue;
    if (row.state !== "handling") return { kind: "handled" };
    if (Date.parse(row.leaseUntil ?? "") > Date.now()) return { kind: "in-progress" };
    try {
      return claimed((await table.updateEntity(leased(row.receivedAt), "Replace", { etag: row.etag })).etag);
    } catch (error) {
      if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
    }
  }
  return { kind: "in-progress" };
}

/**
 * The event was acted on: every later retry is answered as done. Unconditional: an attempt whose lease ran out and was
 * taken over still did the work.
 */
export async function markEventHandled(storage: StorageClients, lease: EventLease): Promise<void> {
  const table = await storage.table(TABLES.events);
  const row: EventEntity = {
    partitionKey: eventKey(lease.provider, lease.eventId),
    rowKey: "",
    state: "handled",
    handledAt: new Date().toISOString(),
  };
  await table.upsertEntity(row, "Replace");
}

/**
 * The attempt failed: the event is given up so that the platform's retry acts on it. Only this attempt's own lease
 * (its ETag): an attempt that took over meanwhile, or one that finished the event, keeps its row.
 */
export async function releaseEvent(storage: StorageClients, lease: EventLease): Promise<void> {
  const table = await storage.table(TABLES.events);
  try {
    await table.deleteEntity(eventKey(lease.provider, lease.eventId), "", { etag: lease.etag });
  } catch (error) {
    if (!isNotFound(error) && !isPreconditionFailed(error)) throw error;
  }
}
