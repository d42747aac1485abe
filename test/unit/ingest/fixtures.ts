import { readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = join(__dirname, "../../fixtures/ingest");

/** A vendor's documented sample, as the raw text a sender would post (its `_source` citation included). */
export function sampleText(name: string): string {
  return readFileSync(join(DIR, `${name}.json`), "utf8");
}

export function sample(name: string): Record<string, unknown> {
  return JSON.parse(sampleText(name)) as Record<string, unknown>;
}
