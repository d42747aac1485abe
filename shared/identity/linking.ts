import { randomBytes, timingSafeEqual } from "node:crypto";
import { EncryptJWT, errors, jwtDecrypt } from "jose";
import type { Config } from "../config";
import type { Person } from "../domain/issue";
import { page } from "../pages";
import { postToResponseUrl } from "../slack/responses";
import { heldBackActivity, queueHeldBack } from "../teams/held-back";
import { sendToPersonalChat } from "../teams/personal-chat";
import { IdentityRepository } from "../storage/identities";
import { deriveKey } from "./keys";
import { consumeLinkToken, verifyLinkToken, type LinkRequest } from "../storage/link-tokens";
import { finishSignIn, startSignIn, type Refusal, type SignedIn } from "./sign-in";
import type { AppContext } from "../context";

export const LINK_SESSION_COOKIE = "triage_link_session";
const SESSION_LIFETIME_SECONDS = 15 * 60;

type Page = ReturnType<typeof page>;
/** A link page; `refused` is why, for the log (never a token, cookie, email or body), when the page refuses and nothing else logged it. */
export type LinkPage = Page & { cookie?: string; refused?: string };

/** The two steps' sessions share the cookie; each says which it is, so neither is taken for the other. */
type SessionStage = "sign-in" | "confirm";

const TOKEN_PROBLEMS = {
  expired: [
    "This link has expired",
    "Links work for 15 minutes. Ask for a new one: type link in your chat with Triage Relay (Teams) or /triage link (Slack).",
  ],
  invalid: ["This link isn't valid", "It was altered, cut short, or not made by this app. Ask for a new one in your chat with Triage Relay."],
  used: ["This link was already used", "Each link works once. If you're not linked yet, ask for a new one in your chat with Triage Relay."],
} as const;

const TOKEN_REFUSALS = { expired: "link token expired", invalid: "link token invalid", used: "link token already used" } as const;

const refusing = <P extends Page>(p: P, refused: string): P & { refused: string } => ({ ...p, refused });

export function linkCallbackUrl(config: Config): string {
  return `${config.publicBaseUrl}/api/link/callback`;
}

export function linkPageUrl(config: Config, token: string): string {
  return `${config.publicBaseUrl}/api/link?token=${encodeURIComponent(token)}`;
}

/** GET /api/link?token=…: check the token, then send the person to sign in. */
export async function startLinking(linker: AppContext, token: string | null): Promise<LinkPage | { redirect: string; cookie: string }> {
  const { config } = linker;
  if (!config.oidc) return signInOff();
  if (!token) return refusing(page(TOKEN_PROBLEMS.invalid[0], [TOKEN_PROBLEMS.invalid[1]], { status: 400 }), "no link token");
  const check = await verifyLinkToken(deriveKey(config.linkSigningKey, "link-token"), token, linker.storage);
  if (!check.ok) {
    const [title, text] = TOKEN_PROBLEMS[check.problem];
    return refusing(page(title, [text], { status: check.problem === "invalid" ? 400 : 410 }), TOKEN_REFUSALS[check.problem]);
  }
  const foreign = await foreignScope(linker, check.request);
  if (foreign)
    return refusing(
      page("This link is for another organisation", [foreign], { status: 403 }),
      `${check.request.provider} link for a scope this app doesn't serve`,
    );

  let signIn;
  try {
    signIn = await startSignIn(config.oidc, linkCallbackUrl(config));
  } catch (error) {
    linker.log(`Link: sign-in provider unavailable: ${(error as Error).message}`);
    return providerUnavailablePage();
  }
  const session = await new EncryptJWT({ stage: "sign-in", token, state: signIn.state, nonce: signIn.nonce, codeVerifier: signIn.codeVerifier })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime(`${SESSION_LIFETIME_SECONDS}s`)
    .encrypt(deriveKey(config.linkSigningKey, "link-session"));
  return { redirect: signIn.authorizationUrl, cookie: sessionCookie(config, session, SESSION_LIFETIME_SECONDS) };
}

function signInOff(): LinkPage {
  return refusing(
    page(
      "Linking by sign-in is off",
      ["This app has no sign-in provider configured (OIDC_ISSUER), so accounts can only be linked automatically by their verified email."],
      { status: 404 },
    ),
    "linking by sign-in is off (no OIDC_ISSUER)",
  );
}

/** The link token is not used up: the same link works once the provider answers again (within its 15 minutes). */
function providerUnavailablePage(): Page {
  return page("Sign-in is unavailable right now", ["The sign-in provider didn't answer. Try the same link again in a minute."], { status: 503 });
}

