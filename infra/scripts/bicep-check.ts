// Offline policy checks for infra/**/*.bicep, on the tree-sitter parse.
//
//   npx tsx infra/scripts/bicep-check.ts [infra-dir]
//
// checkFile(): rules any Bicep file must follow (syntax, no account keys, hardened
// storage and Key Vault, secrets only as Key Vault references, bot without a password).
// checkProject(): what this project's infrastructure must declare (queues, tables,
// roles, Flex shape, basic-auth publishing off, app settings contract, module wiring
// and nested deployment names, outputs).
// Neither compiles Bicep: `az bicep build` and `az bicep lint` run in .github/workflows/infra.yml.

import { readdirSync } from "node:fs";
import path from "node:path";
import {
  type BicepFile,
  type Node,
  type Resource,
  type Value,
  declarationName,
  declarations,
  evaluate,
  isRecord,
  lookup,
  parts,
  position,
  properties,
  readBicep,
  resources,
  stringValue,
  syntaxProblems,
} from "./bicep-tree";
import { SECRET_SETTINGS } from "./deploy-plan.mjs";

export interface Finding {
  rule: string;
  file: string;
  line: number;
  message: string;
}

/** App settings that hold secrets: allowed only as Key Vault references. */
export { SECRET_SETTINGS };

export const QUEUES = ["alerts", "deliveries", "card-refresh", "issue-events", "member-sync", "slack-actions"].flatMap((q) => [q, `${q}-poison`]);

export const TABLES = [
  "issues",
  "activities",
  "cards",
  "deliveries",
  "installations",
  "identities",
  "subscriptions",
  "linktokens",
  "events",
  "instances",
  "releases",
];

export const ROLES = {
  "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
  "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
} as const;

/** Settings the app reads (ARCHITECTURE.md, Settings) that the deployment must provide. */
export const REQUIRED_SETTINGS = [
  "AzureWebJobsStorage__accountName",
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "AZURE_CLIENT_ID",
  "MicrosoftAppType",
  "MicrosoftAppId",
  "MicrosoftAppTenantId",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "PUBLIC_BASE_URL",
  "TEAMS_ALLOWED_TENANTS",
  "SLACK_CLIENT_ID",
  "SLACK_SIGNING_SECRET",
  "SLACK_CLIENT_SECRET",
  "LINK_SIGNING_KEY",
  "OIDC_ISSUER",
  "OIDC_CLIENT_ID",
  "OIDC_CLIENT_SECRET",
  "INGEST_TOKENS",
  "SENTRY_CLIENT_SECRET",
];

/** Outputs infra/deploy.sh and operators rely on. */
export const REQUIRED_OUTPUTS = [
  "appUrl",
  "appHostName",
  "functionAppName",
  "functionAppId",
  "botAppId",
  "identityClientId",
  "storageAccountName",
  "keyVaultName",
  "alertsQueueUrl",
  "alertsQueueResourceId",
  "keyVaultSecretSettings",
];

const STORAGE_ACCOUNT = "Microsoft.Storage/storageAccounts";
const KEY_VAULT = "Microsoft.KeyVault/vaults";
const SITE = "Microsoft.Web/sites";
const BOT = "Microsoft.BotService/botServices";
const KEY_VAULT_REFERENCE = "@Microsoft.KeyVault(SecretUri=";

// ---------------------------------------------------------------- per file

export function checkFile(file: BicepFile): Finding[] {
  const findings = syntaxProblems(file).map((problem) => ({
    rule: "syntax",
    file: file.path,
    line: problem.line,
    message: `${problem.message} (column ${problem.column})`,
  }));
  const report = (rule: string, node: Node, message: string): void => {
    findings.push({ rule, file: file.path, line: position(node).line, message });
  };

  checkNoAccountKeys(file, report);
  checkUnused(file, report);
  for (const resource of resources(file).filter((r) => !r.existing)) {
    if (resource.type === STORAGE_ACCOUNT) checkStorageAccount(file, resource, report);
    if (resource.type === KEY_VAULT) checkKeyVault(file, resource, report);
    if (resource.type === BOT) checkBot(file, resource, report);
  }
  for (const { node, settings } of appSettings(file)) checkAppSettings(settings, node, report);
  return findings;
}

