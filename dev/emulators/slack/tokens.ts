import type { Clock } from "./clock";
import { tokens as newToken } from "./ids";

/** Rotating access tokens live 12 hours (`expires_in: 43200`). */
export const ROTATING_TOKEN_TTL_SEC = 43_200;

interface AccessToken {
  teamId: string;
  scopes: string[];
  expiresAt?: number;
  revoked: boolean;
}

interface RefreshToken {
  teamId: string;
  scopes: string[];
  revoked: boolean;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
}

export type TokenCheck =
  | { ok: true; teamId: string; scopes: string[] }
  | { ok: false; error: "not_authed" | "invalid_auth" | "token_revoked" | "token_expired" };

/**
 * Bot tokens and refresh tokens.
 *
 * Refreshing revokes the refresh token that was used (reuse → `invalid_refresh_token`), but the access token
 * issued before stays valid until its own expiry: Slack does not document revoking it, and an app that refreshes
 * ahead of expiry (Bolt refreshes inside a 2-hour window) keeps calls in flight with the old token.
 */
export class TokenStore {
  private readonly access = new Map<string, AccessToken>();
  private readonly refresh = new Map<string, RefreshToken>();

  /** How long rotating access tokens live; Slack's is 12 h, tests shorten it to cross expiry quickly. */
  private ttlSec = ROTATING_TOKEN_TTL_SEC;

  constructor(private readonly clock: Clock) {}

  setRotatingTokenTtl(seconds: number): void {
    if (!(seconds > 0)) throw new Error("a token lifetime is a positive number of seconds");
    this.ttlSec = seconds;
  }

  /** Registers a caller-chosen token (a fixture's fixed `xoxb-…`). */
  register(token: string, teamId: string, scopes: string[], rotating: boolean): void {
    if (this.access.has(token)) throw new Error("token already registered");
    this.access.set(token, { teamId, scopes, revoked: false, expiresAt: rotating ? this.expiry() : undefined });
  }

  issue(teamId: string, scopes: string[], rotating: boolean): IssuedTokens {
    if (!rotating) {
      const accessToken = newToken.bot();
      this.access.set(accessToken, { teamId, scopes, revoked: false });
      return { accessToken };
    }
    const accessToken = newToken.rotatingBot();
    const refreshToken = newToken.refresh();
    this.access.set(accessToken, { teamId, scopes, revoked: false, expiresAt: this.expiry() });
    this.refresh.set(refreshToken, { teamId, scopes, revoked: false });
    return { accessToken, refreshToken, expiresIn: this.ttlSec };
  }

  /** A fresh refresh token for a rotating token registered by a fixture. */
  issueRefreshToken(teamId: string, scopes: string[]): string {
    const refreshToken = newToken.refresh();
    this.refresh.set(refreshToken, { teamId, scopes, revoked: false });
    return refreshToken;
  }

  /** A live, unexpired bot token of the workspace that does not rotate, if any (reinstalls keep it). */
  activeStaticToken(teamId: string): string | undefined {
    for (const [token, record] of this.access) {
      if (record.teamId === teamId && !record.revoked && record.expiresAt === undefined) return token;
    }
    return undefined;
  }

  setScopes(token: string, scopes: string[]): void {
    const record = this.access.get(token);
    if (record) record.scopes = scopes;
  }

  rotate(refreshToken: string): ({ teamId: string; scopes: string[] } & IssuedTokens) | undefined {
    const record = this.refresh.get(refreshToken);
    if (!record || record.revoked) return undefined;
    record.revoked = true;
    return { teamId: record.teamId, scopes: record.scopes, ...this.issue(record.teamId, record.scopes, true) };
  }

  check(token: string | undefined): TokenCheck {
    if (!token) return { ok: false, error: "not_authed" };
    const record = this.access.get(token);
    if (!record) return { ok: false, error: "invalid_auth" };
    if (record.revoked) return { ok: false, error: "token_revoked" };
    if (record.expiresAt !== undefined && this.clock.now() >= record.expiresAt) return { ok: false, error: "token_expired" };
    return { ok: true, teamId: record.teamId, scopes: record.scopes };
  }

  /** The workspace a token belongs to, whatever its state (for logging calls that fail auth). */
  teamOf(token: string | undefined): string | undefined {
    return token ? this.access.get(token)?.teamId : undefined;
  }

  revokeTeam(teamId: string): void {
    for (const record of [...this.access.values(), ...this.refresh.values()]) {
      if (record.teamId === teamId) record.revoked = true;
    }
  }

  expire(token: string): void {
    const record = this.access.get(token);
    if (!record) throw new Error("unknown token");
    record.expiresAt = this.clock.now();
  }

  private expiry(): number {
    return this.clock.now() + this.ttlSec * 1000;
  }
}
