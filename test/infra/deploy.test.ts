// infra/deploy.sh against a stand-in `az` (fixtures/az-stub.mjs) on the PATH.
// Each test deploys a copy of the project (infra/, host.json, package.json, a fake
// dist/) so nothing here builds the real app or touches the working tree's dist/.

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { selfSignedLocalhost } from "./fixtures/self-signed-cert";

const REPO = path.resolve(__dirname, "../..");
const AZ_STUB = path.join(__dirname, "fixtures", "az-stub.mjs");
const BASH = execFileSync("/bin/sh", ["-c", "command -v bash"], { encoding: "utf8" }).trim();
const SHELLCHECK = spawnSync("/bin/sh", ["-c", "command -v shellcheck"], { encoding: "utf8" }).stdout.trim();

const SECRETS = {
  SLACK_SIGNING_SECRET: "8f14e45fceea167a5a36dedd4bea2543",
  SLACK_CLIENT_SECRET: "c9f0f895fb98ab9159f51fd0297e236d",
  OIDC_CLIENT_SECRET: "oidc~Secret.With.Punctuation$and'quotes\"",
};
const REQUIRED = ["-g", "rg-relay", "-p", "relay", "-l", "Sweden Central"];
const VAULT = "kv-relay-q7x2k9ab";

interface StubState {
  loggedIn: boolean;
  azVersion?: string;
  groups: Record<string, { location: string; tags: Record<string, string> }>;
  secrets: Record<string, string>;
  forbidden: number;
  vaultRoleFromDeployment?: boolean;
  failDeployment?: string;
  failPublish?: { times: number; message: string };
  appHostName?: string;
  published: { app: string; group: string; zip: string }[];
}

interface Call {
  args: string[];
  parameterFiles?: Record<string, Record<string, { value: unknown }>>;
  exitCode?: number;
  file?: string;
  fileMode?: string;
  encoding?: string;
  valueOnCommandLine?: boolean;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
  commands: string[];
  builds: number;
}

const sandboxes: string[] = [];
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

class Sandbox {
  readonly dir = mkdtempSync(path.join(tmpdir(), "deploy-test-"));
  readonly project = path.join(this.dir, "project");
  readonly bin = path.join(this.dir, "bin");
  readonly tmp = path.join(this.dir, "tmp");
  readonly statePath = path.join(this.dir, "az-state.json");
  readonly logPath = path.join(this.dir, "az-log.jsonl");

  /**
   * `teams: "stub"` swaps tsx for a recorder, so only the tests about the Teams
   * package pay for building it (tsx start-up and schema compilation, ~1.5 s a run).
   */
  constructor(state: Partial<StubState> = {}, { dist = true, teams = "stub" as "real" | "stub" } = {}) {
    sandboxes.push(this.dir);
    for (const entry of ["infra", "host.json", "package.json"]) {
      cpSync(path.join(REPO, entry), path.join(this.project, entry), { recursive: true });
    }
    this.linkNodeModules(teams);
    if (dist) this.writeBundle("module.exports = {};\n");
    mkdirSync(this.bin);
    mkdirSync(this.tmp);
    this.shim(this.bin, "az", `exec "${process.execPath}" "${AZ_STUB}" "$@"`);
    // `npm run build` stand-in: records the call and produces a bundle.
    this.shim(this.bin, "npm", `echo "$*" >> "${this.logPath}.npm"\nmkdir -p dist && echo 'module.exports = { built: true };' > dist/index.js`);
    this.setState({ loggedIn: true, groups: {}, secrets: {}, forbidden: 0, published: [], ...state });
  }

  private linkNodeModules(teams: "real" | "stub"): void {
    const modules = path.join(this.project, "node_modules");
    if (teams === "real") {
      symlinkSync(path.join(REPO, "node_modules"), modules, "dir");
      return;
    }
    mkdirSync(path.join(modules, ".bin"), { recursive: true });
    for (const entry of readdirSync(path.join(REPO, "node_modules")).filter((e) => e !== ".bin")) {
      symlinkSync(path.join(REPO, "node_modules", entry), path.join(modules, entry));
    }
    this.shim(path.join(modules, ".bin"), "tsx", `echo "$*" >> "${this.logPath}.tsx"\nfor last; do :; done\necho stub > "$last"`);
  }

