// Runs `work` over `items` with at most `concurrency` in flight, and stops starting new ones at the deadline.
export async function inPool<T>(items: T[], concurrency: number, deadline: number, work: (item: T, index: number) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length && Date.now() < deadline) {
      const index = next++;
      await work(items[index]!, index);
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return done;
}

export const pause = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