type Report = (rule: string, node: Node, message: string) => void;

function checkNoAccountKeys(file: BicepFile, report: Report): void {
  for (const call of file.root.descendantsOfType("call_expression")) {
    const callee = parts(call)[0];
    const name = callee?.type === "member_expression" ? parts(callee).pop()?.text : callee?.text;
    // ARM's list* functions (listKeys, listAccountSas, listConnectionStrings, ...) return credentials.
    if (name && /^list([A-Z]\w*)?$/.test(name)) {
      report("no-account-keys", call, `${name}() puts a credential into the deployment; use a managed identity`);
    }
  }
  for (const literal of file.root.descendantsOfType("string")) {
    const text = stringValue(literal);
    const key = ["AccountKey=", "SharedAccessKey=", "SharedAccessSignature="].find((marker) => text.includes(marker));
    if (key) report("no-account-keys", literal, `string contains "${key}": a key-based connection string or SAS`);
  }
}

/** A parameter or variable nobody reads is usually a wire that was never connected. */
function checkUnused(file: BicepFile, report: Report): void {
  const uses = new Set<string>();
  for (const identifier of file.root.descendantsOfType("identifier")) {
    const parent = identifier.parent;
    const isFirstPart = parent && parts(parent)[0]?.id === identifier.id;
    // A declaration's own name and an object key are not uses.
    if (isFirstPart && (parent.type.endsWith("_declaration") || parent.type === "object_property")) continue;
    uses.add(identifier.text);
  }
  for (const declaration of [...declarations(file, "parameter"), ...declarations(file, "variable")]) {
    const name = declarationName(declaration);
    if (!uses.has(name)) report("unused", declaration, `${declaration.type.split("_")[0]} '${name}' is never used`);
  }
}

function checkStorageAccount(file: BicepFile, resource: Resource, report: Report): void {
  const expected: Record<string, Value> = {
    allowSharedKeyAccess: false,
    supportsHttpsTrafficOnly: true,
    minimumTlsVersion: "TLS1_2",
    allowBlobPublicAccess: false,
  };
  const props = lookup(resource.body, "properties");
  for (const [name, want] of Object.entries(expected)) {
    const node = properties(props).get(name);
    const actual = node ? evaluate(node, file) : undefined;
    if (actual !== want) {
      report("storage-account", resource.node, `${resource.symbol}: properties.${name} must be ${JSON.stringify(want)}, is ${show(actual)}`);
    }
  }
}

function checkKeyVault(file: BicepFile, resource: Resource, report: Report): void {
  const props = lookup(resource.body, "properties");
  if (evaluate(properties(props).get("enableRbacAuthorization") ?? null, file) !== true) {
    report("key-vault", resource.node, `${resource.symbol}: properties.enableRbacAuthorization must be true`);
  }
  if (evaluate(properties(props).get("enableSoftDelete") ?? null, file) === false) {
    report("key-vault", resource.node, `${resource.symbol}: soft delete must stay on`);
  }
}

function checkBot(file: BicepFile, resource: Resource, report: Report): void {
  const body = evaluate(resource.body, file);
  const props = isRecord(body) && isRecord(body.properties) ? body.properties : {};
  if (props.msaAppType !== "UserAssignedMSI") {
    report("bot", resource.node, `${resource.symbol}: properties.msaAppType must be 'UserAssignedMSI', is ${show(props.msaAppType)}`);
  }
  for (const required of ["msaAppId", "msaAppMSIResourceId", "msaAppTenantId", "endpoint"]) {
    if (!(required in props)) report("bot", resource.node, `${resource.symbol}: properties.${required} is missing`);
  }
  if (isRecord(body) && (body.location !== "global" || body.kind !== "azurebot")) {
    report("bot", resource.node, `${resource.symbol}: an Azure Bot has kind 'azurebot' and location 'global'`);
  }
  const teams = resources(file).some(
    (channel) =>
      channel.type === `${BOT}/channels` &&
      evaluate(lookup(channel.body, "properties.channelName"), file) === "MsTeamsChannel" &&
      (channel.node.parent?.parent?.id === resource.body?.id || lookup(channel.body, "parent")?.text === resource.symbol),
  );
  if (!teams) report("bot", resource.node, `${resource.symbol}: no MsTeamsChannel channel`);
}

