// What a run measures and how many times, from the environment.

export const SUITES = ["cold", "cards", "slack-verify", "stack", "storm", "clicks", "fanout"] as const;
export type Suite = (typeof SUITES)[number];

export interface BenchSettings {
  /** BENCH_N: measured runs of each sequential full-stack benchmark (a–d). Default 30. */
  runs: number;
  /** BENCH_COLD_N: fresh processes per cold-start variant. Default 10. */
  coldRuns: number;
  /** BENCH_STORM_ALERTS: alerts in the storm, over 10 issues. Default 1000. */
  stormAlerts: number;
  /** BENCH_CLICK_SAMPLES: clicks per row of the concurrent-clicks benchmark (4f), at least two rounds. Default 60. */
  clickSamples: number;
  /**
   * BENCH_ONLY: a comma-separated subset of SUITES (for working on one). Default all. `storm` and `clicks` are
   * phases of the full-stack run: alone, each starts the stack and runs only that phase (so `stack` is in `suites` too).
   */
  suites: Suite[];
  /**
   * BENCH_HOST_NODE_OPTIONS: NODE_OPTIONS for the app's host process in the full-stack run, to look inside it
   * (e.g. `--require` a script that starts the inspector's CPU profiler). Default none.
   */
  hostNodeOptions?: string;
  /** Which phases of the full-stack run: the sequential ones (4a–4d), the storm (4e), the concurrent clicks (4f). */
  stackPhases: StackPhase[];
}

export type StackPhase = "sequential" | "storm" | "clicks";

export function readSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  return {
    runs: positiveInteger(env, "BENCH_N", 30),
    coldRuns: positiveInteger(env, "BENCH_COLD_N", 10),
    stormAlerts: positiveInteger(env, "BENCH_STORM_ALERTS", 1000),
    clickSamples: positiveInteger(env, "BENCH_CLICK_SAMPLES", 60),
    hostNodeOptions: env.BENCH_HOST_NODE_OPTIONS || undefined,
    ...suitesAndPhases(suites(env.BENCH_ONLY)),
  };
}

function suitesAndPhases(chosen: Suite[]): { suites: Suite[]; stackPhases: StackPhase[] } {
  const stackPhases: StackPhase[] = [];
  if (chosen.includes("stack")) stackPhases.push("sequential");
  if (chosen.includes("stack") || chosen.includes("storm")) stackPhases.push("storm");
  if (chosen.includes("stack") || chosen.includes("clicks")) stackPhases.push("clicks");
  const suites = stackPhases.length > 0 && !chosen.includes("stack") ? [...chosen, "stack" as const] : chosen;
  return { suites, stackPhases };
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return value;
}

function suites(text: string | undefined): Suite[] {
  if (!text) return [...SUITES];
  const chosen = text.split(",").map((name) => name.trim());
  const unknown = chosen.filter((name) => !(SUITES as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown ${unknown.join(", ")}; choose from ${SUITES.join(", ")}`);
  return chosen as Suite[];
}
