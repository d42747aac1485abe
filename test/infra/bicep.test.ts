// Offline checks of infra/**/*.bicep: tree-sitter syntax, the security and
// contract properties read from the parsed tree, and proof that the checker
// catches what it claims to (bad snippets and edited copies of the real files).
// Compilation, linting and what-if need the Bicep CLI: .github/workflows/infra.yml.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROLES, checkFile, checkInfra, checkProject, readInfra, type Finding } from "../../infra/scripts/bicep-check";
import {
  type BicepFile,
  declarationName,
  declarations,
  evaluate,
  lookup,
  parseBicep,
  parts,
  readBicep,
  resources,
  syntaxProblems,
  type Value,
} from "../../infra/scripts/bicep-tree";

const INFRA = path.resolve(__dirname, "../../infra");
const BICEP_FILES = readdirSync(INFRA, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".bicep"))
  .map((file) => file.split(path.sep).join("/"))
  .sort();

let files: BicepFile[];
const file = (relative: string): BicepFile => {
  const found = files.find((f) => f.path === relative);
  if (!found) throw new Error(`${relative} not loaded`);
  return found;
};
const resource = (relative: string, type: string) => {
  const found = resources(file(relative)).find((r) => r.type === type && !r.existing);
  if (!found) throw new Error(`no ${type} in ${relative}`);
  return { ...found, value: evaluate(found.body, file(relative)) as Record<string, Value> };
};
const rules = (findings: Finding[]) => findings.map((f) => f.rule);

beforeAll(async () => {
  files = await readInfra(INFRA);
});

describe("Bicep syntax (tree-sitter-bicep)", () => {
  it("finds the main template and its modules", () => {
    expect(BICEP_FILES).toEqual(
      expect.arrayContaining([
        "main.bicep",
        "modules/bot.bicep",
        "modules/functionapp.bicep",
        "modules/keyvault.bicep",
        "modules/monitoring.bicep",
        "modules/roles.bicep",
        "modules/storage.bicep",
      ]),
    );
  });

  it.each(BICEP_FILES)("%s parses without ERROR or MISSING nodes", async (relative) => {
    const parsed = await readBicep(path.join(INFRA, relative));
    expect(syntaxProblems(parsed)).toEqual([]);
    expect(parts(parsed.root).length).toBeGreaterThan(0);
  });

  it("reports an unclosed object as a MISSING node, with its line", async () => {
    const parsed = await parseBicep("param name string\n\nresource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: name\n");
    expect(syntaxProblems(parsed)).toEqual([expect.objectContaining({ line: 4, message: "missing }" })]);
  });

  it("reports a stray token as an ERROR node", async () => {
    const parsed = await parseBicep("var settings = {\n  a: 1,,\n}\n");
    expect(syntaxProblems(parsed)).toEqual([expect.objectContaining({ line: 2, message: expect.stringContaining("syntax error") })]);
  });

  it("reports a declaration cut short", async () => {
    const parsed = await parseBicep("param location string =\nvar x = 1\n");
    expect(syntaxProblems(parsed).length).toBeGreaterThan(0);
  });
});

