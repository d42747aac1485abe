// npm run teams:package -- [options]
//
// Writes the Teams app package (manifest.json + icons) to dist/teams-app.zip.
//   --bot-id GUID        or BOT_APP_ID        the bot's app id (deployment output botAppId)
//   --base-url URL       or PUBLIC_BASE_URL   https://<app host> (deployment output appUrl)
//   --outputs FILE       read both from deployment outputs JSON, e.g. from
//                        az deployment group show -g <rg> -n triage-relay-<prefix> --query properties.outputs
//   --app-version X.Y.Z  or TEAMS_APP_VERSION  (default: package.json version)
//   --app-id GUID        or TEAMS_APP_ID       (default: the bot id)
//   --out FILE           (default: dist/teams-app.zip)

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildTeamsPackage } from "./manifest";

const ROOT = path.resolve(__dirname, "../..");

function deploymentOutputs(file: string): { botAppId?: string; appUrl?: string } {
  const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  // Accept the outputs object itself or a whole `az deployment group show` result.
  const outputs = ((json.properties as Record<string, unknown> | undefined)?.outputs ?? json) as Record<string, { value?: string }>;
  return { botAppId: outputs.botAppId?.value, appUrl: outputs.appUrl?.value };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "bot-id": { type: "string" },
      "base-url": { type: "string" },
      outputs: { type: "string" },
      "app-version": { type: "string" },
      "app-id": { type: "string" },
      out: { type: "string", default: path.join(ROOT, "dist", "teams-app.zip") },
    },
  });
  const fromDeployment = values.outputs ? deploymentOutputs(values.outputs) : {};
  const botAppId = values["bot-id"] ?? fromDeployment.botAppId ?? process.env.BOT_APP_ID;
  const publicBaseUrl = values["base-url"] ?? fromDeployment.appUrl ?? process.env.PUBLIC_BASE_URL;
  if (!botAppId || !publicBaseUrl) {
    throw new Error("the bot id and the app URL are needed: pass --bot-id and --base-url, set BOT_APP_ID and PUBLIC_BASE_URL, or pass --outputs");
  }
  const packageVersion = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;

  const { manifest, zip } = await buildTeamsPackage({
    botAppId,
    publicBaseUrl,
    version: values["app-version"] ?? process.env.TEAMS_APP_VERSION ?? packageVersion,
    teamsAppId: values["app-id"] ?? process.env.TEAMS_APP_ID,
  });
  mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
  writeFileSync(values.out, zip);
  const shown = path.relative(process.cwd(), path.resolve(values.out));
  console.log(
    `Teams app package ${shown.startsWith("..") ? path.resolve(values.out) : shown}: version ${String(manifest.version)}, bot ${botAppId}, valid domain ${(manifest.validDomains as string[]).join(", ")}`,
  );
}

main().catch((error: unknown) => {
  console.error(`teams:package: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
