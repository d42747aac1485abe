/**
 * A handler whose module, and everything it imports, is loaded on the function's first invocation
 * rather than when the instance starts: dev/build.mjs makes each such import() a chunk file, so a new
 * instance compiles only what it runs.
 */
export function loadedOnFirstCall<Args extends unknown[], Result>(
  load: () => Promise<(...args: Args) => Result>,
): (...args: Args) => Promise<Awaited<Result>> {
  let handler: Promise<(...args: Args) => Result> | undefined;
  return async (...args: Args): Promise<Awaited<Result>> => {
    handler ??= load().catch((error: unknown) => {
      handler = undefined; // a failed load is tried again on the next call
      throw error;
    });
    return await (await handler)(...args);
  };
}