/** GET /api/link/callback: finish the sign-in, then ask the person to confirm the link. */
export async function finishLinking(linker: AppContext, callbackUrl: URL, sessionCookieValue: string | undefined): Promise<LinkPage> {
  const { config } = linker;
  const clear = sessionCookie(config, "", 0);
  const withClear = (p: LinkPage): LinkPage => ({ ...p, cookie: clear });
  if (!config.oidc) return withClear(signInOff());
  const read = await readSession<{ token: string; state: string; nonce: string; codeVerifier: string }>(config, sessionCookieValue, "sign-in");
  if ("problem" in read) {
    const why = "It was started in another browser, took longer than 15 minutes, or cookies are blocked. Open your link again.";
    return withClear(refusing(page("This sign-in can't be matched to a link", [why], { status: 400 }), read.problem));
  }
  const session = read.session;
  const check = await verifyLinkToken(deriveKey(config.linkSigningKey, "link-token"), session.token, linker.storage);
  if (!check.ok) {
    const [title, text] = TOKEN_PROBLEMS[check.problem];
    return withClear(refusing(page(title, [text], { status: 410 }), TOKEN_REFUSALS[check.problem]));
  }
  const result = await finishSignIn(config.oidc, callbackUrl, session);
  if ("unavailable" in result) {
    linker.log(`Link: sign-in provider unavailable: ${result.unavailable}`);
    return withClear(providerUnavailablePage());
  }
  const request = check.request;
  const found = result.ok ? await personSignedIn(linker, request, result.signedIn) : result;
  if (!found.ok) {
    linker.log(`Link: sign-in refused (${found.refusal.rule})`);
    return withClear(
      page("You're not linked", [found.refusal.reason, "Nothing was changed. Open your link again to retry."], { status: found.status }),
    );
  }
  const person = found.person;
  // Ask before linking: someone may have sent this person *their* link, hoping they'd sign in to it.
  const csrf = randomBytes(16).toString("base64url");
  const pending = await new EncryptJWT({ stage: "confirm", token: session.token, person, csrf })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setIssuedAt()
    .setExpirationTime(`${SESSION_LIFETIME_SECONDS}s`)
    .encrypt(deriveKey(config.linkSigningKey, "link-session"));
  const platform = PLATFORM_NAMES[request.provider];
  const who = request.chatUserName ? `the ${platform} user “${request.chatUserName}”` : `a ${platform} account`;
  return {
    ...page(
      `Link ${platform} to ${person.email}?`,
      [
        `You signed in as ${person.email}. Link ${who} to you, so the actions taken on alert cards from that account are recorded as yours?`,
        `If you didn't ask for this link yourself, close this page: nothing is linked until you confirm.`,
      ],
      { form: { action: `${config.publicBaseUrl}/api/link/confirm`, fields: { csrf }, submit: `Link ${platform} to ${person.email}` } },
    ),
    cookie: sessionCookie(config, pending, SESSION_LIFETIME_SECONDS),
  };
}

/** POST /api/link/confirm: the person confirmed; link, say so in the chat and on the page. */
export async function confirmLinking(linker: AppContext, sessionCookieValue: string | undefined, form: URLSearchParams): Promise<LinkPage> {
  const { config } = linker;
  const withClear = (p: LinkPage): LinkPage => ({ ...p, cookie: sessionCookie(config, "", 0) });
  const unmatched = (problem: string) => {
    const why = "It came from another page or browser, or took longer than 15 minutes. Open your link again.";
    return withClear(refusing(page("This confirmation can't be matched to a sign-in", [why], { status: 400 }), problem));
  };
  const read = await readSession<{ token: string; person: { email: string; name?: string }; csrf: string }>(config, sessionCookieValue, "confirm");
  if ("problem" in read) return unmatched(read.problem);
  const pending = read.session;
  const csrf = form.get("csrf");
  if (!sameSecret(csrf, pending.csrf)) return unmatched(csrf ? "the form's CSRF value doesn't match the session's" : "no CSRF value in the form");
  const check = await verifyLinkToken(deriveKey(config.linkSigningKey, "link-token"), pending.token, linker.storage);
  if (!check.ok || !(await consumeLinkToken(linker.storage, check.tokenId))) {
    const tokenProblem = check.ok ? "used" : check.problem;
    const [title, text] = TOKEN_PROBLEMS[tokenProblem];
    return withClear(refusing(page(title, [text], { status: 410 }), TOKEN_REFUSALS[tokenProblem]));
  }
  const request = check.request;
  const previous = await new IdentityRepository(linker.storage).link({
    provider: request.provider,
    scope: request.scope,
    chatUserId: request.chatUserId,
    person: { email: pending.person.email, ...(pending.person.name ? { name: pending.person.name } : {}) },
    how: "explicit",
    linkedAt: new Date().toISOString(),
    ...(request.teamsUserId ? { teamsUserId: request.teamsUserId } : {}),
  });
  const message = previous ? `You're linked as ${pending.person.email} (before: ${previous.email}).` : `You're linked as ${pending.person.email}.`;
  const undelivered = await confirmInChat(linker, request, message);
  linker.log(`Link: ${request.provider} user linked explicitly${previous ? " (relinked)" : ""}`);
  return withClear(
    page(message, [
      `You can go back to ${PLATFORM_NAMES[request.provider]}: your actions on alert cards are now yours.`,
      ...(undelivered ? [undelivered] : []),
    ]),
  );
}

