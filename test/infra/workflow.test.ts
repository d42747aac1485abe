// .github/workflows/infra.yml runs what cannot run offline: the Bicep CLI and a what-if against Azure.

import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string[];
  permissions?: Record<string, string>;
  steps: Step[];
}

const workflow = parse(readFileSync(path.resolve(__dirname, "../../.github/workflows/infra.yml"), "utf8")) as {
  on: Record<string, { paths?: string[] } | null>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const runs = (job: string) => workflow.jobs[job]!.steps.map((step) => step.run ?? "").join("\n");

describe("infra workflow", () => {
  it("runs on changes to the infrastructure and its tests, with read-only defaults", () => {
    for (const event of ["push", "pull_request"]) {
      expect(workflow.on[event]?.paths).toEqual(expect.arrayContaining(["infra/**", "test/infra/**"]));
    }
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("runs the offline checks and shellcheck", () => {
    expect(runs("offline")).toContain("npx vitest run test/infra");
    expect(runs("offline")).toContain("shellcheck infra/deploy.sh");
  });

  it("builds and lints every Bicep file with the Bicep CLI", () => {
    expect(runs("bicep")).toContain("az bicep build --file infra/main.bicep");
    expect(runs("bicep")).toMatch(/for file in infra\/main\.bicep infra\/modules\/\*\.bicep[\s\S]*az bicep lint --file "\$file"/);
  });

  it("runs a what-if through deploy.sh after an OIDC login, only where credentials are configured", () => {
    const job = workflow.jobs["what-if"]!;
    expect(job.needs).toEqual(["offline", "bicep"]);
    expect(job.if).toContain("vars.AZURE_CLIENT_ID != ''");
    expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    const login = job.steps.find((step) => step.uses?.startsWith("azure/login@"));
    expect(Object.keys(login?.with ?? {}).sort()).toEqual(["client-id", "subscription-id", "tenant-id"]);
    expect(runs("what-if")).toContain("bash infra/deploy.sh --what-if");
  });
});
