// Every setting the app reads (shared/config.ts, settingsSchema) that is not a secret can be set through the
// deployment. A deployment replaces the app settings as a whole, so one set by hand in the portal is gone after
// the next `npm run deploy`.

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { SECRET_SETTINGS, appSettings, extraSettingsType, readInfra } from "../../infra/scripts/bicep-check";
import type { BicepFile } from "../../infra/scripts/bicep-tree";

const REPO = path.resolve(__dirname, "../..");
/** A key-based connection string: the deployment gives the app its storage through the identity (`__accountName`). */
const NOT_IN_AZURE = ["AzureWebJobsStorage"];

let files: BicepFile[];
beforeAll(async () => {
  files = await readInfra(path.join(REPO, "infra"));
});

/** The property names of `const settingsSchema = z.object({ ... })`, read with the TypeScript parser. */
function settingsSchemaNames(): string[] {
  const file = path.join(REPO, "shared", "config.ts");
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  let names: string[] | undefined;
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      node.name.getText(source) === "settingsSchema" &&
      node.initializer &&
      ts.isCallExpression(node.initializer)
    ) {
      const shape = node.initializer.arguments[0];
      if (shape && ts.isObjectLiteralExpression(shape)) {
        names = shape.properties.map((property) => property.name?.getText(source).replace(/^["']|["']$/g, "") ?? "");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!names) throw new Error("settingsSchema = z.object({...}) not found in shared/config.ts");
  return names;
}

function templateSettings(): string[] {
  return files.flatMap((file) => appSettings(file).flatMap((found) => Object.keys(found.settings)));
}

describe("the deployment's app settings", () => {
  it("let an operator set every non-secret setting the app reads, and keep it across deployments", () => {
    const names = settingsSchemaNames();
    expect(names).toEqual(expect.arrayContaining(["MicrosoftAppId", "RENOTIFY_HOURS", "SLACK_ALLOWED_TEAMS"]));
    const extra = extraSettingsType(files.find((f) => f.path === "main.bicep")!)?.names ?? [];
    const settable = new Set([...templateSettings(), ...extra]);
    const secrets: readonly string[] = SECRET_SETTINGS;
    const unreachable = names.filter((name) => !secrets.includes(name) && !NOT_IN_AZURE.includes(name) && !settable.has(name));
    expect(unreachable).toEqual([]);
  });

  it("take from deploy.sh exactly the names the template's extraAppSettings type admits", async () => {
    const plan = (await import(pathToFileURL(path.join(REPO, "infra", "scripts", "deploy-plan.mjs")).href)) as {
      EXTRA_SETTINGS: string[];
      EXTRA_SETTINGS_FROM_ENV: string[];
    };
    const extra = extraSettingsType(files.find((f) => f.path === "main.bicep")!);
    expect(extra?.sealed).toBe(true);
    expect([...plan.EXTRA_SETTINGS].sort()).toEqual([...(extra?.names ?? [])].sort());
    expect(plan.EXTRA_SETTINGS).toEqual(expect.arrayContaining(plan.EXTRA_SETTINGS_FROM_ENV));
    const usage = readFileSync(path.join(REPO, "infra", "deploy.sh"), "utf8");
    for (const name of plan.EXTRA_SETTINGS_FROM_ENV) expect(usage, `deploy.sh --help names ${name}`).toContain(name);
  });
});
