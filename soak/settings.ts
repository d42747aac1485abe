// How big a run is. `npm run soak` runs the full scale; the smoke test (test/e2e/soak-smoke.test.ts)
// runs the same phases small enough for `npm test`. SOAK_SEED replays a run (faults and fuzz inputs).

export interface SoakSettings {
  scale: "full" | "smoke";
  seed: number;
  /** Mutated inputs per HTTP endpoint (validly signed). */
  fuzzPerEndpoint: number;
  /** Mutated `alerts` messages. */
  fuzzAlerts: number;
  /** Alerts delivered under faults, over `faultIssues` issues, each to the 4 conversations. */
  faultAlerts: number;
  faultIssues: number;
  /** Share of platform requests that get a fault. */
  faultRate: number;
  /**
   * Kill the host mid-batch. Off in the smoke test: a delivery caught mid-send by a crash is looked at
   * again a minute later (the app's design), which alone would exceed the smoke test's budget.
   */
  crash: boolean;
  /** Simultaneous conflicting clicks on one issue, half from Teams, half from Slack. */
  clicks: number;
  /** Requests in flight at once while fuzzing. */
  concurrency: number;
  timing: SoakTiming;
}

export interface SoakTiming {
  /** Queue lease of the soak's host: how soon a killed host's messages come back. */
  leaseSeconds: number;
  /** "Quiet" = no message queued for the app at this many checks in a row, this far apart. */
  quietChecks: number;
  quietIntervalMs: number;
  /** Then this long for a handler that was between two sends. */
  settleMs: number;
}

const FULL_TIMING: SoakTiming = { leaseSeconds: 20, quietChecks: 3, quietIntervalMs: 2_000, settleMs: 5_000 };
const SMOKE_TIMING: SoakTiming = { leaseSeconds: 6, quietChecks: 2, quietIntervalMs: 1_000, settleMs: 2_000 };

export function fullSettings(seed = seedFromEnv()): SoakSettings {
  return {
    scale: "full",
    seed,
    fuzzPerEndpoint: 2000,
    fuzzAlerts: 2000,
    faultAlerts: 200,
    faultIssues: 50,
    faultRate: 0.2,
    crash: true,
    clicks: 50,
    concurrency: 16,
    timing: FULL_TIMING,
  };
}

export function smokeSettings(seed = seedFromEnv()): SoakSettings {
  return {
    scale: "smoke",
    seed,
    fuzzPerEndpoint: 25,
    fuzzAlerts: 40,
    faultAlerts: 8,
    faultIssues: 4,
    faultRate: 0.2,
    crash: false,
    clicks: 10,
    concurrency: 8,
    timing: SMOKE_TIMING,
  };
}

function seedFromEnv(): number {
  const text = process.env.SOAK_SEED;
  if (text === undefined || text === "") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isInteger(seed)) throw new Error(`SOAK_SEED must be an integer, got "${text}"`);
  return seed;
}
