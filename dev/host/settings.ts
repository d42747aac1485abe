// local.settings.json, as Core Tools reads it: `Values` become environment variables, but a variable
// that is already set wins.
import { existsSync, readFileSync } from "node:fs";

/** Returns how many variables were set; a missing file sets none. */
export function loadLocalSettings(path: string, env: NodeJS.ProcessEnv = process.env): number {
  if (!existsSync(path)) return 0;
  let settings: { IsEncrypted?: unknown; Values?: unknown };
  try {
    settings = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new SettingsFileError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (settings.IsEncrypted === true) {
    throw new SettingsFileError(`${path} is encrypted (IsEncrypted: true); the local host reads plain values only`);
  }
  const values = settings.Values ?? {};
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new SettingsFileError(`${path}: "Values" must be an object`);
  }
  let loaded = 0;
  for (const [name, value] of Object.entries(values)) {
    if (env[name] !== undefined || value === null || value === undefined) continue;
    env[name] = String(value);
    loaded++;
  }
  return loaded;
}

/** local.settings.json can't be used as it is: said without a stack trace (dev/host-cli.ts). */
export class SettingsFileError extends Error {
  override name = "SettingsFileError";
}
