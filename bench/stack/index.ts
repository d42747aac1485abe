// The full-stack benchmarks (a–f) against one stack started as the e2e tests start it, with the app's
// default settings (card-refresh coalescing 5 s, Slack rate limits enforced by the emulator).
import { startStack } from "../../test/e2e/stack";
import { attempt, failed, stopOnInterrupt, type Outcome } from "../outcome";
import type { BenchSettings } from "../settings";
import { measureAlertToCards, type AlertLatencyResult } from "./alert-latency";
import { measureConcurrentClicks, type ConcurrentClicksResult } from "./concurrent-clicks";
import { measureSlackClicks, measureTeamsInvokes, type SlackClickResult, type TeamsInvokeResult } from "./clicks";
import { measureStorm, type StormResult } from "./storm";
import { quiesce, setUpWorld, type World } from "./world";

/** Excluded from every sequential full-stack figure: first uses (tokens, tables, JIT) are not steady state. */
export const STACK_WARMUP = 2;

/** Each phase is undefined when not run (BENCH_ONLY=clicks runs only 4f, BENCH_ONLY=storm only 4e). */
export interface StackResults {
  startMs: number;
  teamsAlert?: Outcome<AlertLatencyResult>;
  slackAlert?: Outcome<AlertLatencyResult>;
  teamsInvoke?: Outcome<TeamsInvokeResult>;
  slackClicks?: Outcome<SlackClickResult>;
  storm?: Outcome<StormResult>;
  clicks?: Outcome<ConcurrentClicksResult>;
}

export async function runStackBenchmarks(settings: BenchSettings, progress: (line: string) => void): Promise<Outcome<StackResults>> {
  progress("stack: starting Azurite, the Teams, Slack and OIDC emulators and the local host with dist/index.js");
  const started = Date.now();
  const stack = await attempt(
    "starting the stack",
    () => startStack(settings.hostNodeOptions ? { env: { NODE_OPTIONS: settings.hostNodeOptions } } : {}),
    progress,
  );
  if (!stack.ok) return stack;
  const forget = stopOnInterrupt(() => stack.value.stop());
  try {
    const startMs = Date.now() - started;
    progress(`stack: up in ${startMs} ms`);
    const world = await attempt("setting up teams and workspaces", () => setUpWorld(stack.value), progress);
    if (!world.ok) return world;
    return { ok: true, value: { startMs, ...(await runPhases(world.value, settings, progress)) } };
  } finally {
    progress("stack: stopping");
    forget();
    await stack.value.stop();
  }
}

async function runPhases(world: World, settings: BenchSettings, progress: (line: string) => void): Promise<Omit<StackResults, "startMs">> {
  const phase = <T>(name: string, run: () => Promise<T>) =>
    attempt(
      name,
      async () => {
        await quiesce(world.stack);
        progress(`stack: ${name}`);
        return run();
      },
      progress,
    );
  const sequential = settings.stackPhases.includes("sequential") ? await runSequentialPhases(world, settings, progress, phase) : {};
  const storm = settings.stackPhases.includes("storm")
    ? await phase(`(e) storm of ${settings.stormAlerts} alerts`, () => measureStorm(world, settings.stormAlerts, progress))
    : undefined;
  const clicks = settings.stackPhases.includes("clicks")
    ? await phase("(f) clicks under concurrency", () => measureConcurrentClicks(world, settings.clickSamples, progress))
    : undefined;
  return { ...sequential, storm, clicks };
}

type Phase = <T>(name: string, run: () => Promise<T>) => Promise<Outcome<T>>;

async function runSequentialPhases(
  world: World,
  settings: BenchSettings,
  progress: (line: string) => void,
  phase: Phase,
): Promise<Omit<StackResults, "startMs" | "storm" | "clicks">> {
  const { runs } = settings;

  const alerts = await phase("(a, b) alert → Teams card and Slack message", () => measureAlertToCards(world, runs, STACK_WARMUP, progress));
  const teamsAlert: Outcome<AlertLatencyResult> = alerts.ok ? { ok: true, value: alerts.value.Teams } : alerts;
  const slackAlert: Outcome<AlertLatencyResult> = alerts.ok ? { ok: true, value: alerts.value.Slack } : alerts;
  const teamsIssue = teamsAlert.ok ? teamsAlert.value.lastIssueId : undefined;
  const slackIssue = slackAlert.ok ? slackAlert.value.lastIssueId : undefined;
  const teamsInvoke = teamsIssue
    ? await phase("(c) Teams Resolve invoke", () => measureTeamsInvokes(world, teamsIssue, runs, STACK_WARMUP, progress))
    : failed<TeamsInvokeResult>("needs the card (a) posts");
  const slackClicks = slackIssue
    ? await phase("(d) Slack button click", () => measureSlackClicks(world, slackIssue, runs, STACK_WARMUP, progress))
    : failed<SlackClickResult>("needs the message (b) posts");
  return { teamsAlert, slackAlert, teamsInvoke, slackClicks };
}