  /** A copy of infra/main.parameters.json with these values; returns its path. */
  parameters(values: Record<string, unknown>): string {
    const file = JSON.parse(readFileSync(path.join(REPO, "infra", "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: unknown }>;
    };
    for (const [name, value] of Object.entries(values)) file.parameters[name] = { value };
    const out = path.join(this.dir, "custom.parameters.json");
    writeFileSync(out, JSON.stringify(file));
    return out;
  }

  writeBundle(code: string): void {
    mkdirSync(path.join(this.project, "dist"), { recursive: true });
    writeFileSync(path.join(this.project, "dist", "index.js"), code);
  }

  get state(): StubState {
    return JSON.parse(readFileSync(this.statePath, "utf8")) as StubState;
  }

  setState(state: StubState): void {
    writeFileSync(this.statePath, JSON.stringify(state));
  }

  deploy(args: string[], env: Record<string, string> = {}, { pathDirs = [this.bin] } = {}): Run {
    writeFileSync(this.logPath, "");
    rmSync(`${this.logPath}.npm`, { force: true });
    const result = spawnSync(BASH, [path.join(this.project, "infra", "deploy.sh"), ...args], {
      cwd: this.dir,
      encoding: "utf8",
      // A clean environment: the developer's own SLACK_* or AZURE_* variables must not leak in.
      env: {
        PATH: [...pathDirs, path.dirname(process.execPath), "/usr/bin", "/bin"].join(":"),
        HOME: this.dir,
        TMPDIR: this.tmp,
        AZ_STUB_STATE: this.statePath,
        AZ_STUB_LOG: this.logPath,
        RELAY_DEPLOY_RETRY_DELAY: "0",
        // Only the tests about it wait for the app's /api/health (the stand-in app URL answers nothing).
        RELAY_DEPLOY_HEALTH_TIMEOUT: "0",
        ...env,
      },
    });
    const calls = readFileSync(this.logPath, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Call);
    const npmLog = `${this.logPath}.npm`;
    return {
      status: result.status,
      stdout: result.stdout,
      stderr: result.stderr,
      calls,
      commands: calls.map((call) => command(call)),
      builds: existsSync(npmLog)
        ? readFileSync(npmLog, "utf8")
            .split("\n")
            .filter((l) => l === "run build").length
        : 0,
    };
  }

  private shim(dir: string, name: string, body: string): void {
    writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  }
}

/** "keyvault secret show" from ["keyvault", "secret", "show", "--vault-name", ...] */
function command(call: Call): string {
  const end = call.args.findIndex((arg) => arg.startsWith("-"));
  return call.args.slice(0, end === -1 ? undefined : end).join(" ");
}

function option(call: Call | undefined, name: string): string[] {
  const values: string[] = [];
  let current: string | null = null;
  for (const arg of call?.args ?? []) {
    if (arg.startsWith("--")) current = arg;
    else if (current === name) values.push(arg);
  }
  return values;
}

function secretNamesSet(run: Run): string[] {
  return run.calls.filter((c) => command(c) === "keyvault secret set").map((c) => option(c, "--name")[0]!);
}

const FIRST_RUN = [
  "version",
  "account show",
  "deployment group show",
  "group exists",
  "group create",
  "deployment group create",
  "keyvault secret show",
  "keyvault secret set",
  "keyvault secret show",
  "keyvault secret set",
  "keyvault secret show",
  "keyvault secret set",
  "keyvault secret show",
  "keyvault secret set",
  "rest",
  "group show",
  "functionapp deployment source config-zip",
  "tag update",
];

describe("deploy.sh: inputs and preconditions", () => {
  // .ci/run installs shellcheck (Debian package); a machine without it fails here rather than skipping.
  it("passes shellcheck", () => {
    expect(SHELLCHECK, "shellcheck is not installed: apt-get install shellcheck").not.toBe("");
    const result = spawnSync(SHELLCHECK, [path.join(REPO, "infra", "deploy.sh")], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  it("prints its usage with --help", () => {
    const run = new Sandbox().deploy(["--help"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Usage: npm run deploy -- [options]");
    expect(run.stdout).toContain("AZURE_RESOURCE_GROUP");
    expect(run.calls).toEqual([]);
  });

  it("names every missing parameter, with its flag and variable, before calling az", () => {
    const run = new Sandbox().deploy([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("error: missing required parameters:");
    expect(run.stderr).toContain("resource group  (--resource-group or AZURE_RESOURCE_GROUP)");
    expect(run.stderr).toContain("name prefix     (--name-prefix or RELAY_NAME_PREFIX)");
    expect(run.stderr).toContain("location        (--location or AZURE_LOCATION)");
    expect(run.calls).toEqual([]);
  });

  it("takes the parameters from the environment too", () => {
    const run = new Sandbox().deploy(["--what-if"], {
      AZURE_RESOURCE_GROUP: "rg-env",
      RELAY_NAME_PREFIX: "envrelay",
      AZURE_LOCATION: "westeurope",
    });
    expect(run.stderr).toContain("resource group 'rg-env' does not exist");
    expect(run.commands).toEqual(["version", "account show", "deployment group show", "group exists"]);
    expect(option(run.calls[3], "--name")).toEqual(["rg-env"]);
  });

  it("rejects a name prefix Azure resource names can't take", () => {
    const run = new Sandbox().deploy(["-g", "rg", "-p", "Relay-1", "-l", "westeurope"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("name prefix 'Relay-1' must be 2-12 lowercase letters and digits");
  });

  it("rejects an unknown argument", () => {
    const run = new Sandbox().deploy([...REQUIRED, "--yes"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("unknown argument: --yes");
  });

  it("says so when az is not installed", () => {
    const box = new Sandbox();
    const empty = path.join(box.dir, "empty-bin");
    mkdirSync(empty);
    const result = spawnSync(BASH, [path.join(box.project, "infra", "deploy.sh"), ...REQUIRED], {
      encoding: "utf8",
      env: { PATH: empty, HOME: box.dir },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "error: the Azure CLI (az) is not installed or not on PATH: https://learn.microsoft.com/cli/azure/install-azure-cli\n",
    );
  });

  it("refuses an Azure CLI too old for Flex Consumption", () => {
    const run = new Sandbox({ azVersion: "2.45.0" }).deploy(REQUIRED);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("Azure CLI 2.45.0 is too old: Flex Consumption needs 2.60.0 or later (run 'az upgrade')");
    expect(run.commands).toEqual(["version"]);
  });

  it("says so when not logged in, and stops", () => {
    const run = new Sandbox({ loggedIn: false }).deploy(REQUIRED);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: not logged in to Azure: run 'az login'");
    expect(run.commands).toEqual(["version", "account show"]);
  });

  it("reports a subscription it can't use", () => {
    const run = new Sandbox().deploy([...REQUIRED, "--subscription", "nope"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: cannot use subscription 'nope': ERROR: Subscription 'nope' not found.");
  });

  it("creates the resource group only when asked to", () => {
    const box = new Sandbox();
    const refused = box.deploy([...REQUIRED, "--skip-build"]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("resource group 'rg-relay' does not exist: pass --create-group to create it in swedencentral");
    expect(refused.commands).not.toContain("group create");
    expect(refused.commands).not.toContain("deployment group create");

    const created = box.deploy([...REQUIRED, "--skip-build", "--create-group"]);
    expect(created.status).toBe(0);
    const create = created.calls.find((c) => command(c) === "group create");
    expect(option(create, "--name")).toEqual(["rg-relay"]);
    expect(option(create, "--location")).toEqual(["swedencentral"]);
    expect(box.state.groups["rg-relay"]).toBeDefined();
  });

  it("refuses --skip-build without a build", () => {
    const run = new Sandbox({ groups: { "rg-relay": { location: "swedencentral", tags: {} } } }, { dist: false }).deploy([
      ...REQUIRED,
      "--skip-build",
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("--skip-build given but dist/index.js does not exist: run 'npm run build' first");
    expect(run.commands).not.toContain("deployment group create");
  });
});

describe("deploy.sh --what-if", () => {
  it("runs az deployment group what-if with the template and parameters, and changes nothing", () => {
    const box = new Sandbox({ groups: { "rg-relay": { location: "swedencentral", tags: {} } } });
    const run = box.deploy([...REQUIRED, "--what-if"], { SLACK_CLIENT_ID: "1234.5678", ...SECRETS });
    expect(run.status).toBe(0);
    expect(run.commands).toEqual(["version", "account show", "deployment group show", "group exists", "deployment group what-if"]);
    const whatIf = run.calls[4]!;
    expect(option(whatIf, "--template-file")).toEqual([path.join(box.project, "infra", "main.bicep")]);
    expect(option(whatIf, "--parameters")).toEqual([
      `@${path.join(box.project, "infra", "main.parameters.json")}`,
      "namePrefix=relay",
      "location=swedencentral",
      "slackClientId=1234.5678",
    ]);
    expect(option(whatIf, "--subscription")).toEqual(["00000000-0000-0000-0000-00000000abcd"]);
    expect(run.stdout).toContain("Resource changes: 24 to create.");
    expect(run.builds).toBe(0);
  });

  it("never creates the resource group", () => {
    const run = new Sandbox().deploy([...REQUIRED, "--what-if", "--create-group"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("resource group 'rg-relay' does not exist: what-if needs it");
    expect(run.commands).not.toContain("group create");
  });
});

describe("deploy.sh: a full deployment", () => {
  const env = {
    SLACK_CLIENT_ID: "1234.5678",
    OIDC_ISSUER: "https://login.microsoftonline.com/contoso/v2.0",
    OIDC_CLIENT_ID: "relay-web",
    ...SECRETS,
  };

  it("deploys, stores the secrets, publishes the package and builds the Teams package", () => {
    const box = new Sandbox({}, { teams: "real" });
    writeFileSync(path.join(box.project, "dist", "index.js.map"), "{}");
    writeFileSync(path.join(box.project, "dist", "teams-app.zip"), "stale");
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"], env);

    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.commands).toEqual(FIRST_RUN);

    const deployment = run.calls.find((c) => command(c) === "deployment group create");
    expect(option(deployment, "--name")).toEqual(["triage-relay-relay"]);
    expect(option(deployment, "--parameters")).toEqual([
      `@${path.join(box.project, "infra", "main.parameters.json")}`,
      "namePrefix=relay",
      "location=swedencentral",
      "slackClientId=1234.5678",
      "oidcIssuer=https://login.microsoftonline.com/contoso/v2.0",
      "oidcClientId=relay-web",
    ]);

    // Secrets: the given values, plus a generated link signing key.
    const state = box.state;
    expect(state.secrets[`${VAULT}/slack-signing-secret`]).toBe(SECRETS.SLACK_SIGNING_SECRET);
    expect(state.secrets[`${VAULT}/slack-client-secret`]).toBe(SECRETS.SLACK_CLIENT_SECRET);
    expect(state.secrets[`${VAULT}/oidc-client-secret`]).toBe(SECRETS.OIDC_CLIENT_SECRET);
    expect(Buffer.from(state.secrets[`${VAULT}/link-signing-key`]!, "base64")).toHaveLength(32);

    const refresh = run.calls.find((c) => command(c) === "rest");
    expect(option(refresh, "--url")).toEqual([
      "/subscriptions/00000000-0000-0000-0000-00000000abcd/resourceGroups/rg-relay/providers/Microsoft.Web/sites/func-relay-q7x2k9ab/config/configreferences/appsettings/refresh?api-version=2022-03-01",
    ]);

    // The app package: host.json, package.json and dist/, without archives.
    expect(state.published).toHaveLength(1);
    const published = unzipSync(readFileSync(state.published[0]!.zip));
    expect(Object.keys(published).sort()).toEqual(["dist/index.js", "dist/index.js.map", "host.json", "package.json"]);
    expect(Buffer.from(published["host.json"]!).toString()).toBe(readFileSync(path.join(REPO, "host.json"), "utf8"));
    const tags = state.groups["rg-relay"]!.tags;
    expect(Object.keys(tags)).toEqual(["triage-relay-package-func-relay-q7x2k9ab"]);

    const teams = unzipSync(readFileSync(path.join(box.project, "dist", "teams-app.zip")));
    const manifest = JSON.parse(Buffer.from(teams["manifest.json"]!).toString()) as { bots: { botId: string }[]; validDomains: string[] };
    expect(manifest.bots[0]!.botId).toBe("5a1c0e2b-3f4d-4e6a-8b9c-0d1e2f3a4b5c");
    expect(manifest.validDomains).toEqual(["func-relay-q7x2k9ab.azurewebsites.net"]);

    expect(run.stdout).toContain("Triage Relay is deployed: https://func-relay-q7x2k9ab.azurewebsites.net");
    expect(run.stdout).toContain("upload dist/teams-app.zip");
    expect(run.stdout).toContain("infra/slack-app-manifest.yaml");
    expect(run.stdout).toContain("https://strelayq7x2k9ab.queue.core.windows.net/alerts");
    expect(run.stdout).toContain('--role "Storage Queue Data Message Sender"');
  });

  it("never puts a secret on a command line or in its output, and cleans up the secret files", () => {
    const box = new Sandbox();
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"], env);
    expect(run.status).toBe(0);
    const generated = box.state.secrets[`${VAULT}/link-signing-key`]!;
    for (const secret of [...Object.values(SECRETS), generated]) {
      expect(JSON.stringify(run.calls)).not.toContain(secret);
      expect(run.stdout + run.stderr).not.toContain(secret);
    }
    const sets = run.calls.filter((c) => command(c) === "keyvault secret set");
    expect(sets).toHaveLength(4);
    for (const set of sets) {
      expect(set.valueOnCommandLine).toBeUndefined();
      expect(set.fileMode).toBe("600");
      expect(set.encoding).toBe("utf-8");
      expect(existsSync(set.file!)).toBe(false);
    }
    expect(readdirSync(box.tmp).filter((entry) => entry.startsWith("triage-relay-deploy"))).toEqual([]);
  });

  it("changes nothing when run again with the same inputs", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], env).status).toBe(0);
    const before = box.state;

    const again = box.deploy([...REQUIRED, "--create-group", "--skip-build"], env);
    expect(again.status).toBe(0);
    expect(again.commands).toEqual([
      "version",
      "account show",
      "deployment group show",
      "keyvault secret show",
      "keyvault secret show",
      "keyvault secret show",
      "keyvault secret show",
      "group exists",
      "deployment group create",
      "group show",
    ]);
    expect(box.state).toEqual(before);
    expect(again.stdout).toContain("Package unchanged");
    expect(again.stdout).toContain("SLACK_SIGNING_SECRET: unchanged");
    expect(again.stdout).toContain("LINK_SIGNING_KEY: kept");
  });

  it("writes only the secret that changed, and publishes only a changed package", () => {
    const box = new Sandbox();
    box.deploy([...REQUIRED, "--create-group", "--skip-build"], env);

    const rotated = box.deploy([...REQUIRED, "--skip-build"], { ...env, SLACK_CLIENT_SECRET: "rotated-client-secret" });
    expect(rotated.status).toBe(0);
    expect(secretNamesSet(rotated)).toEqual(["slack-client-secret"]);
    expect(rotated.commands).toContain("rest");
    expect(rotated.commands).not.toContain("functionapp deployment source config-zip");

    box.writeBundle("module.exports = { version: 2 };\n");
    const newCode = box.deploy([...REQUIRED, "--skip-build"], { ...env, SLACK_CLIENT_SECRET: "rotated-client-secret" });
    expect(secretNamesSet(newCode)).toEqual([]);
    expect(newCode.commands).not.toContain("rest");
    expect(newCode.commands.slice(-2)).toEqual(["functionapp deployment source config-zip", "tag update"]);
    expect(box.state.published).toHaveLength(2);

    const forced = box.deploy([...REQUIRED, "--skip-build", "--force-publish"], env);
    expect(forced.commands).toContain("functionapp deployment source config-zip");
  });

  it("builds with npm run build unless told to skip it", () => {
    const box = new Sandbox({}, { dist: false });
    const run = box.deploy([...REQUIRED, "--create-group"]);
    expect(run.status).toBe(0);
    expect(run.builds).toBe(1);
    const published = unzipSync(readFileSync(box.state.published[0]!.zip));
    expect(Buffer.from(published["dist/index.js"]!).toString()).toContain("built: true");
  });

  it("waits for a new Key Vault role assignment to take effect", () => {
    const run = new Sandbox({ forbidden: 2 }).deploy([...REQUIRED, "--create-group", "--skip-build"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain("waiting for Key Vault access to propagate");
    expect(run.calls.filter((c) => c.exitCode === 1)).toHaveLength(2);
  });

  it("gives up on Key Vault access after the retries", () => {
    const run = new Sandbox({ forbidden: 100 }).deploy([...REQUIRED, "--create-group", "--skip-build"], { RELAY_DEPLOY_RETRIES: "3" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`error: cannot read secret 'link-signing-key' from Key Vault ${VAULT}: ERROR: (Forbidden)`);
    expect(run.commands.filter((c) => c === "keyvault secret show")).toHaveLength(3);
    expect(run.commands).not.toContain("functionapp deployment source config-zip");
  });

  it("stops cleanly when the Bicep deployment fails", () => {
    const run = new Sandbox({ failDeployment: "(InvalidTemplate) Deployment template validation failed" }).deploy([
      ...REQUIRED,
      "--create-group",
      "--skip-build",
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("ERROR: (InvalidTemplate) Deployment template validation failed");
    expect(run.stderr).toContain("error: the Bicep deployment failed");
    expect(run.commands.at(-1)).toBe("deployment group create");
  });

  it("refuses a turned-on feature whose secret is missing, before changing anything (the app would refuse to start)", () => {
    const box = new Sandbox();
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"], {
      SLACK_CLIENT_ID: "1234.5678",
      SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: nothing was deployed: these secrets are turned on but in neither the environment nor Key Vault");
    expect(run.stderr).toContain("  SLACK_CLIENT_SECRET (Key Vault secret slack-client-secret), read because slackClientId (SLACK_CLIENT_ID) is set");
    expect(run.stderr).not.toContain("SLACK_SIGNING_SECRET (");
    expect(run.stderr).toContain("Set each in the environment and run the deployment again");
    expect(run.commands).not.toContain("group create");
    expect(run.commands).not.toContain("deployment group create");
    expect(run.commands).not.toContain("functionapp deployment source config-zip");
    expect(secretNamesSet(run)).toEqual([]);
    expect(run.stdout).not.toContain("Triage Relay is deployed");
  });

  it("takes a turned-on feature's secrets from the vault of the earlier deployment", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], env).status).toBe(0);
    const { SLACK_CLIENT_ID, OIDC_ISSUER, OIDC_CLIENT_ID } = env;
    const again = box.deploy([...REQUIRED, "--skip-build"], { SLACK_CLIENT_ID, OIDC_ISSUER, OIDC_CLIENT_ID });
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("SLACK_CLIENT_SECRET: kept");
    expect(again.stdout).toContain("OIDC_CLIENT_SECRET: kept");
    expect(secretNamesSet(again)).toEqual([]);
  });

  it("refuses a feature turned on later without its secrets, and leaves the running deployment as it was", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"]).status).toBe(0);
    const before = box.state;
    const run = box.deploy([...REQUIRED, "--skip-build"], { DISCORD_APPLICATION_ID: "123456789012345678", DISCORD_ALLOWED_GUILDS: "*" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      "  DISCORD_PUBLIC_KEY (Key Vault secret discord-public-key), read because discordApplicationId (DISCORD_APPLICATION_ID) is set",
    );
    expect(run.stderr).toContain("  DISCORD_BOT_TOKEN (Key Vault secret discord-bot-token)");
    expect(run.commands).toEqual(["version", "account show", "deployment group show", ...Array(3).fill("keyvault secret show")]);
    expect(box.state).toEqual(before);
  });

  it("refuses an OIDC issuer without its client id before calling Azure", () => {
    const run = new Sandbox().deploy([...REQUIRED, "--create-group", "--skip-build"], {
      OIDC_ISSUER: "https://login.microsoftonline.com/contoso/v2.0",
      OIDC_CLIENT_SECRET: SECRETS.OIDC_CLIENT_SECRET,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("error: OIDC_ISSUER (oidcIssuer) is set but OIDC_CLIENT_ID is not: the app would refuse to start.");
    expect(run.stderr).toContain("Set OIDC_CLIENT_ID");
    expect(run.commands).toEqual(["version"]);
  });

  it("refuses Discord without the guilds it may serve", () => {
    const box = new Sandbox();
    const parameters = box.parameters({ discordApplicationId: "123456789012345678" });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", parameters]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("DISCORD_ALLOWED_GUILDS (comma-separated guild ids, or * for any guild)");
    expect(run.commands).toEqual(["version"]);
  });

  it("deploys Discord with its secrets and prints how to add the bot", () => {
    const box = new Sandbox();
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"], {
      DISCORD_APPLICATION_ID: "123456789012345678",
      DISCORD_ALLOWED_GUILDS: "234567890123456789",
      DISCORD_PUBLIC_KEY: "a".repeat(64),
      DISCORD_BOT_TOKEN: "MTIz.discord-bot-token-for-the-deploy-test",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(
      option(
        run.calls.find((c) => command(c) === "deployment group create"),
        "--parameters",
      ),
    ).toEqual(expect.arrayContaining(["discordApplicationId=123456789012345678", "discordAllowedGuilds=234567890123456789"]));
    expect(secretNamesSet(run)).toEqual(["link-signing-key", "discord-public-key", "discord-bot-token"]);
    expect(run.stdout).toContain("client_id=123456789012345678&scope=bot");
  });

  it("warns about a secret given for a feature that is not configured", () => {
    const box = new Sandbox();
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"], { OIDC_CLIENT_SECRET: SECRETS.OIDC_CLIENT_SECRET });
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(
      "warning: OIDC_CLIENT_SECRET is set but this deployment doesn't use it: it is read only when oidcIssuer (OIDC_ISSUER) is set",
    );
    expect(secretNamesSet(run)).toEqual(["link-signing-key"]);
  });

  it("rejects a non-https OIDC issuer (a local development value)", () => {
    const run = new Sandbox().deploy(REQUIRED, { OIDC_ISSUER: "http://localhost:7072" });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("OIDC_ISSUER must be an https URL");
  });
});

describe("deploy.sh: a redeploy keeps on what the running deployment has on", () => {
  const slack = {
    SLACK_CLIENT_ID: "1234.5678",
    SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
    SLACK_CLIENT_SECRET: SECRETS.SLACK_CLIENT_SECRET,
  };

  it("refuses to turn off what only the environment turned on, says how to keep it, and changes nothing", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], { ...slack, INGEST_TOKENS: "b".repeat(64) }).status).toBe(0);
    const before = box.state;

    // The same command from a shell without those variables.
    const run = box.deploy([...REQUIRED, "--skip-build"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("error: nothing was deployed: this run would turn off what the running deployment has on");
    expect(run.stderr).toContain("  Slack: slackClientId is 1234.5678 in the running deployment and empty in this run");
    expect(run.stderr).toContain("  monitoring webhooks (/api/ingest/*): ingestEnabled is true in the running deployment and false in this run");
    expect(run.stderr).toContain(`put them in the parameters file (${path.join(box.project, "infra", "main.parameters.json")})`);
    expect(run.stderr).toContain('  "slackClientId": { "value": "1234.5678" },\n  "ingestEnabled": { "value": true }');
    expect(run.stderr).toContain("To turn them off on purpose, run again with RELAY_DEPLOY_TURN_OFF=slack,ingest");
    expect(run.commands).not.toContain("deployment group create");
    expect(run.commands).not.toContain("functionapp deployment source config-zip");
    expect(box.state).toEqual(before);
  });

  it("suggests keeping a feature with everything it needs (OIDC's client id)", () => {
    const box = new Sandbox();
    const oidc = {
      OIDC_ISSUER: "https://login.microsoftonline.com/contoso/v2.0",
      OIDC_CLIENT_ID: "relay-web",
      OIDC_CLIENT_SECRET: SECRETS.OIDC_CLIENT_SECRET,
    };
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], oidc).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      '  "oidcIssuer": { "value": "https://login.microsoftonline.com/contoso/v2.0" },\n  "oidcClientId": { "value": "relay-web" }\n',
    );
    expect(run.stderr).toContain("RELAY_DEPLOY_TURN_OFF=oidc");
    expect(run.stderr).not.toContain(SECRETS.OIDC_CLIENT_SECRET);
  });

  it("refuses to drop a setting only the environment gave (extraAppSettings)", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], { SLACK_ALLOWED_TEAMS: "T0001" }).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("  SLACK_ALLOWED_TEAMS (extraAppSettings): T0001 in the running deployment and unset in this run");
    expect(run.stderr).toContain('  "extraAppSettings": { "value": {"SLACK_ALLOWED_TEAMS":"T0001"} }');
    expect(run.stderr).toContain("RELAY_DEPLOY_TURN_OFF=SLACK_ALLOWED_TEAMS");
    expect(run.commands).not.toContain("deployment group create");
  });

  it("turns off what RELAY_DEPLOY_TURN_OFF names", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], slack).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build"], { RELAY_DEPLOY_TURN_OFF: "slack" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Turning off, as RELAY_DEPLOY_TURN_OFF asks: Slack");
    const deployment = run.calls.find((c) => command(c) === "deployment group create");
    expect(option(deployment, "--parameters").filter((p) => p.startsWith("slackClientId"))).toEqual([]);
  });

  it("keeps on what the parameters file turns on, from a shell without the variables", () => {
    const box = new Sandbox();
    const parameters = box.parameters({ slackClientId: "1234.5678", ingestEnabled: true });
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", parameters], slack).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build", "--parameters", parameters]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("SLACK_CLIENT_SECRET: kept");
    expect(run.stdout).toContain("INGEST_TOKENS: kept");
  });

  it("--what-if warns about what it would turn off", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"], slack).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--what-if"]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain("warning: this run would turn off what the running deployment has on");
    expect(run.stderr).toContain("  Slack: slackClientId is 1234.5678 in the running deployment and empty in this run");
    expect(run.commands.at(-1)).toBe("deployment group what-if");
  });
});

describe("deploy.sh: Key Vault around the deployment", () => {
  const discord = {
    DISCORD_APPLICATION_ID: "123456789012345678",
    DISCORD_ALLOWED_GUILDS: "*",
    DISCORD_PUBLIC_KEY: "a".repeat(64),
    DISCORD_BOT_TOKEN: "MTIz.discord-bot-token-for-the-deploy-test",
  };
  const slackSecrets = { SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET, SLACK_CLIENT_SECRET: SECRETS.SLACK_CLIENT_SECRET };
  const setsBeforeAndAfter = (run: Run) => {
    const deployAt = run.commands.indexOf("deployment group create");
    const names = (from: number, to: number) =>
      run.calls
        .slice(from, to)
        .filter((c) => command(c) === "keyvault secret set")
        .map((c) => option(c, "--name")[0]);
    return { before: names(0, deployAt), after: names(deployAt, run.calls.length) };
  };

  it("writes a newly turned-on feature's secrets before the deployment that makes the app read them", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"]).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build"], discord);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(setsBeforeAndAfter(run)).toEqual({ before: ["discord-public-key", "discord-bot-token"], after: [] });
    expect(box.state.secrets[`${VAULT}/discord-bot-token`]).toBe(discord.DISCORD_BOT_TOKEN);
    for (const set of run.calls.filter((c) => command(c) === "keyvault secret set")) {
      expect(set.valueOnCommandLine).toBeUndefined();
      expect(set.fileMode).toBe("600");
      expect(existsSync(set.file!)).toBe(false);
    }
    expect(run.stdout + run.stderr).not.toContain(discord.DISCORD_BOT_TOKEN);
    expect(run.commands).toContain("rest");
  });

  it("generates the ingest token before the deployment that turns ingest on", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"]).status).toBe(0);
    const run = box.deploy([...REQUIRED, "--skip-build", "--parameters", box.parameters({ ingestEnabled: true })]);
    expect(run.status).toBe(0);
    expect(setsBeforeAndAfter(run)).toEqual({ before: ["ingest-tokens"], after: [] });
  });

  it("a second operator, not yet allowed to read the vault: checks the secrets once the deployment grants access", () => {
    const box = new Sandbox();
    const parameters = box.parameters({ slackClientId: "1234.5678" });
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", parameters], slackSecrets).status).toBe(0);
    box.setState({ ...box.state, vaultRoleFromDeployment: true });

    const run = box.deploy([...REQUIRED, "--skip-build", "--parameters", parameters], { RELAY_DEPLOY_RETRIES: "3" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Key Vault ${VAULT} doesn't let you read secrets yet: they are checked after the deployment`);
    expect(run.stdout).toContain("SLACK_CLIENT_SECRET: kept");
    // One refused look, not a wait for access only the deployment grants.
    const deployAt = run.commands.indexOf("deployment group create");
    expect(run.calls.slice(0, deployAt).filter((c) => c.exitCode === 1)).toHaveLength(1);
  });

  it("a second operator turning a feature on: its secrets are written once the deployment grants access", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"]).status).toBe(0);
    box.setState({ ...box.state, vaultRoleFromDeployment: true });
    const run = box.deploy([...REQUIRED, "--skip-build"], discord);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(setsBeforeAndAfter(run)).toEqual({ before: [], after: ["discord-public-key", "discord-bot-token"] });
  });

  it("a second operator turning on a feature whose secret is nowhere: refused before anything changes (the app would not start)", () => {
    const box = new Sandbox();
    expect(box.deploy([...REQUIRED, "--create-group", "--skip-build"]).status).toBe(0);
    box.setState({ ...box.state, vaultRoleFromDeployment: true });
    const run = box.deploy([...REQUIRED, "--skip-build", "--parameters", box.parameters({ slackClientId: "1234.5678" })], {
      RELAY_DEPLOY_RETRIES: "3",
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("nothing was deployed");
    expect(run.stderr).toContain("  SLACK_SIGNING_SECRET (Key Vault secret slack-signing-secret)");
    expect(run.commands).not.toContain("deployment group create");
    expect(run.commands).not.toContain("functionapp deployment source config-zip");
  });
});

describe("deploy.sh: publishing the package", () => {
  const forbidden =
    "ERROR: An error occured during deployment. Status Code: 403, Details: BlobUploadFailedException: Failed to upload blob to storage account: Response status code does not indicate success: 403 (This request is not authorized to perform this operation using this permission.)";

  it("retries while the app's new storage role propagates (400/403), then publishes", () => {
    const box = new Sandbox({ failPublish: { times: 2, message: forbidden } });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build"]);
    expect(run.status).toBe(0);
    expect(run.commands.filter((c) => c === "functionapp deployment source config-zip")).toHaveLength(3);
    expect(run.stderr).toContain("the app can't write its deployment storage yet (403): its new role takes a few minutes to propagate; retrying");
    expect(run.stdout).toContain("Published ");
    expect(box.state.published).toHaveLength(1);
  });

  it("gives up after the retries, with the CLI's error", () => {
    const run = new Sandbox({ failPublish: { times: 100, message: forbidden } }).deploy([...REQUIRED, "--create-group", "--skip-build"], {
      RELAY_DEPLOY_RETRIES: "3",
    });
    expect(run.status).toBe(1);
    expect(run.commands.filter((c) => c === "functionapp deployment source config-zip")).toHaveLength(3);
    expect(run.stderr).toContain("Status Code: 403");
    expect(run.stderr).toContain("error: publishing the package failed");
    expect(run.stdout).not.toContain("Triage Relay is deployed");
  });

  it("doesn't retry another failure", () => {
    const run = new Sandbox({
      failPublish: {
        times: 1,
        message: "ERROR: There may be an ongoing deployment. Please track your deployment in https://x.scm.azurewebsites.net/api/deployments/latest",
      },
    }).deploy([...REQUIRED, "--create-group", "--skip-build"]);
    expect(run.status).toBe(1);
    expect(run.commands.filter((c) => c === "functionapp deployment source config-zip")).toHaveLength(1);
    expect(run.stderr).toContain("There may be an ongoing deployment");
  });
});

describe("deploy.sh: settings without a parameter of their own (extraAppSettings)", () => {
  it("passes the parameters file's, then the environment's, to the deployment, and keeps them on the next run", () => {
    const box = new Sandbox();
    const parameters = box.parameters({ extraAppSettings: { SLACK_ALLOWED_TEAMS: "T0001", SLACK_COMMAND: "/triage" } });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", parameters], {
      SLACK_COMMAND: "/relay",
      RENOTIFY_HOURS: "12",
      IDENTITY_AUTO_LINK: "false",
      // A developer's shell pointing at the local emulator is never passed on.
      SLACK_API_URL: "http://localhost:7073/api/",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const deployment = run.calls.find((c) => command(c) === "deployment group create")!;
    const files = option(deployment, "--parameters").filter((p) => p.startsWith("@"));
    expect(files).toHaveLength(2);
    expect(files[0]).toBe(`@${parameters}`);
    expect(deployment.parameterFiles![files[1]!.slice(1)]).toEqual({
      extraAppSettings: { value: { SLACK_ALLOWED_TEAMS: "T0001", SLACK_COMMAND: "/relay", RENOTIFY_HOURS: "12", IDENTITY_AUTO_LINK: "false" } },
    });

    // Without the environment, the settings only it gave would be dropped: refused, unless that is asked for.
    const refused = box.deploy([...REQUIRED, "--skip-build", "--parameters", parameters]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("  RENOTIFY_HOURS (extraAppSettings): 12 in the running deployment and unset in this run");
    expect(refused.stderr).toContain("  IDENTITY_AUTO_LINK (extraAppSettings): false in the running deployment and unset in this run");
    expect(refused.stderr).toContain(
      '  "extraAppSettings": { "value": {"SLACK_ALLOWED_TEAMS":"T0001","SLACK_COMMAND":"/triage","IDENTITY_AUTO_LINK":"false","RENOTIFY_HOURS":"12"} }',
    );
    const again = box.deploy([...REQUIRED, "--skip-build", "--parameters", parameters], {
      RELAY_DEPLOY_TURN_OFF: "RENOTIFY_HOURS,IDENTITY_AUTO_LINK",
    });
    expect(again.status).toBe(0);
    const redeployment = again.calls.find((c) => command(c) === "deployment group create")!;
    expect(option(redeployment, "--parameters").filter((p) => p.startsWith("@"))).toEqual([`@${parameters}`]);
    expect(redeployment.parameterFiles![parameters]!.extraAppSettings).toEqual({ value: { SLACK_ALLOWED_TEAMS: "T0001", SLACK_COMMAND: "/triage" } });
  });

  it("refuses a secret, or a setting the template sets, in extraAppSettings, before calling Azure", () => {
    const box = new Sandbox();
    const parameters = box.parameters({
      extraAppSettings: { SLACK_CLIENT_SECRET: "c9f0f895fb98ab9159f51fd0297e236d", PUBLIC_BASE_URL: "https://relay.contoso.com", RENOTIFY_HOURS: 12 },
    });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", parameters]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      "error: extraAppSettings.SLACK_CLIENT_SECRET in the parameters file: a secret: give it to deploy.sh in the environment",
    );
    expect(run.stderr).toContain(
      "error: extraAppSettings.PUBLIC_BASE_URL in the parameters file: the template sets it: use the publicBaseUrl parameter",
    );
    expect(run.stderr).toContain("error: extraAppSettings.RENOTIFY_HOURS in the parameters file must be a string");
    expect(run.stderr).not.toContain("c9f0f895fb98ab9159f51fd0297e236d");
    expect(run.commands).toEqual(["version"]);
  });
});

describe("deploy.sh: after publishing, the app must answer /api/health on its own host name", () => {
  let app: ChildProcess | undefined;
  afterEach(() => {
    app?.kill();
    app = undefined;
  });

  /**
   * A stand-in for the published app over HTTPS, in its own process (the test's own event loop waits on deploy.sh);
   * returns its host name, and the certificate file deploy.sh's node must trust (NODE_EXTRA_CA_CERTS).
   */
  async function startApp(box: Sandbox, status: number, body: object): Promise<{ host: string; ca: string }> {
    const { certPem, keyPem } = selfSignedLocalhost();
    const ca = path.join(box.dir, "app-cert.pem");
    writeFileSync(ca, certPem);
    app = spawn(
      process.execPath,
      [
        "-e",
        `require("node:https").createServer({ cert: process.env.APP_CERT, key: process.env.APP_KEY }, (req, res) => { res.writeHead(req.url === "/api/health" ? ${status} : 404, { "content-type": "application/json" }); res.end(${JSON.stringify(JSON.stringify(body))}); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
      ],
      { env: { ...process.env, APP_CERT: certPem, APP_KEY: keyPem } },
    );
    const port = await new Promise<string>((resolve) => app!.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim())));
    return { host: `localhost:${port}`, ca };
  }

  // A custom domain for link pages that doesn't route to the app (yet): not what the deployment is judged by.
  const customFront = "https://relay.contoso.invalid";

  it("reports the app's answer when it started", async () => {
    const box = new Sandbox();
    const { host, ca } = await startApp(box, 200, { status: "ok", version: "0.1.0", storage: "reachable" });
    box.setState({ ...box.state, appHostName: host });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", box.parameters({ publicBaseUrl: customFront })], {
      RELAY_DEPLOY_HEALTH_TIMEOUT: "5",
      NODE_EXTRA_CA_CERTS: ca,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`==> Waiting for https://${host}/api/health (the Function App's own host name; up to 5s)`);
    expect(run.stdout).toContain('200 {"status":"ok","version":"0.1.0","storage":"reachable"}');
    expect(run.stdout).toContain(`Triage Relay is deployed: ${customFront}`);
  });

  it("fails, and doesn't say deployed, when the app doesn't answer 200", async () => {
    const box = new Sandbox();
    const { host, ca } = await startApp(box, 503, { status: "degraded", version: "0.1.0", storage: "unreachable" });
    box.setState({ ...box.state, appHostName: host });
    const run = box.deploy([...REQUIRED, "--create-group", "--skip-build", "--parameters", box.parameters({ publicBaseUrl: customFront })], {
      RELAY_DEPLOY_HEALTH_TIMEOUT: "2",
      NODE_EXTRA_CA_CERTS: ca,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`error: the app does not answer GET https://${host}/api/health with 200 (last answer: 503 {"status":"degraded"`);
    expect(run.stdout).not.toContain("Triage Relay is deployed");
    expect(box.state.published).toHaveLength(1);
  });
});

describe("zip-app.mjs", () => {
  const zipApp = (root: string, out: string) =>
    execFileSync(process.execPath, [path.join(REPO, "infra", "scripts", "zip-app.mjs"), "--root", root, "--out", out], { encoding: "utf8" }).trim();

  it("makes the same bytes from the same files, whatever the time zone", () => {
    const box = new Sandbox();
    const first = zipApp(box.project, path.join(box.dir, "a.zip"));
    const second = execFileSync(
      process.execPath,
      [path.join(REPO, "infra", "scripts", "zip-app.mjs"), "--root", box.project, "--out", path.join(box.dir, "b.zip")],
      {
        encoding: "utf8",
        env: { ...process.env, TZ: "Pacific/Auckland" },
      },
    ).trim();
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(second).toBe(first);
    expect(readFileSync(path.join(box.dir, "a.zip")).equals(readFileSync(path.join(box.dir, "b.zip")))).toBe(true);
  });

  it("packs the chunk files the bundle loads on first use, the same bytes every time", () => {
    const box = new Sandbox();
    box.writeBundle('exports.auth = () => Promise.resolve().then(() => require("./chunks/botframework-connector.js"));\n');
    mkdirSync(path.join(box.project, "dist", "chunks"));
    writeFileSync(path.join(box.project, "dist", "chunks", "botframework-connector.js"), "exports.loaded = true;\n");
    writeFileSync(path.join(box.project, "dist", "chunks", "botframework-connector.js.map"), "{}");
    const first = zipApp(box.project, path.join(box.dir, "a.zip"));
    const second = zipApp(box.project, path.join(box.dir, "b.zip"));
    expect(second).toBe(first);
    const packed = unzipSync(readFileSync(path.join(box.dir, "a.zip")));
    expect(Object.keys(packed)).toEqual([
      "dist/chunks/botframework-connector.js",
      "dist/chunks/botframework-connector.js.map",
      "dist/index.js",
      "host.json",
      "package.json",
    ]);
    expect(Buffer.from(packed["dist/chunks/botframework-connector.js"]!).toString()).toBe("exports.loaded = true;\n");
  });

  it("refuses a bundle whose chunk requires a chunk that is missing (a shared chunk of several handlers)", () => {
    const box = new Sandbox();
    box.writeBundle('exports.alerts = () => Promise.resolve().then(() => require("./chunks/alerts-queue.js"));\n');
    mkdirSync(path.join(box.project, "dist", "chunks"));
    writeFileSync(path.join(box.project, "dist", "chunks", "alerts-queue.js"), 'require("./chunk-shared.js");\n');
    const result = spawnSync(
      process.execPath,
      [path.join(REPO, "infra", "scripts", "zip-app.mjs"), "--root", box.project, "--out", path.join(box.dir, "a.zip")],
      { encoding: "utf8" },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`zip-app: dist/chunks/chunk-shared.js not found in ${box.project} (dist/index.js loads it): run npm run build\n`);
  });

  it("refuses a bundle whose chunk file is missing (the app would start, then fail its first Teams request)", () => {
    const box = new Sandbox();
    box.writeBundle('exports.auth = () => Promise.resolve().then(() => require("./chunks/botframework-connector.js"));\n');
    const result = spawnSync(
      process.execPath,
      [path.join(REPO, "infra", "scripts", "zip-app.mjs"), "--root", box.project, "--out", path.join(box.dir, "a.zip")],
      {
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `zip-app: dist/chunks/botframework-connector.js not found in ${box.project} (dist/index.js loads it): run npm run build\n`,
    );
    expect(existsSync(path.join(box.dir, "a.zip"))).toBe(false);
  });

  it("fails clearly without a build", () => {
    const box = new Sandbox({}, { dist: false });
    const result = spawnSync(
      process.execPath,
      [path.join(REPO, "infra", "scripts", "zip-app.mjs"), "--root", box.project, "--out", path.join(box.dir, "a.zip")],
      {
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`zip-app: dist/index.js not found in ${box.project}\n`);
  });
});