function checkAppSettings(settings: Record<string, Value>, node: Node, report: Report): void {
  for (const forbidden of ["AzureWebJobsStorage", "WEBSITE_RUN_FROM_PACKAGE"]) {
    if (forbidden in settings) {
      report(
        "app-settings",
        node,
        forbidden === "AzureWebJobsStorage"
          ? "AzureWebJobsStorage is a key-based connection string: use AzureWebJobsStorage__accountName with a managed identity"
          : "WEBSITE_RUN_FROM_PACKAGE does not apply to Flex Consumption (functionAppConfig.deployment does)",
      );
    }
  }
  const credential = settings.AzureWebJobsStorage__credential;
  if (Object.keys(settings).some((key) => key.startsWith("AzureWebJobsStorage__")) && credential !== "managedidentity") {
    report("app-settings", node, `AzureWebJobsStorage__credential must be 'managedidentity', is ${show(credential)}`);
  }
  for (const name of SECRET_SETTINGS) {
    if (!(name in settings)) continue;
    const value = settings[name];
    const secretName = name.toLowerCase().replaceAll("_", "-");
    if (typeof value !== "string" || !value.startsWith(KEY_VAULT_REFERENCE)) {
      report("app-settings", node, `${name} holds a secret: its value must be a Key Vault reference, is ${show(value)}`);
    } else if (!value.endsWith(`secrets/${secretName})`)) {
      report("app-settings", node, `${name} must reference the secret '${secretName}' (infra/deploy.sh writes it under that name)`);
    }
  }
}

/** App settings declared by a file: `sites/config` 'appsettings' resources and `siteConfig.appSettings` arrays. */
export function appSettings(file: BicepFile): { node: Node; settings: Record<string, Value> }[] {
  const found: { node: Node; settings: Record<string, Value> }[] = [];
  for (const resource of resources(file)) {
    const name = evaluate(lookup(resource.body, "name"), file);
    if (resource.type === `${SITE}/config` && typeof name === "string" && /(^|\/)appsettings$/.test(name)) {
      const settings = evaluate(lookup(resource.body, "properties"), file);
      if (isRecord(settings)) found.push({ node: resource.node, settings });
    }
    if (resource.type === SITE) {
      const pairs = evaluate(lookup(resource.body, "properties.siteConfig.appSettings"), file);
      if (Array.isArray(pairs)) {
        const settings: Record<string, Value> = {};
        for (const pair of pairs) if (isRecord(pair) && typeof pair.name === "string") settings[pair.name] = pair.value ?? null;
        found.push({ node: resource.node, settings });
      }
    }
  }
  return found;
}

// ---------------------------------------------------------------- whole project

