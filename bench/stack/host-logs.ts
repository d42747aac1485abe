// Reads the local host's log (one line per entry, `<ISO time> <LEVEL> [<source>] <text>`) back into
// function invocations with their start and end times, so latencies can be split into "waiting on a
// queue poll" and "running our code" without instrumenting the app.

export interface Invocation {
  fn: string;
  invocationId: string;
  /** Epoch ms (the host's clock is this machine's clock). */
  start: number;
  end: number;
  succeeded: boolean;
  /** The queue message id, for queue functions. */
  messageId?: string;
  /** What the function itself logged. */
  lines: string[];
}

const EXECUTED = /^(\S+) +\w+ +\[host\] Executed (\w+) \((Succeeded|Failed), Id=([0-9a-f-]+), (?:message=(\S+), )?.*?(\d+) ms\)/;
const FUNCTION_LINE = /^\S+ +\w+ +\[\w+ ([0-9a-f]{8})\] (.*)$/;

export function invocations(logs: readonly string[]): Invocation[] {
  const linesById = new Map<string, string[]>();
  for (const line of logs) {
    const match = FUNCTION_LINE.exec(line);
    if (!match) continue;
    const [, idPrefix, text] = match;
    linesById.set(idPrefix!, [...(linesById.get(idPrefix!) ?? []), text!]);
  }
  const found: Invocation[] = [];
  for (const line of logs) {
    const match = EXECUTED.exec(line);
    if (!match) continue;
    const [, time, fn, outcome, invocationId, messageId, durationMs] = match;
    const end = Date.parse(time!);
    found.push({
      fn: fn!,
      invocationId: invocationId!,
      start: end - Number(durationMs),
      end,
      succeeded: outcome === "Succeeded",
      messageId: messageId?.replace(/,$/, ""),
      lines: linesById.get(invocationId!.slice(0, 8)) ?? [],
    });
  }
  return found;
}

/** The first invocation of `fn` that logged a line containing `text`. */
export function invocationLogging(all: readonly Invocation[], fn: string, text: string): Invocation | undefined {
  return all.find((invocation) => invocation.fn === fn && invocation.lines.some((line) => line.includes(text)));
}
