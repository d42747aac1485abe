// Explicit linking trusts only identities the sign-in vouches for: a verified email, or (Microsoft Entra ID)
// the account's object id and tenant, the tenant being one this app serves. Anything else: a page that
// says why, a log line that says which rule (without the email), and nothing linked.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOidcProvider, type OidcProvider, type PersonInput } from "../../dev/emulators/oidc";
import type { TeamsUser } from "../../dev/emulators/teams";
import { IdentityRepository } from "../../shared/storage/identities";
import { deriveKey } from "../../shared/identity/keys";
import { issueLinkToken, type LinkRequest } from "../../shared/storage/link-tokens";
import { signInAs, TestBrowser } from "../support/browser";
import { logsOnceLogged } from "../support/host-process";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

/** Opens a link for `request`, signs in as `person` (added to the provider), and returns the page the app shows. */
async function signInThroughLink(stack: Stack, idp: OidcProvider, request: LinkRequest, person: PersonInput) {
  if (!idp.people.some((p) => p.email === person.email)) idp.addPerson(person);
  const key = deriveKey(Buffer.from(stack.env.LINK_SIGNING_KEY!, "hex"), "link-token");
  const browser = new TestBrowser();
  const login = await browser.get(`${stack.api}/link?token=${encodeURIComponent(await issueLinkToken(key, request))}`);
  const page = await signInAs(browser, login, person.email);
  return { page, browser, text: decodeEntities(page.text) };
}

