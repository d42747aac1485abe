// Polling for conditions that become true asynchronously (queues drained, logs written, ...).

export interface WaitOptions {
  /**
   * Default 30 s: generous, because CI runs every file at once on 2 cores; a wait for a positive signal
   * costs nothing more when the signal comes quickly.
   */
  timeoutMs?: number;
  /** Default 50 ms. */
  intervalMs?: number;
  /** Names the condition in the timeout error. */
  description?: string;
}

export type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Calls `fn` until it returns a truthy value without throwing, and returns that value.
 * On timeout, rejects with the last error `fn` threw (or says what it kept returning).
 */
export async function waitFor<T>(fn: () => T | Promise<T>, options: WaitOptions = {}): Promise<Truthy<T>> {
  const { timeoutMs = 30_000, intervalMs = 50, description = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = "it never became truthy";
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as Truthy<T>;
      lastProblem = `last value: ${String(value)}`;
    } catch (error) {
      lastProblem = `last error: ${(error as Error).message}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${description} not met within ${timeoutMs} ms (${lastProblem})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
