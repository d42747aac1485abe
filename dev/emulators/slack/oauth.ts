import { tokens as newToken } from "./ids";
import { SlackApiError, str, type Params } from "./params";
import type { EmulatorState } from "./state";
import { ROTATING_TOKEN_TTL_SEC } from "./tokens";
import { DEFAULT_BOT_SCOPES } from "./world";

/** Authorization codes are short-lived and single-use. */
const CODE_TTL_MS = 10 * 60_000;

export interface ClientCredentials {
  clientId?: string;
  clientSecret?: string;
}

/** `Authorization: Basic base64(client_id:client_secret)`, which Slack prefers over form fields. */
export function basicCredentials(header: string | undefined): ClientCredentials | undefined {
  const match = header?.match(/^Basic\s+(.+)$/i);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

function parseScopes(value: string | null | undefined): string[] {
  return (value ?? "").split(/[,\s]+/).filter(Boolean);
}

/**
 * GET /oauth/v2/authorize: the browser leg of the install. There is no consent screen; the configured
 * installing user approves at once (or denies, after `setAuthorizeDenied(true)`).
 */
export function authorize(state: EmulatorState, query: URLSearchParams): { status: number; location?: string; text?: string } {
  if (query.get("client_id") !== state.clientId) return { status: 400, text: "invalid_client_id" };
  const redirectUri = query.get("redirect_uri");
  if (!redirectUri) return { status: 400, text: "bad_redirect_uri" };
  let target: URL;
  try {
    target = new URL(redirectUri);
  } catch {
    return { status: 400, text: "bad_redirect_uri" };
  }
  const stateParam = query.get("state");
  if (state.authorize.denied) {
    target.searchParams.set("error", "access_denied");
  } else {
    const installer = state.authorize.as ?? defaultInstaller(state);
    if (!installer) return { status: 400, text: "no workspace/user to install as: call setAuthorizeAs" };
    const scopes = parseScopes(query.get("scope"));
    const code = newToken.oauthCode();
    state.oauthCodes.set(code, {
      clientId: state.clientId,
      teamId: installer.teamId,
      userId: installer.userId,
      scopes: scopes.length ? scopes : [...DEFAULT_BOT_SCOPES],
      redirectUri,
      expiresAt: state.clock.now() + CODE_TTL_MS,
      used: false,
    });
    target.searchParams.set("code", code);
  }
  if (stateParam !== null) target.searchParams.set("state", stateParam);
  return { status: 302, location: target.toString() };
}

function defaultInstaller(state: EmulatorState): { teamId: string; userId: string } | undefined {
  const workspace = state.world.firstWorkspace();
  const user = workspace && state.world.firstHuman(workspace.id);
  return workspace && user ? { teamId: workspace.id, userId: user.id } : undefined;
}

/** oauth.v2.access: exchanges an authorization code, or (with rotation) a refresh token. */
export function oauthV2Access(state: EmulatorState, params: Params, basic: ClientCredentials | undefined): Record<string, unknown> {
  const clientId = basic?.clientId ?? str(params, "client_id");
  const clientSecret = basic?.clientSecret ?? str(params, "client_secret");
  if (clientId !== state.clientId) throw new SlackApiError("invalid_client_id");
  if (clientSecret !== state.clientSecret) throw new SlackApiError("bad_client_secret");

  const grantType = str(params, "grant_type") ?? "authorization_code";
  if (grantType === "refresh_token") return refresh(state, str(params, "refresh_token"));
  if (grantType !== "authorization_code") throw new SlackApiError("invalid_grant_type");
  return exchangeCode(state, str(params, "code"), str(params, "redirect_uri"));
}

function exchangeCode(state: EmulatorState, code: string | undefined, redirectUri: string | undefined): Record<string, unknown> {
  const grant = code ? state.oauthCodes.get(code) : undefined;
  if (!grant || grant.used || state.clock.now() > grant.expiresAt) throw new SlackApiError("invalid_code");
  // Slack only insists on a match when the token request repeats redirect_uri.
  if (redirectUri !== undefined && redirectUri !== grant.redirectUri) throw new SlackApiError("bad_redirect_uri");
  grant.used = true;

  const workspace = state.world.requireWorkspace(grant.teamId);
  // Reinstalling an app without rotation hands back the bot token it already has.
  const existing = workspace.rotation ? undefined : state.tokens.activeStaticToken(workspace.id);
  if (existing) state.tokens.setScopes(existing, grant.scopes);
  const issued = existing ? { accessToken: existing } : state.tokens.issue(workspace.id, grant.scopes, workspace.rotation);
  return {
    access_token: issued.accessToken,
    token_type: "bot",
    scope: grant.scopes.join(","),
    bot_user_id: workspace.botUserId,
    app_id: state.appId,
    team: { id: workspace.id, name: workspace.name },
    enterprise: null,
    authed_user: { id: grant.userId },
    is_enterprise_install: false,
    ...("refreshToken" in issued && issued.refreshToken
      ? { refresh_token: issued.refreshToken, expires_in: issued.expiresIn ?? ROTATING_TOKEN_TTL_SEC }
      : {}),
  };
}

function refresh(state: EmulatorState, refreshToken: string | undefined): Record<string, unknown> {
  const rotated = refreshToken ? state.tokens.rotate(refreshToken) : undefined;
  if (!rotated) throw new SlackApiError("invalid_refresh_token");
  const workspace = state.world.requireWorkspace(rotated.teamId);
  return {
    access_token: rotated.accessToken,
    token_type: "bot",
    scope: rotated.scopes.join(","),
    bot_user_id: workspace.botUserId,
    app_id: state.appId,
    team: { id: workspace.id, name: workspace.name },
    enterprise: null,
    is_enterprise_install: false,
    refresh_token: rotated.refreshToken,
    expires_in: rotated.expiresIn,
  };
}