const ENTRA_REFUSALS = {
  tenantNotAllowed:
    "You signed in with an account from an organisation this app doesn't serve. Sign in with your work account in the organisation you use Teams with.",
  otherTenant: "You signed in with another organisation's account. Sign in with your account in the organisation you use Teams with.",
  noVerifiedPerson:
    "Microsoft didn't confirm your email address (it does only for addresses in your organisation's own domains), and this Microsoft account isn't linked in Teams yet, so we can't tell who you are. Link your Teams account first (type link in your chat with Triage Relay), or ask your administrator to add the xms_edov claim to the app's sign-in.",
};

type Found = { ok: true; person: Person } | { ok: false; refusal: Refusal; status: 403 };
const refuse = (reason: string, rule: string): Found => ({ ok: false, refusal: { reason, rule }, status: 403 });

/**
 * The person to link, from a sign-in: its verified email, or with Entra ID (where the email is rarely
 * verified) the Microsoft account itself, which Teams knows by the same object id: the Teams user
 * signing in as themselves is who their tenant's directory says (as for automatic linking), and any
 * account already linked in Teams is that person.
 */
async function personSignedIn(linker: AppContext, request: LinkRequest, signedIn: SignedIn): Promise<Found> {
  const name = signedIn.name ? { name: signedIn.name } : {};
  const { entra } = signedIn;
  if (!entra) return { ok: true, person: { email: signedIn.email!, ...name } };
  const tenant = entra.tenantId;
  if (!linker.config.bot.allowedTenants.includes(tenant)) {
    return refuse(ENTRA_REFUSALS.tenantNotAllowed, `entra-tenant-not-allowed ${tenant}`);
  }
  if (request.provider === "msteams" && request.scope.toLowerCase() !== tenant) return refuse(ENTRA_REFUSALS.otherTenant, "entra-other-tenant");
  if (signedIn.email) return { ok: true, person: { email: signedIn.email, ...name } };

  const isThisTeamsUser = request.provider === "msteams" && request.chatUserId.toLowerCase() === entra.objectId;
  const fromDirectory = isThisTeamsUser ? await teamsProfile(linker, request, entra.objectId) : undefined;
  if (fromDirectory) return { ok: true, person: fromDirectory };
  const linkedInTeams = await new IdentityRepository(linker.storage).get("msteams", tenant, entra.objectId);
  if (linkedInTeams) return { ok: true, person: linkedInTeams.person };
  return refuse(ENTRA_REFUSALS.noVerifiedPerson, "entra-no-verified-person");
}

/** The Teams user's email (or UPN) as the Bot Connector gives it: what automatic linking trusts. */
async function teamsProfile(linker: AppContext, request: LinkRequest, objectId: string): Promise<Person | undefined> {
  if (request.confirm.kind !== "teams") return undefined;
  try {
    const member = await linker.teams.getMember(request.confirm.serviceUrl, request.confirm.conversationId, request.teamsUserId ?? objectId, {
      tenantId: request.scope,
    });
    if (member.aadObjectId && member.aadObjectId.toLowerCase() !== objectId) return undefined;
    if (member.tenantId && member.tenantId.toLowerCase() !== request.scope.toLowerCase()) return undefined;
    const email = (member.email ?? member.userPrincipalName)?.toLowerCase();
    if (!email?.includes("@")) return undefined;
    return { email, ...(member.name ? { name: member.name } : {}) };
  } catch (error) {
    linker.log(`Link: could not read the Teams profile: ${(error as Error).message}`);
    return undefined;
  }
}

async function foreignScope(linker: AppContext, request: LinkRequest): Promise<string | undefined> {
  if (request.provider === "msteams") {
    return linker.config.bot.allowedTenants.includes(request.scope.toLowerCase())
      ? undefined
      : "This app doesn't serve the organisation this link was made for. Nothing was changed.";
  }
  if (request.provider === "discord") {
    const discord = linker.config.discord;
    if (!discord) return "Discord isn't set up on this app. Nothing was changed.";
    return discord.allowedGuilds.length === 0 || discord.allowedGuilds.includes(request.scope)
      ? undefined
      : "This app doesn't serve the Discord server this link was made for. Nothing was changed.";
  }
  if (!linker.slack) return "Slack isn't set up on this app. Nothing was changed.";
  try {
    await linker.slack.forTeam(request.scope);
    return undefined;
  } catch {
    return "This link is for a Slack workspace where Triage Relay isn't installed. Nothing was changed.";
  }
}

