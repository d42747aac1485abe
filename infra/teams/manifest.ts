// The Teams app package: manifest.json rendered from manifest.template.json, checked
// offline against the manifest schema shipped in @microsoft/app-manifest, and the icons.

import { readFileSync } from "node:fs";
import path from "node:path";
import { AppManifestUtils } from "@microsoft/app-manifest";
import { zipSync } from "fflate";
import { colorIcon, outlineIcon } from "./icons";

export const TEMPLATE_PATH = path.join(__dirname, "manifest.template.json");

export interface PackageInputs {
  /** The bot's Microsoft App ID: the client id of the app's user-assigned identity. */
  botAppId: string;
  /** Where the app is reached, e.g. https://func-relay-xyz.azurewebsites.net */
  publicBaseUrl: string;
  /** Semver; Teams only takes an updated package when this goes up. */
  version: string;
  /** The Teams app's own id; defaults to the bot id so every rebuild updates the same app. */
  teamsAppId?: string;
}

export interface TeamsPackage {
  manifest: Record<string, unknown>;
  zip: Uint8Array;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const PLACEHOLDER = /\$\{\{([A-Z_]+)\}\}/g;

export function manifestVariables(inputs: PackageInputs): Record<string, string> {
  const teamsAppId = inputs.teamsAppId || inputs.botAppId;
  if (!GUID.test(inputs.botAppId)) {
    throw new Error(`the bot id must be the identity's client id (a GUID), got ${JSON.stringify(inputs.botAppId)}`);
  }
  if (!GUID.test(teamsAppId)) throw new Error(`the Teams app id must be a GUID, got ${JSON.stringify(teamsAppId)}`);
  if (!SEMVER.test(inputs.version)) throw new Error(`the app version must look like 1.2.3, got ${JSON.stringify(inputs.version)}`);
  let url: URL;
  try {
    url = new URL(inputs.publicBaseUrl);
  } catch {
    throw new Error(`the public base URL is not a URL: ${JSON.stringify(inputs.publicBaseUrl)}`);
  }
  if (url.protocol !== "https:") throw new Error(`the public base URL must use https, got ${url.href}`);
  return {
    BOT_APP_ID: inputs.botAppId.toLowerCase(),
    TEAMS_APP_ID: teamsAppId.toLowerCase(),
    APP_VERSION: inputs.version,
    PUBLIC_BASE_URL: url.href.replace(/\/$/, ""),
    APP_HOST: url.host,
  };
}

/** Replaces ${{NAME}} in every string of the template; an unknown name is an error. */
export function renderManifest(template: unknown, variables: Record<string, string>): Record<string, unknown> {
  const render = (value: unknown): unknown => {
    if (typeof value === "string") {
      return value.replace(PLACEHOLDER, (_, name: string) => {
        const replacement = variables[name];
        if (replacement === undefined) throw new Error(`manifest template uses \${{${name}}}, which has no value`);
        return replacement;
      });
    }
    if (Array.isArray(value)) return value.map(render);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item)]));
    }
    return value;
  };
  return render(template) as Record<string, unknown>;
}

/** The JSON schema for a manifest version, from the installed @microsoft/app-manifest (no download). */
export function manifestSchemaPath(manifestVersion: string): string {
  const packageDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json"));
  return path.join(packageDir, "build", "json-schemas", "teams", `v${manifestVersion}`, "MicrosoftTeams.schema.json");
}

/** Schema errors, empty when the manifest is valid. */
export async function validateManifest(manifest: Record<string, unknown>): Promise<string[]> {
  const version = String(manifest.manifestVersion);
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(manifestSchemaPath(version), "utf8"));
  } catch {
    return [`no JSON schema for manifestVersion ${version} in @microsoft/app-manifest`];
  }
  type Validate = typeof AppManifestUtils.validateAgainstSchema;
  const errors = await AppManifestUtils.validateAgainstSchema(manifest as Parameters<Validate>[0], schema as Parameters<Validate>[1]);
  return errors.map((error) => error.trim());
}

export async function buildTeamsPackage(inputs: PackageInputs): Promise<TeamsPackage> {
  const template: unknown = JSON.parse(readFileSync(TEMPLATE_PATH, "utf8"));
  const manifest = renderManifest(template, manifestVariables(inputs));
  const errors = await validateManifest(manifest);
  if (errors.length > 0) throw new Error(`manifest.json does not match its schema:\n  ${errors.join("\n  ")}`);
  const icons = manifest.icons as { color: string; outline: string };
  const zip = zipSync(
    {
      "manifest.json": Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      [icons.color]: colorIcon(),
      [icons.outline]: outlineIcon(),
    },
    { level: 9, mtime: new Date(1980, 0, 1) },
  );
  return { manifest, zip };
}
