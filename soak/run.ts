// `npm run soak`: the fault suite at full scale, writing RELIABILITY.md. Exit 0 when every goal is
// met, 2 when the report shows goals not met, 1 when the suite itself could not run.
// SOAK_SCALE=smoke runs the smoke test's small scale (for working on the suite; don't commit that report).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeMachine } from "../bench/machine";
import { handleInterrupts, stopOnInterrupt } from "../bench/outcome";
import { ROOT } from "../bench/paths";
import { figures } from "./goals";
import { renderReliability } from "./report";
import { fullSettings, smokeSettings } from "./settings";
import { runSoak } from "./suite";

const REPORT = join(ROOT, "RELIABILITY.md");

async function main(): Promise<number> {
  const progress = (line: string) => console.log(`[soak] ${line}`);
  handleInterrupts(progress);
  const machine = describeMachine();
  const settings = process.env.SOAK_SCALE === "smoke" ? smokeSettings() : fullSettings();
  const results = await runSoak(settings, progress, (stack) => stopOnInterrupt(() => stack.stop()));
  writeFileSync(REPORT, renderReliability(results, machine));
  const unmet = figures(results).filter((f) => !f.met);
  progress(`wrote ${REPORT}: ${unmet.length ? `${unmet.length} goal(s) not met` : "every goal met"}`);
  for (const f of unmet) progress(`  not met: ${f.area}: ${f.what}: ${f.value} (goal ${f.goal})`);
  return unmet.length ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
