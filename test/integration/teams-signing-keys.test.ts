// Bot Framework's signing keys over time, against the Teams emulator's real OpenID metadata and JWKS,
// with the authenticator's clock moved instead of waiting a day.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTeamsEmulator, type TeamsEmulator, type TeamsTeam, type TeamsUser } from "../../dev/emulators/teams";
import type { Config } from "../../shared/config";
import { TeamsRequestAuthenticator } from "../../shared/teams/auth";

const HOUR = 60 * 60 * 1000;

let emulator: TeamsEmulator;
let ana: TeamsUser;
let team: TeamsTeam;
let clock = Date.now();
let authenticator: TeamsRequestAuthenticator;

beforeAll(async () => {
  emulator = await startTeamsEmulator({ appId: "0b0b0b0b-0000-4000-8000-00000000b07a", tenantId: "72f988bf-0000-4000-8000-000000000002" });
  ana = emulator.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = emulator.addTeam({ name: "Keys", members: [ana] });
  const bot: Config["bot"] = {
    appId: emulator.appId,
    appType: "UserAssignedMSI",
    tenantId: emulator.tenantId,
    openIdMetadataUrl: emulator.openIdMetadataUrl,
    allowedTenants: [emulator.tenantId],
    serviceUrlHosts: ["127.0.0.1"],
  };
  authenticator = new TeamsRequestAuthenticator(bot, { now: () => clock });
});
afterAll(async () => {
  await emulator?.stop();
});

async function check(options: Parameters<TeamsEmulator["signChannelToken"]>[0] = {}) {
  const activity = emulator.message({ conversation: team, from: ana, text: "help" });
  // The token's own exp/nbf are real time; only the key cache's clock moves.
  return authenticator.authenticate(activity, `Bearer ${await emulator.signChannelToken(options)}`);
}

describe("Bot Framework signing keys: cached keys keep serving while a refresh fails", () => {
  it("first use fetches the keys; a valid token passes", async () => {
    expect(await check()).toEqual({ ok: true });
  });

  it("a day later the refresh fails: valid tokens still pass, with a notice saying so", async () => {
    clock += 25 * HOUR;
    emulator.injectFault({ operation: "openIdMetadata", status: 503 });
    const result = await check();
    expect(result.ok).toBe(true);
    expect(result.notice).toMatch(/refresh failed \(OpenID metadata answered 503\); still using the keys fetched at/);
  });

  it("while the refresh is failing, a token naming a key we don't have is unanswerable (503), not a forgery (401)", async () => {
    clock += 1000;
    const result = await check({ key: "unpublished" });
    expect(result).toMatchObject({ ok: false, status: 503 });
  });

  it("no new attempt within the cooldown, and no notice per request", async () => {
    emulator.injectFault({ operation: "openIdMetadata", status: 503, disconnect: true });
    clock += 60 * 1000;
    expect(await check()).toEqual({ ok: true });
  });

  it("after the cooldown the refresh is tried again (the connection drops): still serving, still saying so", async () => {
    clock += 5 * 60 * 1000;
    const result = await check();
    expect(result.ok).toBe(true);
    expect(result.notice).toMatch(/refresh failed \(OpenID metadata unreachable: /);
  });

  it("when the metadata is back the keys are renewed, and an unknown key is again a forgery (401)", async () => {
    clock += 5 * 60 * 1000;
    expect(await check()).toEqual({ ok: true });
    expect(await check({ key: "unpublished" })).toMatchObject({ ok: false, status: 401, reason: "signing key is not published" });
  });
});

describe("the token itself", () => {
  it.each([
    ["no exp claim", { extraClaims: { exp: undefined } }, /exp/],
    ["exp as a string", { extraClaims: { exp: "4102444800" } }, /exp/],
    ["nbf an hour ahead", { notBeforeSec: 3600 }, /nbf/],
    ["expired beyond the 5 min skew", { expiresInSec: -600 }, /exp/],
    ["a key endorsed only for slack", { key: "notEndorsed" as const }, /not endorsed for msteams/],
  ])("%s: 401 with the reason", async (_name, options, reason) => {
    const result = await check(options);
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok ? "" : result.reason).toMatch(reason);
  });

  it("nbf within the 5 min skew passes", async () => {
    expect(await check({ notBeforeSec: 120 })).toEqual({ ok: true });
  });
});
