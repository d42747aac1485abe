/** Time source for everything that expires or refills: rate limits, triggers, response_urls, rotating tokens. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

/** A clock that only moves when told to, so tests can cross rate-limit and expiry windows without sleeping. */
export function createManualClock(startMs = Date.UTC(2024, 0, 1)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
    set: (ms) => {
      current = ms;
    },
  };
}

/**
 * Message timestamps (`ts`) as Slack formats them: seconds with six decimals, e.g. `1700000000.000100`.
 * Slack guarantees they are unique per channel; these are unique and strictly increasing emulator-wide.
 */
export class TsGenerator {
  private lastMicros = 0;

  constructor(private readonly clock: Clock) {}

  next(): string {
    const micros = Math.max(this.clock.now() * 1000, this.lastMicros + 1);
    this.lastMicros = micros;
    return formatMicros(micros);
  }
}

export function slackTimestamp(clock: Clock): string {
  return formatMicros(clock.now() * 1000);
}

function formatMicros(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const fraction = String(micros % 1_000_000).padStart(6, "0");
  return `${seconds}.${fraction}`;
}
