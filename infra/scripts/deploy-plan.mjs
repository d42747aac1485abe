#!/usr/bin/env node
// What infra/deploy.sh is about to deploy, worked out before it touches Azure: the parameters file with the
// environment's overrides (the same ones deploy.sh passes to Bicep), checked for combinations the app would
// refuse to start with.
//
//   node infra/scripts/deploy-plan.mjs --parameters <main.parameters.json> [--extra-out <file>]
//
// Prints one "name value" line each: the effective feature parameters, `secrets` (the settings the app will
// read from Key Vault, as modules/functionapp.bicep wires them), `vault-secrets` (every secret a deployment may
// write to Key Vault, whether or not this one does) and, when the environment sets any of the
// settings below, `extra-parameters <file>`: a parameters file with extraAppSettings (the parameters file's,
// then the environment's) written to --extra-out. Problems go to stderr, and the exit code is 2.
//
//   node infra/scripts/deploy-plan.mjs --parameters <main.parameters.json> --previous <deployment.json> [--what-if]
//
// Compares the plan with the running deployment (`az deployment group show`). App settings are replaced as a whole,
// so a feature the running deployment has on and this run doesn't set would be switched off: says which, how to keep
// it and how to confirm (RELAY_DEPLOY_TURN_OFF) on stderr, and exits 1 (with --what-if: a warning, exit 0).

import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Non-secret settings deploy.sh takes from its environment into extraAppSettings. */
export const EXTRA_SETTINGS_FROM_ENV = [
  "SLACK_ALLOWED_TEAMS",
  "SLACK_COMMAND",
  "TEAMS_SERVICE_URL_HOSTS",
  "IDENTITY_AUTO_LINK",
  "RENOTIFY_HOURS",
  "CARD_REFRESH_COALESCE_SECONDS",
  "THREAD_BROADCAST_REGRESSIONS",
];

/**
 * Every name extraAppSettings takes (main.bicep's extraAppSettingsType, which is sealed). The service URL overrides
 * come only from the parameters file: a developer's shell may still point them at the local emulators.
 */
export const EXTRA_SETTINGS = [...EXTRA_SETTINGS_FROM_ENV, "BOT_OPENID_METADATA_URL", "SLACK_API_URL", "DISCORD_API_URL"];

/** Settings the template sets itself, and the parameter (and deploy.sh variable) that sets each. */
const TEMPLATE_SETTINGS = {
  PUBLIC_BASE_URL: "the publicBaseUrl parameter",
  TEAMS_ALLOWED_TENANTS: "teamsAllowedTenants (TEAMS_ALLOWED_TENANTS)",
  SLACK_CLIENT_ID: "slackClientId (SLACK_CLIENT_ID)",
  DISCORD_APPLICATION_ID: "discordApplicationId (DISCORD_APPLICATION_ID)",
  DISCORD_ALLOWED_GUILDS: "discordAllowedGuilds (DISCORD_ALLOWED_GUILDS)",
  OIDC_ISSUER: "oidcIssuer (OIDC_ISSUER)",
  OIDC_CLIENT_ID: "oidcClientId (OIDC_CLIENT_ID)",
};

/**
 * App settings that hold secrets: never in a parameters file, and in the template only as Key Vault references
 * (infra/scripts/bicep-check.ts). The one list: bicep-check imports it, deploy.sh reads it from this script.
 */
export const SECRET_SETTINGS = [
  "SLACK_SIGNING_SECRET",
  "SLACK_CLIENT_SECRET",
  "SLACK_BOT_TOKEN",
  "LINK_SIGNING_KEY",
  "OIDC_CLIENT_SECRET",
  "INGEST_TOKENS",
  "SENTRY_CLIENT_SECRET",
  "DISCORD_PUBLIC_KEY",
  "DISCORD_BOT_TOKEN",
  "MicrosoftAppPassword",
];

/** Secrets the deployment never sets: the bot signs in with its managed identity, and Slack workspaces install through OAuth. */
const NOT_DEPLOYED = ["SLACK_BOT_TOKEN", "MicrosoftAppPassword"];

/** The secrets deploy.sh may write to Key Vault, each when its feature is turned on (`secrets` in the plan). */
export const KEY_VAULT_SECRETS = SECRET_SETTINGS.filter((name) => !NOT_DEPLOYED.includes(name));