/** Files are keyed by their path relative to the infra directory, e.g. "modules/storage.bicep". */
export function checkProject(files: BicepFile[]): Finding[] {
  const findings: Finding[] = [];
  const byPath = new Map(files.map((file) => [file.path, file]));
  const main = byPath.get("main.bicep");
  const fail = (rule: string, message: string, file = main?.path ?? "main.bicep", line = 1): void => {
    findings.push({ rule, file, line, message });
  };
  if (!main) {
    fail("project", "main.bicep not found");
    return findings;
  }

  const all = files.flatMap((file) => resources(file).map((resource) => ({ file, resource })));
  const declared = (type: string) => all.filter(({ resource }) => resource.type === type && !resource.existing);

  const names = (type: string): string[] =>
    declared(type).flatMap(({ file, resource }) => {
      const value = resource.loop ? evaluate(resource.loop.iterable, file) : [evaluate(lookup(resource.body, "name"), file)];
      return Array.isArray(value) ? value.filter((name): name is string => typeof name === "string") : [];
    });
  const queues = names(`${STORAGE_ACCOUNT}/queueServices/queues`);
  for (const queue of QUEUES.filter((q) => !queues.includes(q))) fail("queues", `queue '${queue}' is not declared`);
  const tables = names(`${STORAGE_ACCOUNT}/tableServices/tables`);
  for (const table of TABLES.filter((t) => !tables.includes(t))) fail("tables", `table '${table}' is not declared`);

  const roleFiles = files.filter((file) => resources(file).some((r) => r.type === "Microsoft.Authorization/roleAssignments"));
  const roleStrings = new Set(roleFiles.flatMap((file) => file.root.descendantsOfType("string").map((s) => stringValue(s, file))));
  for (const [role, id] of Object.entries(ROLES)) {
    if (!roleStrings.has(id)) fail("roles", `no role assignment uses ${role} (${id})`);
  }

  checkFlex(declared, fail);
  checkBasicAuthOff(declared, fail);
  checkSettingsContract(files, fail);
  checkExtraSettings(main, files, fail);

  const bots = declared(BOT);
  if (bots.length !== 1) fail("bot", `expected one Azure Bot, found ${bots.length}`);
  if (
    !declared(`${BOT}/channels`).some(({ file, resource }) => evaluate(lookup(resource.body, "properties.channelName"), file) === "MsTeamsChannel")
  ) {
    fail("bot", "the Microsoft Teams channel (MsTeamsChannel) is not declared");
  }

  for (const file of files) findings.push(...checkModules(file, byPath), ...checkModuleDeploymentNames(file));

  const outputs = declarations(main, "output").map(declarationName);
  for (const output of REQUIRED_OUTPUTS.filter((o) => !outputs.includes(o))) fail("outputs", `main.bicep has no output '${output}'`);

  const endpoint = moduleParams(main, "modules/bot.bicep")?.messagingEndpoint;
  if (typeof endpoint !== "string" || !endpoint.endsWith("/api/messages")) {
    fail("bot", `the bot's messaging endpoint must end in /api/messages, is ${show(endpoint)}`);
  }
  return findings;
}

type Declared = (type: string) => { file: BicepFile; resource: Resource }[];

function checkFlex(declared: Declared, fail: (rule: string, message: string, file?: string, line?: number) => void): void {
  const plans = declared("Microsoft.Web/serverfarms");
  if (!plans.some(({ file, resource }) => evaluate(lookup(resource.body, "sku.name"), file) === "FC1")) {
    fail("flex", "no Flex Consumption (FC1) plan");
  }
  const sites = declared(SITE).filter(({ resource }) => lookup(resource.body, "properties.functionAppConfig"));
  if (sites.length === 0) fail("flex", "no Function App with properties.functionAppConfig");
  for (const { file, resource } of sites) {
    const config = evaluate(lookup(resource.body, "properties.functionAppConfig"), file);
    const at = (message: string) => fail("flex", `${resource.symbol}: ${message}`, file.path, position(resource.node).line);
    if (!isRecord(config)) continue;
    const runtime = isRecord(config.runtime) ? config.runtime : {};
    if (runtime.name !== "node") at(`functionAppConfig.runtime.name must be 'node', is ${show(runtime.name)}`);
    const scale = isRecord(config.scaleAndConcurrency) ? config.scaleAndConcurrency : {};
    const alwaysReady = Array.isArray(scale.alwaysReady) ? scale.alwaysReady : [];
    if (!alwaysReady.some((entry) => isRecord(entry) && entry.name === "http")) at("no always-ready instances for the 'http' group");
    for (const knob of ["instanceMemoryMB", "maximumInstanceCount"]) if (!(knob in scale)) at(`scaleAndConcurrency.${knob} is not set`);
    const deployment = isRecord(config.deployment) && isRecord(config.deployment.storage) ? config.deployment.storage : {};
    const auth = isRecord(deployment.authentication) ? deployment.authentication.type : undefined;
    if (deployment.type !== "blobContainer" || auth !== "UserAssignedIdentity") {
      at("functionAppConfig.deployment.storage must be a blobContainer reached with the user-assigned identity");
    }
  }
}

