// `npm run bench`: measures the app on this machine and writes BENCHMARKS.md.
// Run `npm run build` first: the cold-start and full-stack benchmarks use dist/index.js.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { measureCards } from "./cards";
import { measureColdStart } from "./cold-start";
import { describeMachine } from "./machine";
import { attempt, handleInterrupts, type Outcome } from "./outcome";
import { ROOT } from "./paths";
import { renderReport, type Results } from "./report";
import { readSettings, type Suite } from "./settings";
import { measureSlackVerify } from "./slack-verify";
import { fanoutShape, measureFanout } from "./stack/fanout";
import { runStackBenchmarks } from "./stack/index";

const REPORT = join(ROOT, "BENCHMARKS.md");

async function main(): Promise<boolean> {
  const started = Date.now();
  const progress = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  handleInterrupts(progress);
  const settings = readSettings();
  const machine = describeMachine();
  progress(
    `node ${machine.node}, ${machine.cpuCount} × ${machine.cpuModel}; runs ${settings.runs}, cold ${settings.coldRuns}, storm ${settings.stormAlerts}`,
  );

  const runs = (suite: Suite) => settings.suites.includes(suite);
  const when = async <T>(suite: Suite, run: () => Promise<Outcome<T>>) => (runs(suite) ? run() : undefined);

  const coldStart = await when("cold", () => attempt("cold start", () => measureColdStart(settings.coldRuns, progress), progress));
  const cards = await when("cards", () => attempt("card rendering", () => measureCards(progress), progress));
  const slackVerify = await when("slack-verify", () => attempt("Slack verification", () => measureSlackVerify(progress), progress));
  const stack = await when("stack", () => runStackBenchmarks(settings, progress));
  const fanout = runs("fanout")
    ? [
        await attempt("fan-out, 1 host process", () => measureFanout(fanoutShape(process.env, 1), progress), progress),
        await attempt("fan-out, 2 host processes", () => measureFanout(fanoutShape(process.env, 2), progress), progress),
      ]
    : undefined;

  const results: Results = { machine, settings, durationMs: Date.now() - started, coldStart, cards, slackVerify, stack, fanout };
  writeFileSync(REPORT, renderReport(results));
  progress(`wrote ${REPORT}`);
  return allSucceeded(results);
}

function allSucceeded({ coldStart, cards, slackVerify, stack, fanout }: Results): boolean {
  const s = stack?.ok ? stack.value : undefined;
  const phases = s ? [s.teamsAlert, s.slackAlert, s.teamsInvoke, s.slackClicks, s.storm] : [];
  return [coldStart, cards, slackVerify, stack, ...phases, ...(fanout ?? [])].every((outcome) => outcome === undefined || outcome.ok);
}

main().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
