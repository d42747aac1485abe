// A small in-process micro-benchmark harness: warm up (JIT, inline caches), calibrate a batch size so
// that one sample takes ~`sampleMs`, then time `samples` batches. Each sample is the mean time of one
// call within its batch, so GC pauses and JIT tiers show up in p95/max instead of being averaged away.
import { summarize, type Summary } from "./stats";

export interface MicroOptions {
  /** Time spent calling `fn` before anything is recorded. Default 500 ms. */
  warmupMs?: number;
  /** Timed batches. Default 50. */
  samples?: number;
  /** Target duration of one batch. Default 20 ms. */
  sampleMs?: number;
}

export interface MicroResult {
  /** Microseconds per call, over the samples. */
  perCallUs: Summary;
  /** Calls per second at the median. */
  opsPerSecond: number;
  callsPerSample: number;
  warmupCalls: number;
}

/** Written on every call, so no call can be optimised away. */
export let sink: unknown;

export function measureCalls(fn: () => unknown, options: MicroOptions = {}): MicroResult {
  const { warmupMs = 500, samples = 50, sampleMs = 20 } = options;
  const warmupCalls = warmUp(fn, warmupMs);
  const callsPerSample = Math.max(1, Math.round((sampleMs * warmupCalls) / warmupMs));
  const perCallUs: number[] = [];
  for (let s = 0; s < samples; s++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < callsPerSample; i++) sink = fn();
    const elapsedNs = Number(process.hrtime.bigint() - started);
    perCallUs.push(elapsedNs / 1000 / callsPerSample);
  }
  const summary = summarize(perCallUs);
  return { perCallUs: summary, opsPerSecond: 1e6 / summary.median, callsPerSample, warmupCalls };
}

function warmUp(fn: () => unknown, warmupMs: number): number {
  const deadline = performance.now() + warmupMs;
  let calls = 0;
  while (performance.now() < deadline) {
    sink = fn();
    calls++;
  }
  return calls;
}