/**
 * Publishing-profile user names and passwords can push code to a site until basic auth is off for both of its
 * endpoints (https://aka.ms/app-service-disable-basic-auth); deploy.sh publishes with its Entra sign-in.
 */
function checkBasicAuthOff(declared: Declared, fail: (rule: string, message: string, file?: string, line?: number) => void): void {
  const policies = declared(`${SITE}/basicPublishingCredentialsPolicies`);
  for (const { file, resource: site } of declared(SITE)) {
    for (const endpoint of ["scm", "ftp"]) {
      const off = policies.some(
        ({ file: policyFile, resource: policy }) =>
          policyFile === file &&
          (lookup(policy.body, "parent")?.text === site.symbol || policy.node.parent?.parent?.id === site.body?.id) &&
          evaluate(lookup(policy.body, "name"), file) === endpoint &&
          evaluate(lookup(policy.body, "properties.allow"), file) === false,
      );
      if (!off) {
        fail(
          "basic-auth",
          `${site.symbol}: basic-auth publishing over ${endpoint} must be off (a basicPublishingCredentialsPolicies '${endpoint}' child with allow: false)`,
          file.path,
          position(site.node).line,
        );
      }
    }
  }
}

function checkSettingsContract(files: BicepFile[], fail: (rule: string, message: string) => void): void {
  const settings = Object.assign({}, ...files.flatMap((file) => appSettings(file).map((found) => found.settings))) as Record<string, Value>;
  for (const name of REQUIRED_SETTINGS.filter((n) => !(n in settings))) fail("app-settings", `app setting ${name} is not set`);
  if ("MicrosoftAppType" in settings && settings.MicrosoftAppType !== "UserAssignedMSI") {
    fail("app-settings", `MicrosoftAppType must be 'UserAssignedMSI', is ${show(settings.MicrosoftAppType)}`);
  }
}

/** The names main.bicep's `extraAppSettings` parameter takes (the properties of its object type), and whether that type is sealed. */
export function extraSettingsType(main: BicepFile): { names: string[]; sealed: boolean } | undefined {
  const param = declarations(main, "parameter").find((p) => declarationName(p) === "extraAppSettings");
  const typeNode = param ? parts(param)[1] : undefined;
  const typeName = typeNode?.type === "type" ? parts(typeNode)[0]?.text : typeNode?.text;
  const nodes = parts(main.root);
  const index = nodes.findIndex((n) => n.type === "type_declaration" && declarationName(n) === typeName);
  const body = index === -1 ? undefined : parts(nodes[index]!)[1];
  if (body?.type !== "object") return undefined;
  const names = parts(body)
    .filter((property) => property.type === "object_property")
    .map((property) => {
      const key = parts(property)[0];
      return key?.type === "string" ? stringValue(key) : (key?.text ?? "");
    });
  const decorators = nodes[index - 1]?.type === "decorators" ? nodes[index - 1]! : undefined;
  const sealed = !!decorators?.descendantsOfType("call_expression").some((call) => parts(call)[0]?.text === "sealed");
  return { names, sealed };
}

/**
 * App settings are replaced as a whole on every deployment, so a setting with no parameter needs `extraAppSettings`;
 * its sealed type must keep secrets (Key Vault references only) and the template's own settings out.
 */
function checkExtraSettings(main: BicepFile, files: BicepFile[], fail: (rule: string, message: string) => void): void {
  const extra = extraSettingsType(main);
  if (!extra) {
    fail(
      "extra-settings",
      "main.bicep has no extraAppSettings parameter of an object type: settings without a parameter would be wiped by every deployment",
    );
    return;
  }
  if (!extra.sealed)
    fail("extra-settings", "extraAppSettings' type must be @sealed(): any other name would pass, secrets and the template's own settings included");
  const template = Object.assign({}, ...files.flatMap((file) => appSettings(file).map((found) => found.settings))) as Record<string, Value>;
  for (const name of extra.names) {
    if (SECRET_SETTINGS.includes(name)) fail("extra-settings", `extraAppSettings takes ${name}, a secret: it belongs in Key Vault`);
    else if (name in template || name === "AzureWebJobsStorage" || name === "WEBSITE_RUN_FROM_PACKAGE") {
      fail("extra-settings", `extraAppSettings takes ${name}, which the template sets itself`);
    }
  }
}