export function plan(parametersFile, env) {
  const problems = [];
  const file = JSON.parse(readFileSync(parametersFile, "utf8")).parameters ?? {};
  const fromFile = (name) => file[name]?.value;
  const text = (name, variable) => String((variable && env[variable]?.trim()) || fromFile(name) || "").trim();
  const flag = (name, ...variables) => variables.some((v) => env[v]?.trim()) || fromFile(name) === true || fromFile(name) === "true";

  const effective = {
    slackClientId: text("slackClientId", "SLACK_CLIENT_ID"),
    discordApplicationId: text("discordApplicationId", "DISCORD_APPLICATION_ID"),
    discordAllowedGuilds: text("discordAllowedGuilds", "DISCORD_ALLOWED_GUILDS"),
    oidcIssuer: text("oidcIssuer", "OIDC_ISSUER"),
    oidcClientId: text("oidcClientId", "OIDC_CLIENT_ID"),
    teamsAllowedTenants: text("teamsAllowedTenants", "TEAMS_ALLOWED_TENANTS"),
    ingestEnabled: flag("ingestEnabled", "INGEST_TOKENS", "SENTRY_CLIENT_SECRET"),
    sentryEnabled: flag("sentryEnabled", "SENTRY_CLIENT_SECRET"),
  };

  if (effective.oidcIssuer && !effective.oidcIssuer.startsWith("https://")) problems.push("OIDC_ISSUER must be an https URL in Azure");
  if (effective.oidcIssuer && !effective.oidcClientId) {
    problems.push(
      "OIDC_ISSUER (oidcIssuer) is set but OIDC_CLIENT_ID is not: the app would refuse to start. Set OIDC_CLIENT_ID (the app " +
        "registration's client id) in the environment or oidcClientId in the parameters file, or leave OIDC_ISSUER unset to keep explicit linking off",
    );
  }
  if (effective.discordApplicationId && !effective.discordAllowedGuilds) {
    problems.push(
      "DISCORD_APPLICATION_ID (discordApplicationId) is set but DISCORD_ALLOWED_GUILDS is not: the app would refuse to start. Set " +
        "DISCORD_ALLOWED_GUILDS (comma-separated guild ids, or * for any guild) in the environment or discordAllowedGuilds in the parameters file",
    );
  }

  const extra = fromFile("extraAppSettings") ?? {};
  if (typeof extra !== "object" || Array.isArray(extra) || extra === null) {
    problems.push("extraAppSettings in the parameters file must be an object of setting names and string values");
  } else {
    for (const [name, value] of Object.entries(extra)) {
      const why = extraSettingRefused(name);
      if (why) problems.push(`extraAppSettings.${name} in the parameters file: ${why}`);
      else if (typeof value !== "string") problems.push(`extraAppSettings.${name} in the parameters file must be a string (app settings are text)`);
    }
  }

  const secrets = [
    "LINK_SIGNING_KEY",
    ...(effective.slackClientId ? ["SLACK_SIGNING_SECRET", "SLACK_CLIENT_SECRET"] : []),
    ...(effective.discordApplicationId ? ["DISCORD_PUBLIC_KEY", "DISCORD_BOT_TOKEN"] : []),
    ...(effective.oidcIssuer ? ["OIDC_CLIENT_SECRET"] : []),
    ...(effective.ingestEnabled ? ["INGEST_TOKENS", ...(effective.sentryEnabled ? ["SENTRY_CLIENT_SECRET"] : [])] : []),
  ];

  const fromEnv = Object.fromEntries(EXTRA_SETTINGS_FROM_ENV.filter((name) => env[name]?.trim()).map((name) => [name, env[name].trim()]));
  return { effective, secrets, problems, extraAppSettings: Object.keys(fromEnv).length > 0 ? { ...extra, ...fromEnv } : undefined };
}

/**
 * What a deployment can have on, by the word RELAY_DEPLOY_TURN_OFF takes to turn it off on purpose: on when
 * `parameter` is set (and `alsoNeeds` too); keeping it needs the `companions` as well.
 */
const FEATURES = [
  { key: "slack", label: "Slack", parameter: "slackClientId" },
  { key: "discord", label: "Discord", parameter: "discordApplicationId", companions: ["discordAllowedGuilds"] },
  { key: "oidc", label: "explicit identity linking (OpenID Connect)", parameter: "oidcIssuer", companions: ["oidcClientId"] },
  { key: "teams-tenants", label: "Teams in other tenants", parameter: "teamsAllowedTenants" },
  { key: "ingest", label: "monitoring webhooks (/api/ingest/*)", parameter: "ingestEnabled" },
  { key: "sentry", label: "Sentry webhooks (/api/ingest/sentry)", parameter: "sentryEnabled", alsoNeeds: "ingestEnabled" },
];

const isOn = (value) => value === true || value === "true" || (typeof value === "string" && value.trim() !== "");

/**
 * What this run would turn off that the running deployment has on, as [{key, label, was, keep}]: `was` says what it
 * is and would be, `keep` is the parameters-file entry that keeps it. Those RELAY_DEPLOY_TURN_OFF names are `confirmed`.
 */
