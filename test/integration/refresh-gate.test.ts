// The refresh gate (shared/delivery/refresh-gate.ts) against Azurite: a trailing refresh that arrives while a newer
// run is going waits for it, but not for a run that already ended with copies left (held back while the issue
// settles, or throttled) and relied on that very refresh. Waiting out UNFINISHED_RUN_MS there left copies stale
// for a minute after a storm.
import { describe, expect, it } from "vitest";
import { RefreshGate } from "../../shared/storage/refresh-gate";
import type { StorageClients } from "../../shared/storage/clients";
import { useTestStorage } from "../support/test-storage";

let storage: StorageClients;

useTestStorage((started) => ({ storage } = started));

const WINDOW_MS = 5000;
const t0 = Date.parse("2026-12-06T10:00:00Z");
/** Past the newer run's own window (within it, a trailing refresh waits anyway), well within UNFINISHED_RUN_MS. */
const AFTER_NEWER_WINDOW = t0 + 2 * WINDOW_MS + 2000;

/** A run at t0, a change within its window (a trailing refresh for t0 + window), then a newer run after that time. */
async function trailingBehindANewerRun(issueId: string): Promise<{ gate: RefreshGate; trailingFor: string; newer: string }> {
  const gate = new RefreshGate(storage, WINDOW_MS);
  expect(await gate.enter(issueId, { now: t0 })).toMatchObject({ kind: "run" });
  const deferred = await gate.enter(issueId, { now: t0 + 1000 });
  if (deferred.kind !== "defer") throw new Error(`expected a trailing refresh, got ${deferred.kind}`);
  const newer = await gate.enter(issueId, { now: t0 + WINDOW_MS + 1000 });
  if (newer.kind !== "run") throw new Error(`expected the newer change to run, got ${newer.kind}`);
  return { gate, trailingFor: deferred.trailingFor, newer: newer.startedAt };
}

describe("a trailing refresh that arrives after a newer run started", () => {
  it("waits while that run is going", async () => {
    const { gate, trailingFor } = await trailingBehindANewerRun("gate-going");
    expect(await gate.enter("gate-going", { trailingFor, now: AFTER_NEWER_WINDOW })).toMatchObject({ kind: "defer" });
  });

  it("runs once that run ended with copies left and queued nothing of its own", async () => {
    const { gate, trailingFor, newer } = await trailingBehindANewerRun("gate-ended");
    await gate.ended("gate-ended", newer);
    expect(await gate.enter("gate-ended", { trailingFor, now: AFTER_NEWER_WINDOW })).toMatchObject({ kind: "run" });
  });

  it("runs once that run ended with copies left and queued a retry for later", async () => {
    const { gate, trailingFor, newer } = await trailingBehindANewerRun("gate-retry");
    await gate.scheduled("gate-retry", new Date(t0 + 60_000).toISOString(), newer);
    expect(await gate.enter("gate-retry", { trailingFor, now: AFTER_NEWER_WINDOW })).toMatchObject({ kind: "run" });
  });

  it("is dropped once that run brought every copy up to date", async () => {
    const { gate, trailingFor, newer } = await trailingBehindANewerRun("gate-done");
    await gate.done("gate-done", newer);
    expect(await gate.enter("gate-done", { trailingFor, now: AFTER_NEWER_WINDOW })).toEqual({ kind: "drop" });
  });
});
