// A benchmark either produced figures or failed with a reason; one failure never loses the others.

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

export async function attempt<T>(name: string, run: () => Promise<T> | T, progress: (line: string) => void): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    progress(`FAILED ${name}: ${message}`);
    return { ok: false, error: message };
  }
}

export function failed<T>(error: string): Outcome<T> {
  return { ok: false, error };
}

/** Stops what a run started when the run is interrupted (Ctrl-C, SIGTERM): finally blocks don't run then. */
const onInterrupt = new Set<() => Promise<unknown>>();

export function stopOnInterrupt(stop: () => Promise<unknown>): () => void {
  onInterrupt.add(stop);
  return () => onInterrupt.delete(stop);
}

export function handleInterrupts(progress: (line: string) => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping everything the benchmark started`);
      void Promise.allSettled([...onInterrupt].map((stop) => stop())).then(() => process.exit(130));
    });
  }
}