/**
 * "You're linked as …" where the link was asked for; Slack falls back to a DM when the response_url has
 * expired, Teams to a new 1:1 chat when that one is gone (and it is marked inactive). Returns a line for the
 * page when the chat didn't get it, or got it somewhere else.
 */
export async function confirmInChat(linker: AppContext, request: LinkRequest, text: string): Promise<string | undefined> {
  const confirm = request.confirm;
  try {
    if (confirm.kind === "teams") {
      const person = {
        tenantId: request.scope,
        aadObjectId: request.chatUserId,
        ...(request.teamsUserId ? { teamsUserId: request.teamsUserId } : {}),
        serviceUrl: confirm.serviceUrl,
      };
      const words = { type: "message" as const, text };
      const result = await sendToPersonalChat(linker, person, () => words, confirm);
      if (result.sent)
        return result.replaced ? "The Teams chat you asked from is gone, so Triage Relay said so in a new 1:1 chat with you." : undefined;
      if (result.problem === "held-back") {
        const to = {
          kind: "person" as const,
          aadObjectId: request.chatUserId,
          teamsUserId: request.teamsUserId,
          chat: { serviceUrl: confirm.serviceUrl, conversationId: confirm.conversationId },
        };
        const later = { tenantId: request.scope, serviceUrl: confirm.serviceUrl, to, message: heldBackActivity(words) };
        return (await queueHeldBack(linker, later, result.retryInSeconds))
          ? "Teams is busy just now: Triage Relay will say so in Teams in a moment. The link is made."
          : `Teams didn't take the confirmation message (${result.detail}), but the link is made.`;
      }
      return result.problem === "failed"
        ? `Teams didn't take the confirmation message (${result.detail}), but the link is made.`
        : `Triage Relay couldn't say so in Teams: its 1:1 chat with you is ${result.problem === "gone" ? "gone" : "closed to it"} (${result.detail}). The link is made all the same.`;
    }
    if (confirm.kind === "discord") return await confirmInDiscord(linker.config, confirm.userId, text);
    if (confirm.responseUrl && (await postToResponseUrl(confirm.responseUrl, { response_type: "ephemeral", replace_original: false, text }, 3000)))
      return undefined;
    const client = await linker.slack!.client(request.scope);
    await client.chat.postMessage({ channel: confirm.userId, text });
    return undefined;
  } catch (error) {
    linker.log(`Link: confirmation not delivered in chat: ${(error as Error).message}`);
    return undefined;
  }
}

function sessionCookie(config: Config, value: string, maxAge: number): string {
  const secure = config.publicBaseUrl.startsWith("https:") ? "; Secure" : "";
  return `${LINK_SESSION_COOKIE}=${value}; Path=/api/link; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

const PLATFORM_NAMES = { msteams: "Teams", slack: "Slack", discord: "Discord" } as const;

/** Discord: "You're linked" in a DM from the bot (the interaction's own token may be gone by then). */
async function confirmInDiscord(config: Config, userId: string, text: string): Promise<string | undefined> {
  if (!config.discord) return undefined;
  const rest = (await import("../discord/rest")).discordRest(config.discord);
  const dm = await rest.request<{ id: string }>("POST", "/users/@me/channels", { recipient_id: userId });
  const sent =
    dm.kind === "ok" ? await rest.request("POST", `/channels/${dm.body.id}/messages`, { content: text, allowed_mentions: { parse: [] } }) : dm;
  return sent.kind === "ok" ? undefined : "Triage Relay couldn't say so in a Discord DM, but the link is made.";
}

/** The `stage` link session kept in the cookie, or why there is none to use (for the log). */
async function readSession<T>(config: Config, cookieValue: string | undefined, stage: SessionStage): Promise<{ session: T } | { problem: string }> {
  if (!cookieValue) return { problem: "no link session cookie" };
  let payload;
  try {
    ({ payload } = await jwtDecrypt(cookieValue, deriveKey(config.linkSigningKey, "link-session")));
  } catch (error) {
    return { problem: error instanceof errors.JWTExpired ? "link session expired" : "link session unreadable" };
  }
  if (payload.stage !== stage) return { problem: `link session is from another step (${String(payload.stage ?? "none")}, not ${stage})` };
  return { session: payload as T };
}

/** Whether the form's CSRF value is the session's, compared in constant time; nothing expected matches nothing. */
function sameSecret(sent: string | null, expected: string | undefined): boolean {
  if (!sent || !expected) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
