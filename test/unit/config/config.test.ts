import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ManagedIdentityCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../../shared/config";
import * as identity from "@azure/identity";
import { createIdentityCredential, identityCredential, StorageClients } from "../../../shared/storage/clients";
import { validSettings } from "../../fixtures/settings";

const SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543";

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.setting);
    throw error;
  }
  return [];
}

describe("settings", () => {
  it("accepts a complete configuration and applies defaults", () => {
    const config = loadConfig(validSettings());
    expect(config.bot.allowedTenants).toEqual(["11111111-1111-1111-1111-111111111111"]);
    expect(config.bot.serviceUrlHosts).toContain("smba.trafficmanager.net");
    expect(config.autoLink).toBe(true);
    expect(config.slack).toBeUndefined();
    expect(config.linkSigningKey.length).toBe(32);
  });

  it("names every bad setting in one message, never echoing a value", () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    let message = "";
    try {
      loadConfig({ MicrosoftAppType: "Weird", SLACK_CLIENT_ID: "x", PUBLIC_BASE_URL: "http://example.com", LINK_SIGNING_KEY: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const setting of [
      "AzureWebJobsStorage",
      "MicrosoftAppId",
      "MicrosoftAppType",
      "LINK_SIGNING_KEY",
      "SLACK_SIGNING_SECRET",
      "SLACK_CLIENT_SECRET",
      "PUBLIC_BASE_URL",
    ]) {
      expect(message).toContain(`- ${setting}:`);
    }
    expect(message).not.toContain(secret);
  });

  it("refuses an empty bot app id, which would silently turn off request authentication", () => {
    expect(problemsOf(validSettings({ MicrosoftAppId: "" }))).toEqual(["MicrosoftAppId"]);
    expect(problemsOf(validSettings({ MicrosoftAppId: "   " }))).toEqual(["MicrosoftAppId"]);
  });

  it("requires a password for password bots and a tenant for single-tenant ones", () => {
    expect(problemsOf(validSettings({ MicrosoftAppType: "SingleTenant" }))).toEqual(["MicrosoftAppPassword"]);
    expect(problemsOf(validSettings({ MicrosoftAppType: "UserAssignedMSI", MicrosoftAppTenantId: undefined }))).toEqual(["MicrosoftAppTenantId"]);
    expect(problemsOf(validSettings({ MicrosoftAppType: "MultiTenant", MicrosoftAppPassword: "p", MicrosoftAppTenantId: undefined }))).toEqual([
      "TEAMS_ALLOWED_TENANTS",
    ]);
  });

  it("refuses a short link signing key, and one that is a pattern repeated", () => {
    expect(problemsOf(validSettings({ LINK_SIGNING_KEY: "9f2c7a41d08e3b56c1f4e7a9b20d58c36e1a4f07b9d2c5e8a3f6b1d40c7e92" }))).toEqual([
      "LINK_SIGNING_KEY",
    ]);
    expect(problemsOf(validSettings({ LINK_SIGNING_KEY: "a".repeat(64) }))).toEqual(["LINK_SIGNING_KEY"]);
    expect(problemsOf(validSettings({ LINK_SIGNING_KEY: "changeme-changeme-changeme-changeme-changeme" }))).toEqual(["LINK_SIGNING_KEY"]);
    expect(
      problemsOf(
        validSettings({
          LINK_SIGNING_KEY: Buffer.from("9f2c7a41d08e3b56c1f4e7a9b20d58c36e1a4f07b9d2c5e8a3f6b1d40c7e92a5", "hex").toString("base64"),
        }),
      ),
    ).toEqual([]);
  });

  it("refuses a Slack signing secret anyone could guess: whoever knows it can forge clicks and commands", () => {
    const slack = (secret: string) => validSettings({ SLACK_SIGNING_SECRET: secret, SLACK_BOT_TOKEN: "xoxb-1" });
    expect(problemsOf(slack("signing"))).toEqual(["SLACK_SIGNING_SECRET"]);
    expect(problemsOf(slack("changeme".repeat(4)))).toEqual(["SLACK_SIGNING_SECRET"]);
    expect(problemsOf(slack("x".repeat(40)))).toEqual(["SLACK_SIGNING_SECRET"]);
    expect(problemsOf(slack(SIGNING_SECRET))).toEqual([]);
  });

  it("compares Teams tenant ids whatever case they were typed in", () => {
    const upper = "72F988BF-86F1-41AF-91AB-2D7CD011DB47";
    expect(loadConfig(validSettings({ TEAMS_ALLOWED_TENANTS: upper })).bot.allowedTenants).toEqual([upper.toLowerCase()]);
    expect(loadConfig(validSettings({ MicrosoftAppTenantId: upper })).bot.allowedTenants).toEqual([upper.toLowerCase()]);
  });

  it("requires https for a public base URL that is not localhost", () => {
    expect(problemsOf(validSettings({ PUBLIC_BASE_URL: "http://relay.example.com" }))).toEqual(["PUBLIC_BASE_URL"]);
    expect(problemsOf(validSettings({ PUBLIC_BASE_URL: "https://relay.example.com" }))).toEqual([]);
  });

  it("requires https for the services given tokens and secrets or trusted for signing keys, unless on localhost", () => {
    const slack = { SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: "xoxb-1" };
    expect(problemsOf(validSettings({ BOT_OPENID_METADATA_URL: "http://login.example.com/.well-known/openid-configuration" }))).toEqual([
      "BOT_OPENID_METADATA_URL",
    ]);
    expect(problemsOf(validSettings({ ...slack, SLACK_API_URL: "http://slack.example.com/api/" }))).toEqual(["SLACK_API_URL"]);
    expect(problemsOf(validSettings({ DISCORD_API_URL: "http://discord.example.com/api/v10" }))).toEqual(["DISCORD_API_URL"]);
    expect(problemsOf(validSettings({ OIDC_ISSUER: "http://login.example.com/tenant/v2.0", OIDC_CLIENT_ID: "c" }))).toEqual(["OIDC_ISSUER"]);
    expect(
      problemsOf(validSettings({ ...slack, SLACK_API_URL: "http://127.0.0.1:3978/api/", BOT_OPENID_METADATA_URL: "http://localhost:1/m" })),
    ).toEqual([]);
    expect(problemsOf(validSettings({ ...slack, SLACK_API_URL: "https://slack.example.com/api/" }))).toEqual([]);
  });

  it("refuses a Key Vault reference the platform could not resolve (its text would be the secret)", () => {
    const unresolved = "@Microsoft.KeyVault(SecretUri=https://relay-kv.vault.azure.net/secrets/slack-signing-secret/)";
    let message = "";
    try {
      loadConfig(validSettings({ SLACK_SIGNING_SECRET: unresolved, SLACK_BOT_TOKEN: "xoxb-1", INGEST_TOKENS: unresolved }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/- SLACK_SIGNING_SECRET: a Key Vault reference the platform could not resolve/);
    expect(message).toMatch(/- INGEST_TOKENS: a Key Vault reference/);
    expect(message).not.toContain("relay-kv");
  });

  it("accepts a managed identity instead of a connection string", () => {
    const config = loadConfig(
      validSettings({ AzureWebJobsStorage: undefined, AzureWebJobsStorage__accountName: "relaystore", AzureWebJobsStorage__clientId: "cid" }),
    );
    expect(config.storage).toEqual({ kind: "identity", accountName: "relaystore", clientId: "cid" });
  });

  it("parses the Teams lists", () => {
    const config = loadConfig(validSettings({ TEAMS_ALLOWED_TENANTS: "a, b ,", TEAMS_SERVICE_URL_HOSTS: "127.0.0.1,Example.com" }));
    expect(config.bot.allowedTenants).toEqual(["a", "b"]);
    expect(config.bot.serviceUrlHosts).toEqual(["127.0.0.1", "example.com"]);
  });
});

describe("storage with a managed identity", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it("addresses the account's endpoints and asks the managed identity endpoint for a storage token as the configured client", async () => {
    const requests: { url: string; header?: string }[] = [];
    const server = createServer((req, res) => {
      requests.push({ url: req.url ?? "", header: req.headers["x-identity-header"] as string | undefined });
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          access_token: "t",
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource: "https://storage.azure.com",
          token_type: "Bearer",
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      process.env.IDENTITY_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`;
      process.env.IDENTITY_HEADER = "header-secret";
      const env = { AzureWebJobsStorage__credential: "managedidentity" };
      const clients = new StorageClients({ kind: "identity", accountName: "relaystore", clientId: "uami-client-id" }, env);
      expect(clients.tableClient("issues").url).toBe("https://relaystore.table.core.windows.net");
      expect(clients.queueService().url).toBe("https://relaystore.queue.core.windows.net");

      expect(createIdentityCredential(identity, "uami-client-id", env)).toBeInstanceOf(ManagedIdentityCredential);
      const credential = identityCredential("uami-client-id", env);
      const token = await credential.getToken("https://storage.azure.com/.default");
      expect(token?.token).toBe("t");
      expect(requests).toHaveLength(1);
      expect(requests[0]!.url).toContain("client_id=uami-client-id");
      expect(requests[0]!.url).toContain("resource=https%3A%2F%2Fstorage.azure.com");
      expect(requests[0]!.header).toBe("header-secret");
    } finally {
      server.close();
    }
  });
});
