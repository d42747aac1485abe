import { randomBytes } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import type { Config } from "../../config";
import { oauthErrorCode } from "../../http";
import { deriveKey } from "../../identity/keys";
import type { StorageClients } from "../../storage/clients";
import { slackClient } from "../../slack/client";
import { SlackInstallations } from "../../storage/slack-installations";

/**
 * `*:history`: a post whose answer never came is looked up by its metadata before it is sent again.
 * `app_mentions:read`: "@Triage Relay help" in a channel is answered.
 */
export const SLACK_BOT_SCOPES = [
  "chat:write",
  "chat:write.public",
  "commands",
  "im:write",
  "users:read",
  "users:read.email",
  "channels:read",
  "groups:read",
  "channels:history",
  "groups:history",
  "im:history",
  "app_mentions:read",
];
export const INSTALL_STATE_COOKIE = "triage_slack_install";
const STATE_LIFETIME_SECONDS = 600;
const STATE_AUDIENCE = "slack-install";

type SlackConfig = NonNullable<Config["slack"]>;

export function redirectUri(config: Config): string {
  return `${config.publicBaseUrl}/api/slack/oauth_redirect`;
}

/** Slack's authorize page sits beside its Web API (`…/api/` → `…/oauth/v2/authorize`), emulators included. */
export function authorizeUrl(slack: SlackConfig): URL {
  return new URL("../oauth/v2/authorize", slack.apiUrl);
}

/**
 * The install redirect: a signed, expiring state that names a nonce also set as a cookie, so the
 * callback only completes in the browser that started it (CSRF on the install flow).
 */
export async function startInstall(config: Config): Promise<{ location: string; cookie: string }> {
  const slack = config.slack!;
  const nonce = randomBytes(16).toString("base64url");
  const state = await new SignJWT({ nonce })
    .setProtectedHeader({ alg: "HS256" })
    .setAudience(STATE_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${STATE_LIFETIME_SECONDS}s`)
    .sign(deriveKey(config.linkSigningKey, "slack-install-state"));
  const url = authorizeUrl(slack);
  url.search = new URLSearchParams({
    client_id: slack.clientId!,
    scope: SLACK_BOT_SCOPES.join(","),
    redirect_uri: redirectUri(config),
    state,
  }).toString();
  const secure = config.publicBaseUrl.startsWith("https:") ? "; Secure" : "";
  return {
    location: url.toString(),
    cookie: `${INSTALL_STATE_COOKIE}=${nonce}; Path=/api/slack; HttpOnly; SameSite=Lax; Max-Age=${STATE_LIFETIME_SECONDS}${secure}`,
  };
}

export type InstallResult = { ok: true; teamName: string } | { ok: false; status: number; reason: string };

export async function finishInstall(
  deps: { config: Config; storage: StorageClients },
  query: { code?: string | null; state?: string | null; error?: string | null },
  cookieNonce: string | undefined,
): Promise<InstallResult> {
  const slack = deps.config.slack!;
  const slackError = oauthErrorCode(query.error);
  if (slackError)
    return {
      ok: false,
      status: 400,
      reason: slackError === "access_denied" ? "The install was cancelled in Slack." : `Slack said: ${slackError}.`,
    };
  if (!query.code || !query.state)
    return { ok: false, status: 400, reason: "This page needs the code and state Slack sends back. Start the install again." };
  try {
    const { payload } = await jwtVerify(query.state, deriveKey(deps.config.linkSigningKey, "slack-install-state"), {
      audience: STATE_AUDIENCE,
      algorithms: ["HS256"],
    });
    if (!cookieNonce || payload.nonce !== cookieNonce) {
      return {
        ok: false,
        status: 400,
        reason: "This install was started in another browser (or cookies are blocked). Start it again from this browser.",
      };
    }
  } catch {
    return { ok: false, status: 400, reason: "This install link has expired or was altered. Start the install again." };
  }
  let access;
  try {
    access = await slackClient(slack).oauth.v2.access({
      client_id: slack.clientId!,
      client_secret: slack.clientSecret!,
      code: query.code,
      redirect_uri: redirectUri(deps.config),
    });
  } catch (error) {
    const slackError = (error as { data?: { error?: string } }).data?.error ?? "no answer";
    return { ok: false, status: 502, reason: `Slack refused the install (${slackError}). Start the install again.` };
  }
  const teamId = access.team?.id;
  if (!teamId || !access.access_token) return { ok: false, status: 502, reason: "Slack's answer had no workspace or token." };
  const allowed = slack.allowedTeams;
  if (allowed.length > 0 && !allowed.includes(teamId) && !(access.enterprise?.id && allowed.includes(access.enterprise.id))) {
    return {
      ok: false,
      status: 403,
      reason: `This Triage Relay serves only its own organisation's workspaces, and ${access.team?.name ?? teamId} isn't one of them. Nothing was installed.`,
    };
  }
  await new SlackInstallations(deps.storage).save({
    teamId,
    teamName: access.team?.name,
    enterpriseId: access.enterprise?.id,
    appId: access.app_id,
    botUserId: access.bot_user_id,
    botToken: access.access_token,
    scopes: access.scope,
    refreshToken: access.refresh_token,
    expiresAt: access.expires_in ? new Date(Date.now() + access.expires_in * 1000).toISOString() : undefined,
    tokenLifetimeSec: access.expires_in,
    installedBy: access.authed_user?.id,
    active: true,
    updatedAt: new Date().toISOString(),
  });
  return { ok: true, teamName: access.team?.name ?? teamId };
}
