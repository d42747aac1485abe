import { ClientSecretCredential, ManagedIdentityCredential, type AccessToken, type TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../shared/config";
import * as identity from "@azure/identity";
import { BOT_FRAMEWORK_SCOPE, BotTokenProvider, createBotCredential } from "../../../shared/teams/credentials";
import { validSettings } from "../../fixtures/settings";

const botOf = (overrides: Record<string, string | undefined>) => loadConfig(validSettings(overrides)).bot;
// ClientSecretCredential keeps the tenant it will ask; MSAL refuses non-https authorities, so no live exchange here.
const tenantOf = (credential: TokenCredential) => (credential as unknown as { tenantId: string }).tenantId;

describe("the bot's credential", () => {
  it("a user-assigned managed identity is asked for exactly, not through DefaultAzureCredential's chain", () => {
    expect(createBotCredential(identity, botOf({ MicrosoftAppType: "UserAssignedMSI" }))).toBeInstanceOf(ManagedIdentityCredential);
  });

  it("a single-tenant bot uses its password against its own tenant", () => {
    const credential = createBotCredential(
      identity,
      botOf({ MicrosoftAppType: "SingleTenant", MicrosoftAppPassword: "secret", MicrosoftAppTenantId: "tenant-a" }),
    );
    expect(credential).toBeInstanceOf(ClientSecretCredential);
    expect(tenantOf(credential)).toBe("tenant-a");
  });

  it("a multi-tenant bot without a tenant uses Bot Framework's botframework.com tenant", () => {
    const credential = createBotCredential(
      identity,
      botOf({ MicrosoftAppType: "MultiTenant", MicrosoftAppPassword: "secret", MicrosoftAppTenantId: undefined, TEAMS_ALLOWED_TENANTS: "t1" }),
    );
    expect(tenantOf(credential)).toBe("botframework.com");
  });
});

describe("token caching", () => {
  function countingCredential(lifetimeMs: number, now: () => number) {
    const calls: string[] = [];
    const credential: TokenCredential = {
      async getToken(scopes): Promise<AccessToken> {
        calls.push(String(scopes));
        return { token: `t${calls.length}`, expiresOnTimestamp: now() + lifetimeMs };
      },
    };
    return { credential, calls };
  }

  it("asks once for the Bot Framework scope and reuses the token until five minutes before it expires", async () => {
    let now = 1_000_000;
    const { credential, calls } = countingCredential(60 * 60_000, () => now);
    const provider = new BotTokenProvider(credential, () => now);
    expect(await provider.token()).toBe("t1");
    now += 54 * 60_000;
    expect(await provider.token()).toBe("t1");
    now += 2 * 60_000;
    expect(await provider.token()).toBe("t2");
    expect(calls).toEqual([BOT_FRAMEWORK_SCOPE, BOT_FRAMEWORK_SCOPE]);
  });

  it("concurrent callers share one request", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, Date.now);
    const provider = new BotTokenProvider(credential);
    await Promise.all(Array.from({ length: 10 }, () => provider.token()));
    expect(calls).toHaveLength(1);
  });

  it("after a 401 the token is fetched again", async () => {
    const { credential, calls } = countingCredential(60 * 60_000, Date.now);
    const provider = new BotTokenProvider(credential);
    await provider.token();
    provider.invalidate();
    expect(await provider.token()).toBe("t2");
    expect(calls).toHaveLength(2);
  });
});