export function turnedOff(result, previousParameters, env, parametersFile) {
  const previous = (name) => previousParameters?.[name]?.value;
  const confirmed = new Set((env.RELAY_DEPLOY_TURN_OFF ?? "").split(/[\s,]+/).filter(Boolean));
  const off = [];
  for (const feature of FEATURES) {
    const wasOn = isOn(previous(feature.parameter)) && (!feature.alsoNeeds || isOn(previous(feature.alsoNeeds)));
    const staysOn = isOn(result.effective[feature.parameter]) && (!feature.alsoNeeds || isOn(result.effective[feature.alsoNeeds]));
    if (!wasOn || staysOn) continue;
    const value = previous(feature.parameter);
    const boolean = typeof result.effective[feature.parameter] === "boolean";
    const now = isOn(result.effective[feature.parameter]) ? `${feature.alsoNeeds} is false` : boolean ? "false" : "empty";
    off.push({
      key: feature.key,
      label: feature.label,
      was: `${feature.parameter} is ${boolean ? "true" : value} in the running deployment and ${now} in this run`,
      keep: [feature.parameter, ...(feature.companions ?? [])]
        .map((name) => `"${name}": { "value": ${JSON.stringify(name === feature.parameter && boolean ? true : previous(name))} }`)
        .join(",\n  "),
    });
  }
  const fileExtra = JSON.parse(readFileSync(parametersFile, "utf8")).parameters?.extraAppSettings?.value ?? {};
  const extra = result.extraAppSettings ?? fileExtra;
  const previousExtra = previous("extraAppSettings") ?? {};
  const dropped = Object.keys(previousExtra).filter((name) => isOn(previousExtra[name]) && !isOn(extra[name]));
  const keptExtra = { ...extra, ...Object.fromEntries(dropped.map((name) => [name, previousExtra[name]])) };
  for (const name of dropped) {
    off.push({
      key: name,
      label: `${name} (extraAppSettings)`,
      was: `${previousExtra[name]} in the running deployment and unset in this run`,
      keep: `"extraAppSettings": { "value": ${JSON.stringify(keptExtra)} }`,
    });
  }
  return off.map((item) => ({ ...item, confirmed: confirmed.has(item.key) }));
}

/** The --previous report: what goes to stdout and stderr, and whether the deployment may go ahead. */
export function turnedOffReport(off, { parametersFile, whatIf }) {
  const refused = off.filter((item) => !item.confirmed);
  const confirmed = off.filter((item) => item.confirmed);
  const stdout = confirmed.length > 0 ? `Turning off, as RELAY_DEPLOY_TURN_OFF asks: ${confirmed.map((item) => item.label).join(", ")}\n` : "";
  if (refused.length === 0) return { stdout, stderr: "", ok: true };
  const keep = [...new Set(refused.map((item) => `  ${item.keep}`))].join(",\n");
  const stderr = [
    `${whatIf ? "warning" : "error: nothing was deployed"}: this run would turn off what the running deployment has on, as neither the environment nor the parameters file sets it:`,
    ...refused.map((item) => `  ${item.label}: ${item.was}`),
    `App settings are replaced as a whole on every deployment. To keep them on, put them in the parameters file (${parametersFile}), which every run reads:`,
    keep,
    `To turn them off on purpose, run again with RELAY_DEPLOY_TURN_OFF=${refused.map((item) => item.key).join(",")} in the environment.`,
    "",
  ].join("\n");
  return { stdout, stderr, ok: whatIf };
}

function extraSettingRefused(name) {
  if (EXTRA_SETTINGS.includes(name)) return undefined;
  if (SECRET_SETTINGS.includes(name)) return "a secret: give it to deploy.sh in the environment (it goes to Key Vault), never in a parameters file";
  if (name in TEMPLATE_SETTINGS) return `the template sets it: use ${TEMPLATE_SETTINGS[name]}`;
  if (name.startsWith("AzureWebJobs") || name.startsWith("APPLICATIONINSIGHTS_") || name.startsWith("Microsoft") || name === "AZURE_CLIENT_ID") {
    return "the template sets it from the deployment's own resources";
  }
  return `not a setting the template takes here (it takes ${EXTRA_SETTINGS.join(", ")})`;
}

function main() {
  const { values } = parseArgs({
    options: { parameters: { type: "string" }, "extra-out": { type: "string" }, previous: { type: "string" }, "what-if": { type: "boolean" } },
  });
  if (!values.parameters) throw new Error("--parameters is required");
  const result = plan(values.parameters, process.env);
  if (values.previous) {
    const previous = JSON.parse(readFileSync(values.previous, "utf8")).properties?.parameters ?? {};
    const off = turnedOff(result, previous, process.env, values.parameters);
    const report = turnedOffReport(off, { parametersFile: values.parameters, whatIf: values["what-if"] === true });
    process.stdout.write(report.stdout);
    process.stderr.write(report.stderr);
    process.exitCode = report.ok ? 0 : 1;
    return;
  }
  if (result.problems.length > 0) {
    for (const problem of result.problems) process.stderr.write(`error: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  for (const [name, value] of Object.entries(result.effective)) process.stdout.write(`${name} ${value}\n`);
  process.stdout.write(`secrets ${result.secrets.join(" ")}\n`);
  process.stdout.write(`vault-secrets ${KEY_VAULT_SECRETS.join(" ")}\n`);
  if (result.extraAppSettings && values["extra-out"]) {
    const parameters = {
      $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
      contentVersion: "1.0.0.0",
      parameters: { extraAppSettings: { value: result.extraAppSettings } },
    };
    writeFileSync(values["extra-out"], `${JSON.stringify(parameters, null, 2)}\n`, { mode: 0o600 });
    process.stdout.write(`extra-parameters ${values["extra-out"]}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (error) {
    console.error(`deploy-plan: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  }
}