describe("the infrastructure, read from the parsed tree", () => {
  it("passes every policy check", async () => {
    expect(await checkInfra(INFRA)).toEqual([]);
  });

  it("hardens the storage account: no shared keys, HTTPS only, TLS 1.2, no public blobs", () => {
    const { value } = resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts");
    expect(value.properties).toMatchObject({
      allowSharedKeyAccess: false,
      supportsHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
    });
  });

  it("never reads account keys or builds key-based connection strings", () => {
    const callees = files.flatMap((f) => f.root.descendantsOfType("call_expression").map((call) => parts(call)[0]?.text ?? ""));
    expect(callees.filter((name) => /(^|\.)list/.test(name))).toEqual([]);
    const sources = files.map((f) => f.source).join("\n");
    expect(sources).not.toMatch(/AccountKey=|SharedAccessSignature=/);
  });

  it("declares the queues with their poison queues, and the tables", () => {
    const storage = file("modules/storage.bicep");
    const names = (type: string) => {
      const r = resources(storage).find((x) => x.type === type);
      return r?.loop ? evaluate(r.loop.iterable, storage) : null;
    };
    expect(names("Microsoft.Storage/storageAccounts/queueServices/queues")).toEqual([
      "alerts",
      "alerts-poison",
      "deliveries",
      "deliveries-poison",
      "card-refresh",
      "card-refresh-poison",
      "issue-events",
      "issue-events-poison",
      "member-sync",
      "member-sync-poison",
      "slack-actions",
      "slack-actions-poison",
    ]);
    expect(names("Microsoft.Storage/storageAccounts/tableServices/tables")).toEqual([
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
    ]);
  });

  it("runs the app on Flex Consumption with Node, an http always-ready instance and a deployment container", () => {
    expect(resource("modules/functionapp.bicep", "Microsoft.Web/serverfarms").value).toMatchObject({
      sku: { name: "FC1", tier: "FlexConsumption" },
      properties: { reserved: true },
    });
    const site = resource("modules/functionapp.bicep", "Microsoft.Web/sites").value;
    expect(site.kind).toBe("functionapp,linux");
    expect(site.identity).toMatchObject({ type: "UserAssigned" });
    const config = (site.properties as Record<string, Value>).functionAppConfig;
    expect(config).toMatchObject({
      runtime: { name: "node" },
      scaleAndConcurrency: { alwaysReady: [{ name: "http" }] },
      deployment: { storage: { type: "blobContainer", authentication: { type: "UserAssignedIdentity" } } },
    });
    const main = file("main.bicep");
    expect(
      evaluate(lookup(parts(declarations(main, "module").find((m) => declarationName(m) === "functionApp")!)[2]!, "params"), main),
    ).toMatchObject({
      nodeVersion: expect.anything(),
      instanceMemoryMB: expect.anything(),
      maximumInstanceCount: expect.anything(),
    });
    expect(paramDefault("alwaysReadyHttpInstances")).toBe(1);
    expect(allowedValues("nodeVersion")).toEqual(["20", "22"]);
  });

  it("gives the app identity-based storage, the bot's MSI identity and only Key Vault references for secrets", () => {
    const settings = resource("modules/functionapp.bicep", "Microsoft.Web/sites/config").value.properties as Record<string, Value>;
    expect(settings).toMatchObject({
      AzureWebJobsStorage__credential: "managedidentity",
      MicrosoftAppType: "UserAssignedMSI",
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=${identityClientId};Authorization=AAD",
    });
    for (const name of [
      "AzureWebJobsStorage__accountName",
      "AzureWebJobsStorage__clientId",
      "AZURE_CLIENT_ID",
      "MicrosoftAppId",
      "MicrosoftAppTenantId",
    ]) {
      expect(settings, name).toHaveProperty(name);
    }
    for (const [name, secret] of [
      ["SLACK_SIGNING_SECRET", "slack-signing-secret"],
      ["SLACK_CLIENT_SECRET", "slack-client-secret"],
      ["LINK_SIGNING_KEY", "link-signing-key"],
      ["OIDC_CLIENT_SECRET", "oidc-client-secret"],
      ["DISCORD_PUBLIC_KEY", "discord-public-key"],
      ["DISCORD_BOT_TOKEN", "discord-bot-token"],
    ]) {
      expect(settings[name!]).toBe(`@Microsoft.KeyVault(SecretUri=\${keyVaultUri}secrets/${secret})`);
    }
    for (const plain of [
      "PUBLIC_BASE_URL",
      "SLACK_CLIENT_ID",
      "OIDC_ISSUER",
      "OIDC_CLIENT_ID",
      "TEAMS_ALLOWED_TENANTS",
      "DISCORD_APPLICATION_ID",
      "DISCORD_ALLOWED_GUILDS",
    ]) {
      expect(settings, plain).toHaveProperty(plain);
    }
    expect(settings).not.toHaveProperty("AzureWebJobsStorage");
    expect(settings).not.toHaveProperty("WEBSITE_RUN_FROM_PACKAGE");
    expect(settings).not.toHaveProperty("MicrosoftAppPassword");
    expect(resource("modules/functionapp.bicep", "Microsoft.Web/sites").value.properties).toMatchObject({
      httpsOnly: true,
      keyVaultReferenceIdentity: expect.anything(),
    });
  });

  it("turns off basic-auth publishing (SCM and FTP): code is published with Entra sign-in only", () => {
    const functionApp = file("modules/functionapp.bicep");
    const policies = resources(functionApp)
      .filter((r) => r.type === "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
      .map((r) => evaluate(r.body, functionApp) as Record<string, Value>);
    expect(policies.map((p) => [p.name, (p.properties as Record<string, Value>).allow]).sort()).toEqual([
      ["ftp", false],
      ["scm", false],
    ]);
  });

  it("names each nested deployment after the deployment, so two deployments in one group don't overwrite each other's", () => {
    const main = file("main.bicep");
    const names = declarations(main, "module").map((m) => [declarationName(m), evaluate(lookup(parts(m)[2]!, "name"), main)]);
    expect(names).toEqual([
      ["monitoring", "${deployment().name}-monitoring"],
      ["storage", "${deployment().name}-storage"],
      ["keyVault", "${deployment().name}-keyvault"],
      ["roles", "${deployment().name}-roles"],
      ["functionApp", "${deployment().name}-functionapp"],
      ["bot", "${deployment().name}-bot"],
    ]);
  });

  it("assigns the storage, Key Vault and monitoring roles", () => {
    const roles = file("modules/roles.bicep").source;
    for (const id of Object.values(ROLES)) expect(roles).toContain(`'${id}'`);
    expect(resources(file("modules/roles.bicep")).filter((r) => r.type === "Microsoft.Authorization/roleAssignments").length).toBeGreaterThanOrEqual(
      4,
    );
  });

  it("registers the bot as a global F0 azurebot on the user-assigned identity, with the Teams channel", () => {
    const bot = resource("modules/bot.bicep", "Microsoft.BotService/botServices").value;
    expect(bot).toMatchObject({
      kind: "azurebot",
      location: "global",
      sku: { name: "F0" },
      properties: { msaAppType: "UserAssignedMSI" },
    });
    expect(Object.keys(bot.properties as object)).toEqual(expect.arrayContaining(["msaAppId", "msaAppMSIResourceId", "msaAppTenantId", "endpoint"]));
    const channel = resource("modules/bot.bicep", "Microsoft.BotService/botServices/channels").value;
    expect(channel).toMatchObject({ name: "MsTeamsChannel", location: "global", properties: { channelName: "MsTeamsChannel" } });
    const main = file("main.bicep");
    const botModule = declarations(main, "module").find((m) => declarationName(m) === "bot")!;
    expect(evaluate(lookup(parts(botModule)[2]!, "params.messagingEndpoint"), main)).toBe("https://${functionApp.outputs.hostName}/api/messages");
  });

  it("keeps Key Vault in RBAC mode with soft delete, and purge protection as a parameter", () => {
    const vault = resource("modules/keyvault.bicep", "Microsoft.KeyVault/vaults").value;
    expect(vault.properties).toMatchObject({ enableRbacAuthorization: true, enableSoftDelete: true });
    expect(paramDefault("keyVaultPurgeProtection")).toBe(true);
  });

  it("wires workspace-based Application Insights with local auth disabled", () => {
    expect(resource("modules/monitoring.bicep", "Microsoft.Insights/components").value.properties).toMatchObject({
      DisableLocalAuth: true,
      WorkspaceResourceId: expect.anything(),
    });
  });

  it("outputs what an operator and deploy.sh need", () => {
    expect(declarations(file("main.bicep"), "output").map(declarationName)).toEqual(
      expect.arrayContaining(["appUrl", "functionAppName", "botAppId", "identityClientId", "storageAccountName", "keyVaultName", "alertsQueueUrl"]),
    );
  });

  it("main.parameters.json sets only parameters main.bicep declares; deploy.sh passes the required rest", () => {
    const json = JSON.parse(readFileSync(path.join(INFRA, "main.parameters.json"), "utf8")) as { parameters: Record<string, unknown> };
    const params = declarations(file("main.bicep"), "parameter");
    const declared = params.map(declarationName);
    expect(Object.keys(json.parameters).filter((name) => !declared.includes(name))).toEqual([]);
    const required = params.filter((p) => parts(p).length < 3).map(declarationName);
    expect(required).toEqual(["namePrefix"]);
    expect(readFileSync(path.join(INFRA, "deploy.sh"), "utf8")).toContain('"namePrefix=$name_prefix" "location=$location"');
  });
});

describe("the policy checker catches", () => {
  const findingsFor = async (source: string) => checkFile(await parseBicep(source, "snippet.bicep"));

  it("account keys and key-based connection strings", async () => {
    const findings = await findingsFor(`
resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: 'st'
}
var connection = 'DefaultEndpointsProtocol=https;AccountName=\${st.name};AccountKey=\${st.listKeys().keys[0].value}'
output connection string = connection
`);
    expect(rules(findings)).toEqual(["no-account-keys", "no-account-keys"]);
    expect(findings[0]!.message).toContain("listKeys()");
  });

  it("a storage account that allows shared keys, HTTP, old TLS or public blobs", async () => {
    const findings = await findingsFor(`
resource st 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: 'st'
  location: 'westeurope'
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: true
    minimumTlsVersion: 'TLS1_0'
  }
}
`);
    expect(findings.map((f) => f.message)).toEqual([
      "st: properties.allowSharedKeyAccess must be false, is true",
      "st: properties.supportsHttpsTrafficOnly must be true, is unset",
      `st: properties.minimumTlsVersion must be "TLS1_2", is "TLS1_0"`,
      "st: properties.allowBlobPublicAccess must be false, is unset",
    ]);
  });

  it("plain secrets, key-based or run-from-package settings, and a storage credential other than the identity", async () => {
    const findings = await findingsFor(`
param signingSecret string
var slack = {
  SLACK_SIGNING_SECRET: signingSecret
}
resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  name: 'app/appsettings'
  properties: union(slack, {
    AzureWebJobsStorage: 'UseDevelopmentStorage=true'
    AzureWebJobsStorage__accountName: 'st'
    AzureWebJobsStorage__credential: 'connectionstring'
    WEBSITE_RUN_FROM_PACKAGE: '1'
    LINK_SIGNING_KEY: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/link-key)'
  })
}
`);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringContaining("AzureWebJobsStorage is a key-based connection string"),
      expect.stringContaining("WEBSITE_RUN_FROM_PACKAGE does not apply to Flex Consumption"),
      `AzureWebJobsStorage__credential must be 'managedidentity', is "connectionstring"`,
      "SLACK_SIGNING_SECRET holds a secret: its value must be a Key Vault reference, is ${signingSecret}",
      expect.stringContaining("LINK_SIGNING_KEY must reference the secret 'link-signing-key'"),
    ]);
  });

  it("secrets in siteConfig.appSettings too", async () => {
    const findings = await findingsFor(`
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'app'
  properties: {
    siteConfig: {
      appSettings: [
        { name: 'OIDC_CLIENT_SECRET', value: 'hunter2' }
      ]
    }
  }
}
`);
    expect(findings.map((f) => f.message)).toEqual([`OIDC_CLIENT_SECRET holds a secret: its value must be a Key Vault reference, is "hunter2"`]);
  });

  it("a bot with an app password and no Teams channel", async () => {
    const findings = await findingsFor(`
resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: 'bot'
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'F0' }
  properties: {
    displayName: 'bot'
    endpoint: 'https://example.net/api/messages'
    msaAppType: 'MultiTenant'
    msaAppId: '00000000-0000-0000-0000-000000000000'
  }
}
`);
    expect(findings.map((f) => f.message)).toEqual([
      `bot: properties.msaAppType must be 'UserAssignedMSI', is "MultiTenant"`,
      "bot: properties.msaAppMSIResourceId is missing",
      "bot: properties.msaAppTenantId is missing",
      "bot: no MsTeamsChannel channel",
    ]);
  });

  it("a parameter or variable that is never used", async () => {
    const findings = await findingsFor(`
param location string
param sku string = 'Standard_LRS'
var tags = { app: 'x' }
var name = 'st\${uniqueString(resourceGroup().id)}'
output id string = '\${name}-\${location}'
`);
    expect(findings.map((f) => f.message)).toEqual(["parameter 'sku' is never used", "variable 'tags' is never used"]);
  });

  it("a Key Vault on access policies", async () => {
    const findings = await findingsFor(`
resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: 'kv'
  location: 'westeurope'
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    accessPolicies: []
    enableSoftDelete: false
  }
}
`);
    expect(rules(findings)).toEqual(["key-vault", "key-vault"]);
  });

  describe("in edited copies of the real files", () => {
    const edited = async (relative: string, from: string, to: string): Promise<Finding[]> => {
      const original = file(relative);
      expect(original.source, `${relative} no longer contains the text this test edits`).toContain(from);
      const copy = { ...(await parseBicep(original.source.replace(from, to), relative)), path: relative };
      return checkProject(files.map((f) => (f.path === relative ? copy : f)));
    };

    it("a missing poison queue", async () => {
      const findings = await edited("modules/storage.bicep", "  'card-refresh-poison'\n", "");
      expect(findings).toEqual([expect.objectContaining({ rule: "queues", message: "queue 'card-refresh-poison' is not declared" })]);
    });

    it("a missing table", async () => {
      const findings = await edited("modules/storage.bicep", "  'linktokens'\n", "");
      expect(rules(findings)).toEqual(["tables"]);
    });

    it("a missing role", async () => {
      const findings = await edited("modules/roles.bicep", ROLES["Storage Queue Data Contributor"], "8a0f0c08-91a1-4084-bc3d-661d67233fed");
      expect(findings.map((f) => f.message)).toEqual([
        `no role assignment uses Storage Queue Data Contributor (${ROLES["Storage Queue Data Contributor"]})`,
      ]);
    });

    it("a runtime other than node and no always-ready http instance", async () => {
      const runtime = await edited("modules/functionapp.bicep", "name: 'node'", "name: 'python'");
      expect(runtime.map((f) => f.message)).toEqual(["site: functionAppConfig.runtime.name must be 'node', is \"python\""]);
      const alwaysReady = await edited("modules/functionapp.bicep", "name: 'http'", "name: 'function:alerts'");
      expect(rules(alwaysReady)).toEqual(["flex"]);
    });

    it("a dropped app setting", async () => {
      const findings = await edited("modules/functionapp.bicep", "  AZURE_CLIENT_ID: identityClientId\n", "");
      expect(findings.map((f) => f.message)).toEqual(["app setting AZURE_CLIENT_ID is not set"]);
    });

    it("a module given a parameter it doesn't declare, or missing one it requires", async () => {
      const findings = await edited("main.bicep", "    retentionInDays: logRetentionDays\n", "    retention: logRetentionDays\n");
      expect(findings.map((f) => f.message)).toEqual([
        "module 'monitoring' passes 'retention', which modules/monitoring.bicep does not declare",
        "module 'monitoring' does not pass required parameter 'retentionInDays' of modules/monitoring.bicep",
      ]);
    });

    it("a bot endpoint that is not /api/messages", async () => {
      const findings = await edited("main.bicep", "/api/messages'", "/api/bot'");
      expect(rules(findings)).toEqual(["bot"]);
    });

    it("extraAppSettings that would take a secret or a setting the template sets, or any name at all", async () => {
      const secret = await edited("main.bicep", "  SLACK_COMMAND: string?\n", "  SLACK_COMMAND: string?\n  SLACK_CLIENT_SECRET: string?\n");
      expect(secret.map((f) => f.message)).toEqual(["extraAppSettings takes SLACK_CLIENT_SECRET, a secret: it belongs in Key Vault"]);
      const templates = await edited("main.bicep", "  SLACK_COMMAND: string?\n", "  SLACK_COMMAND: string?\n  PUBLIC_BASE_URL: string?\n");
      expect(templates.map((f) => f.message)).toEqual(["extraAppSettings takes PUBLIC_BASE_URL, which the template sets itself"]);
      const unsealed = await edited("main.bicep", "@sealed()\ntype extraAppSettingsType", "type extraAppSettingsType");
      expect(unsealed.map((f) => f.message)).toEqual([expect.stringContaining("extraAppSettings' type must be @sealed()")]);
    });

    it("basic-auth publishing left on", async () => {
      const scm = await edited(
        "modules/functionapp.bicep",
        "name: 'scm'\n  properties: {\n    allow: false",
        "name: 'scm'\n  properties: {\n    allow: true",
      );
      expect(scm.map((f) => f.message)).toEqual([
        "site: basic-auth publishing over scm must be off (a basicPublishingCredentialsPolicies 'scm' child with allow: false)",
      ]);
      const ftp = await edited("modules/functionapp.bicep", "name: 'ftp'", "name: 'ftps'");
      expect(ftp.map((f) => f.message)).toEqual([
        "site: basic-auth publishing over ftp must be off (a basicPublishingCredentialsPolicies 'ftp' child with allow: false)",
      ]);
    });

    it("a nested deployment with a fixed name", async () => {
      const findings = await edited("main.bicep", "name: '${deployment().name}-storage'", "name: 'storage'");
      expect(findings.map((f) => f.message)).toEqual([
        `module 'storage': its deployment name "storage" must start with '\${deployment().name}-' (a fixed name is shared by every deployment in the resource group)`,
      ]);
    });

    it("a missing output", async () => {
      const findings = await edited("main.bicep", "output alertsQueueUrl string", "output queueUrl string");
      expect(findings.map((f) => f.message)).toEqual(["main.bicep has no output 'alertsQueueUrl'"]);
    });
  });
});

function paramDefault(name: string): Value {
  const main = file("main.bicep");
  const param = declarations(main, "parameter").find((p) => declarationName(p) === name);
  if (!param) throw new Error(`main.bicep has no parameter ${name}`);
  return evaluate(parts(param)[2] ?? null, main);
}

/** Values of a main.bicep parameter's @allowed decorator (decorators precede the declaration). */
function allowedValues(name: string): Value {
  const main = file("main.bicep");
  const nodes = parts(main.root);
  const index = nodes.findIndex((n) => n.type === "parameter_declaration" && declarationName(n) === name);
  const decorators = nodes[index - 1]?.type === "decorators" ? nodes[index - 1]! : null;
  const allowed = decorators?.descendantsOfType("call_expression").find((call) => parts(call)[0]?.text === "allowed");
  return evaluate(allowed ? (parts(parts(allowed)[1]!)[0] ?? null) : null, main);
}