/** Module paths resolve, every param passed is declared, every param without a default is passed. */
function checkModules(file: BicepFile, byPath: Map<string, BicepFile>): Finding[] {
  const findings: Finding[] = [];
  for (const declaration of declarations(file, "module")) {
    const [, pathNode, value] = parts(declaration);
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), stringValue(pathNode)));
    const name = declarationName(declaration);
    const report = (message: string) => findings.push({ rule: "modules", file: file.path, line: position(declaration).line, message });
    const targetFile = byPath.get(target);
    if (!targetFile) {
      report(`module '${name}': ${target} not found`);
      continue;
    }
    const body = value?.type === "object" ? value : null;
    const passed = [...properties(lookup(body, "params")).keys()];
    const params = declarations(targetFile, "parameter").map((param) => ({
      name: declarationName(param),
      required: parts(param).length < 3, // name, type and no default value
    }));
    for (const param of passed.filter((n) => !params.some((p) => p.name === n))) {
      report(`module '${name}' passes '${param}', which ${target} does not declare`);
    }
    for (const param of params.filter((p) => p.required && !passed.includes(p.name))) {
      report(`module '${name}' does not pass required parameter '${param.name}' of ${target}`);
    }
  }
  return findings;
}

const DEPLOYMENT_NAME_PREFIX = "${deployment().name}-";

/**
 * A module is a nested deployment, recorded in the resource group under its name: a fixed name is shared by every
 * deployment there (two prefixes overwrite each other's history; two concurrent runs collide).
 */
function checkModuleDeploymentNames(file: BicepFile): Finding[] {
  const findings: Finding[] = [];
  for (const declaration of declarations(file, "module")) {
    const name = evaluate(lookup(parts(declaration)[2] ?? null, "name"), file);
    if (typeof name === "string" && name.startsWith(DEPLOYMENT_NAME_PREFIX)) continue;
    findings.push({
      rule: "modules",
      file: file.path,
      line: position(declaration).line,
      message: `module '${declarationName(declaration)}': its deployment name ${show(name)} must start with '${DEPLOYMENT_NAME_PREFIX}' (a fixed name is shared by every deployment in the resource group)`,
    });
  }
  return findings;
}

function moduleParams(file: BicepFile, modulePath: string): Record<string, Value> | undefined {
  const declaration = declarations(file, "module").find((m) => stringValue(parts(m)[1]) === modulePath);
  const params = declaration ? evaluate(lookup(parts(declaration)[2] ?? null, "params"), file) : undefined;
  return isRecord(params) ? params : undefined;
}

function show(value: Value | undefined): string {
  return value === undefined ? "unset" : typeof value === "object" && value !== null ? String(value) : JSON.stringify(value);
}

// ---------------------------------------------------------------- entry points

export async function readInfra(infraDir: string): Promise<BicepFile[]> {
  const paths = readdirSync(infraDir, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith(".bicep"))
    .map((p) => p.split(path.sep).join("/"))
    .sort();
  return Promise.all(paths.map(async (relative) => ({ ...(await readBicep(path.join(infraDir, relative))), path: relative })));
}

export async function checkInfra(infraDir: string): Promise<Finding[]> {
  const files = await readInfra(infraDir);
  return [...files.flatMap(checkFile), ...checkProject(files)];
}

async function main(): Promise<void> {
  const infraDir = path.resolve(process.argv[2] ?? path.join(__dirname, ".."));
  const files = await readInfra(infraDir);
  const findings = [...files.flatMap(checkFile), ...checkProject(files)];
  for (const f of findings) console.error(`${path.join(infraDir, f.file)}:${f.line}: [${f.rule}] ${f.message}`);
  console.log(`${files.length} Bicep files, ${findings.length} findings`);
  process.exitCode = findings.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