/** The page's text as a person reads it (the app escapes ' and " in HTML). */
function decodeEntities(html: string): string {
  return html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** The host's log since line `from`, once the sign-in's refusal is in it (lines can trail the page). */
function logsSince(stack: Stack, from: number): Promise<string> {
  return logsOnceLogged(stack.host, "sign-in refused", from);
}

describe("any sign-in provider: only an email it says is verified", () => {
  let stack: Stack;
  let slackTeam: string;
  let request: LinkRequest;

  beforeAll(async () => {
    stack = await startStack();
    slackTeam = await installSlackWorkspace(stack, "Verified");
    const dana = stack.slack.addUser(slackTeam, { name: "dana" }).id;
    request = { provider: "slack", scope: slackTeam, chatUserId: dana, confirm: { kind: "slack", userId: dana } };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const linked = () => new IdentityRepository(stack.storage).get("slack", slackTeam, request.chatUserId);

  it.each<[string, PersonInput, RegExp, string]>([
    [
      "no email, only a preferred_username",
      { email: "eve@triage.dev", name: "Eve", claims: { email: null, preferred_username: "ana@triage.dev" } },
      /didn't give us your email address/,
      "no-email",
    ],
    [
      "email_verified: false",
      { email: "fay@triage.dev", name: "Fay", claims: { email_verified: false } },
      /says your email address isn't verified/,
      "email-not-verified",
    ],
    [
      "email_verified left out",
      { email: "gil@triage.dev", name: "Gil", claims: { email_verified: null } },
      /didn't say your email address is verified/,
      "email-verified-missing",
    ],
  ])("%s: refused, the page says why, the log says which rule without the email", async (_case, person, why, rule) => {
    const logsBefore = stack.host.logs().length;
    const { page, text } = await signInThroughLink(stack, stack.oidc, request, person);
    expect(page.status).toBe(403);
    expect(text).toMatch(/You're not linked/);
    expect(text).toMatch(why);
    expect(text).toMatch(/Nothing was changed/);
    expect(text).not.toMatch(/Link Slack to/); // no confirmation step offered
    const logs = await logsSince(stack, logsBefore);
    expect(logs).toContain(`sign-in refused (${rule})`);
    expect(logs).not.toMatch(/@triage\.dev/);
    expect(await linked()).toBeUndefined();
  });

  it("email_verified: true: the confirmation page, then linked by that email", async () => {
    const { page, browser, text } = await signInThroughLink(stack, stack.oidc, request, { email: "hal@triage.dev", name: "Hal" });
    expect(text).toMatch(/nothing is linked until you confirm/);
    expect((await browser.submitForm(page)).status).toBe(200);
    expect(await linked()).toMatchObject({ how: "explicit", person: { email: "hal@triage.dev" } });
  });
});

describe("Microsoft Entra ID: the object id and an allowed tenant", () => {
  const OTHER_TENANT = "0badc0de-0000-4000-8000-00000000a77c";
  /** stack.ts's Teams tenant (checked below): TEAMS_ALLOWED_TENANTS must still name it. */
  const STACK_TENANT = "72f988bf-0000-4000-8000-000000000001";
  const SISTER_TENANT = "5157e500-0000-4000-8000-00000000515e";
  let stack: Stack;
  let entra: OidcProvider;
  let tenant: string;
  let slackTeam: string;
  let ana: TeamsUser;

  const slackRequest = (): LinkRequest => {
    const user = stack.slack.addUser(slackTeam, { name: `u${randomUUID().slice(0, 6)}` }).id;
    return { provider: "slack", scope: slackTeam, chatUserId: user, confirm: { kind: "slack", userId: user } };
  };
  const teamsRequest = (user: TeamsUser): LinkRequest => ({
    provider: "msteams",
    scope: tenant,
    chatUserId: user.aadObjectId,
    teamsUserId: user.id,
    confirm: { kind: "teams", serviceUrl: stack.teams.serviceUrl, conversationId: stack.teams.personalConversation(user).id },
  });
  const linked = (request: LinkRequest) => new IdentityRepository(stack.storage).get(request.provider, request.scope, request.chatUserId);
  /** Entra sends no email_verified; the email is trusted only with xms_edov: true. */
  const entraPerson = (email: string, claims: Record<string, unknown>): PersonInput => ({
    email,
    name: email.split("@")[0]!,
    claims: { email_verified: null, ...claims },
  });

  beforeAll(async () => {
    entra = await startOidcProvider({ clients: [], entra: true });
    stack = await startStack({ env: { OIDC_ISSUER: entra.issuer, TEAMS_ALLOWED_TENANTS: `${STACK_TENANT},${SISTER_TENANT}` } });
    expect(stack.teams.tenantId).toBe(STACK_TENANT);
    await entra.addClient({
      clientId: stack.env.OIDC_CLIENT_ID!,
      clientSecret: stack.env.OIDC_CLIENT_SECRET!,
      redirectUris: [`${stack.env.PUBLIC_BASE_URL}/api/link/callback`],
    });
    tenant = stack.teams.tenantId;
    slackTeam = await installSlackWorkspace(stack, "Entra");
    ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  });
  afterAll(async () => {
    await stack?.stop();
    await entra?.stop();
  });

  it("a tenant this app doesn't serve (the nOAuth case: anyone's tenant can claim any email): refused, even with xms_edov", async () => {
    const request = slackRequest();
    const logsBefore = stack.host.logs().length;
    const { page, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson("mallory@contoso.com", { oid: randomUUID(), tid: OTHER_TENANT, xms_edov: true }),
    );
    expect(page.status).toBe(403);
    expect(text).toMatch(/organisation this app doesn't serve/);
    expect(await logsSince(stack, logsBefore)).toContain(`sign-in refused (entra-tenant-not-allowed ${OTHER_TENANT})`);
    expect(await logsSince(stack, logsBefore)).not.toContain("mallory@");
    expect(await linked(request)).toBeUndefined();
  });

  it("no oid or tid: refused", async () => {
    const request = slackRequest();
    const { page, text } = await signInThroughLink(stack, entra, request, entraPerson("ned@contoso.com", { xms_edov: true }));
    expect(page.status).toBe(403);
    expect(text).toMatch(/didn't say which account and organisation/);
    expect(await linked(request)).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ["without xms_edov", {}],
    ["with xms_edov: false", { xms_edov: false }],
  ])("an email %s, from an allowed tenant, for an account not known from Teams: refused", async (_case, claims) => {
    const request = slackRequest();
    const logsBefore = stack.host.logs().length;
    const { page, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson(`olu${randomUUID().slice(0, 4)}@contoso.com`, { oid: randomUUID(), tid: tenant, ...claims }),
    );
    expect(page.status).toBe(403);
    expect(text).toMatch(/didn't confirm your email address/);
    expect(await logsSince(stack, logsBefore)).toContain("sign-in refused (entra-no-verified-person)");
    expect(await linked(request)).toBeUndefined();
  });

  it("a Teams user signing in as themselves (oid = their aadObjectId), no email in the token: linked to their Teams profile's email", async () => {
    const request = teamsRequest(ana);
    const { page, browser, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson("ana.sign-in@contoso.com", { email: null, oid: ana.aadObjectId, tid: tenant }),
    );
    expect(text).toMatch(/nothing is linked until you confirm/);
    expect(text).toContain("ana@contoso.com");
    expect((await browser.submitForm(page)).status).toBe(200);
    expect(await linked(request)).toMatchObject({ how: "explicit", person: { email: "ana@contoso.com" } });
  });

  it("a Slack user signing in with a Microsoft account linked in Teams: linked to that person, no email needed", async () => {
    const request = slackRequest();
    const { page, browser, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson("ana.again@contoso.com", { email: "ana-alias@contoso.com", oid: ana.aadObjectId, tid: tenant }),
    );
    expect(text).toContain("You signed in as ana@contoso.com");
    expect((await browser.submitForm(page)).status).toBe(200);
    expect(await linked(request)).toMatchObject({ how: "explicit", person: { email: "ana@contoso.com" } });
  });

  it("an email with xms_edov: true from an allowed tenant: linked by that email", async () => {
    const request = slackRequest();
    const { page, browser, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson("pia@contoso.com", { oid: randomUUID(), tid: tenant, xms_edov: true }),
    );
    expect(text).toContain("You signed in as pia@contoso.com");
    expect((await browser.submitForm(page)).status).toBe(200);
    expect(await linked(request)).toMatchObject({ person: { email: "pia@contoso.com" } });
  });

  it("another allowed tenant: fine for a Slack link, refused for a Teams link of this tenant", async () => {
    const slack = slackRequest();
    const first = await signInThroughLink(
      stack,
      entra,
      slack,
      entraPerson("sam@sister.example", { oid: randomUUID(), tid: SISTER_TENANT, xms_edov: true }),
    );
    expect(first.text).toContain("You signed in as sam@sister.example");

    const dee = stack.teams.addUser({ name: "Dee Ray", email: "dee@contoso.com" });
    const teams = teamsRequest(dee);
    const logsBefore = stack.host.logs().length;
    const { page, text } = await signInThroughLink(
      stack,
      entra,
      teams,
      entraPerson("dee@sister.example", { oid: randomUUID(), tid: SISTER_TENANT, xms_edov: true }),
    );
    expect(page.status).toBe(403);
    expect(text).toMatch(/another organisation's account/);
    expect(await logsSince(stack, logsBefore)).toContain("sign-in refused (entra-other-tenant)");
    expect(await linked(teams)).toBeUndefined();
  });

  it("a Teams link signed in with an account of a tenant not allowed (its own oid, a verified email): refused", async () => {
    const cy = stack.teams.addUser({ name: "Cy Park", email: "cy@contoso.com" });
    const request = teamsRequest(cy);
    const { page, text } = await signInThroughLink(
      stack,
      entra,
      request,
      entraPerson("cy@fabrikam.example", { oid: cy.aadObjectId, tid: OTHER_TENANT, xms_edov: true }),
    );
    expect(page.status).toBe(403);
    expect(text).toMatch(/organisation this app doesn't serve/);
    expect(await linked(request)).toBeUndefined();
  });
});
