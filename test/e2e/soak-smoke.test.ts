// The fault suite (`npm run soak`, soak/) at a small scale: forged inbound, fuzzed HTTP endpoints and
// alerts, delivery under injected faults with a host crash, conflicting clicks, and the logs scanned;
// every goal RELIABILITY.md reports is asserted here. A failure names the figure and its value; the
// seed printed on the first line replays the fuzz inputs and faults (SOAK_SEED=<seed>).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { figures, type Figure } from "../../soak/goals";
import { smokeSettings } from "../../soak/settings";
import { runSoak, type SoakResults } from "../../soak/suite";

let results: SoakResults;
let all: Figure[];

beforeAll(async () => {
  results = await runSoak(smokeSettings(), (line) => console.log(`[soak-smoke] ${line}`));
  all = figures(results);
}, 300_000);

afterAll(() => {
  if (results) console.log(`[soak-smoke] seed ${results.settings.seed}, ${(results.durationMs / 1000).toFixed(1)} s`);
});

const unmet = (area: Figure["area"]) => all.filter((f) => f.area === area && !f.met).map((f) => `${f.what}: ${f.value} (goal ${f.goal})`);

describe("soak smoke", () => {
  it("refuses every forged or malformed request and changes nothing", () => {
    expect(unmet("Forged inbound")).toEqual([]);
  });

  it("answers fuzzed HTTP requests without a 5xx, stores every valid alert and poisons every invalid one with its reason", () => {
    expect(unmet("Fuzz")).toEqual([]);
  });

  it("delivers exactly one card per issue and conversation, on its final state, through injected 429s, 5xx and slow answers", () => {
    expect(unmet("Faults")).toEqual([]);
  });

  it("takes simultaneous conflicting clicks without errors and ends every copy on the final state", () => {
    expect(unmet("Concurrency")).toEqual([]);
  });

  it("logs no secret, token, email or message body, and the host never dies unasked", () => {
    expect([...unmet("Logs"), ...unmet("Whole run")]).toEqual([]);
  });
});
