import { LogLevel, WebAPIRateLimitedError, WebClient, type Logger, type WebAPICallResult, type WebClientOptions } from "@slack/web-api";
import type { Config } from "../config";
import type { StorageClients } from "../storage/clients";
import { sleep } from "../storage/table";
import { SlackInstallations, wasSwitchedOffByExpiry, type SlackInstallation } from "../storage/slack-installations";

type SlackConfig = NonNullable<Config["slack"]>;

/** Refresh rotating tokens this long before they expire (Slack's InstallProvider uses 2 h), or halfway through a shorter life. */
const REFRESH_WINDOW_MS = 2 * 60 * 60_000;
/** A token this close to expiry is not handed out while another instance refreshes it: wait for the new one. */
const EXPIRY_MARGIN_MS = 30_000;
const REFRESH_LEASE_MS = 30_000;
/** How long a caller waits for another instance's refresh before giving up for now (its caller retries later). */
const REFRESH_WAIT_MS = 45_000;
const REFRESH_POLL_MS = 200;
const SERVED_CACHE_MS = 10_000;
/** An uninstall or a token another instance replaced shows within this long (Slack's own answer ends it sooner). */
const TOKEN_CACHE_MS = 10_000;

/** web-api logs response metadata itself; keep it to warnings and never pass message bodies on. */
const quietLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/**
 * One WebClient per token, tuned for serverless: a 429 is thrown at once (the caller re-queues with the
 * Retry-After delay) instead of pausing this process for minutes, and network errors retry briefly.
 */
export function slackClient(slack: SlackConfig, token?: string, options: { timeoutMs?: number } = {}): WebClient {
  return new ThrottleAwareWebClient(token, clientOptions(slack, options));
}

/** How long to wait after a 429 that gave no usable Retry-After (notes/slack.md §13, as Grafana OnCall does). */
export const RATE_LIMIT_WAIT_WHEN_ABSENT_SECONDS = 10;

/**
 * A 429 whose Retry-After is missing or not a number: @slack/web-api 8.x throws a plain Error for it, not its
 * WebAPIRateLimitedError, and with no `code` (WebClient.makeRequest, "Retry header did not contain a valid timeout").
 */
function isRateLimitWithoutRetryAfter(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error as { code?: unknown }).code === undefined &&
    error.message.startsWith("Retry header did not contain a valid timeout")
  );
}

/**
 * Throws every 429 as the library's WebAPIRateLimitedError (`slack_webapi_rate_limited_error`), a missing Retry-After
 * read as the 10 s default: whoever catches it (posts, updates, thread lines, notices, look-ups, a click's profile
 * read) waits instead of counting a failure.
 */
class ThrottleAwareWebClient extends WebClient {
  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (error) {
      if (isRateLimitWithoutRetryAfter(error)) throw new WebAPIRateLimitedError(RATE_LIMIT_WAIT_WHEN_ABSENT_SECONDS);
      throw error;
    }
  }
}

function clientOptions(slack: SlackConfig, options: { timeoutMs?: number }): WebClientOptions {
  return {
    slackApiUrl: slack.apiUrl,
    rejectRateLimitedCalls: true,
    // No second try inside a call: a chat.postMessage that timed out may have landed, and only the caller can
    // look before posting again (deliver.ts); everything else is retried through its queue.
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 10_000,
    logger: quietLogger,
  };
}

export function isTokenExpired(error: unknown): boolean {
  const e = error as { code?: string; data?: { error?: string } };
  return e?.code === "slack_webapi_platform_error" && e.data?.error === "token_expired";
}

/**
 * A workspace's client that, when Slack answers `token_expired` (a rotating token that lapsed while the app
 * was idle, or one refreshed elsewhere), gets a refreshed token and repeats the call once.
 */
class RenewingWebClient extends ThrottleAwareWebClient {
  constructor(
    token: string,
    options: WebClientOptions,
    private readonly renew: (expiredToken: string) => Promise<string>,
  ) {
    super(token, options);
  }

  override async apiCall(method: string, options: Record<string, unknown> = {}): Promise<WebAPICallResult> {
    try {
      return await super.apiCall(method, options);
    } catch (error) {
      if (!isTokenExpired(error) || options.token) throw error;
      return super.apiCall(method, { ...options, token: await this.renew(this.token!) });
    }
  }
}

/**
 * Slack could not be asked which workspace SLACK_BOT_TOKEN belongs to (`auth.test` failed: the network, an outage, a
 * token Slack refuses). Not "not installed": the caller says Slack couldn't be reached, and asks again next time.
 * The message says why (Slack's error code or HTTP status), never the token.
 */
export class SlackUnreachableError extends Error {
  constructor(readonly reason: string) {
    super(`Slack's auth.test failed (${reason}): the single workspace's id is not known`);
    this.name = "SlackUnreachableError";
  }
}

/** Why a Slack call failed, in words safe to log: Slack's error code, the HTTP status, or the error's code or name. */
export function slackFailureReason(error: unknown): string {
  const e = error as { name?: string; code?: string; statusCode?: number; data?: { error?: string } };
  if (e?.code === "slack_webapi_platform_error" && e.data?.error) return e.data.error;
  if (e?.code === "slack_webapi_http_error" && e.statusCode) return `HTTP ${e.statusCode}`;
  return e?.code ?? e?.name ?? "unknown error";
}

export class SlackNotInstalledError extends Error {
  constructor(
    readonly teamId: string,
    reason: string,
  ) {
    super(`Slack workspace ${teamId}: ${reason}`);
    this.name = "SlackNotInstalledError";
  }
}

/**
 * The bot token for a workspace: the installation's (refreshed when rotation is on and it is about to
 * expire, one refresher at a time), or SLACK_BOT_TOKEN in single-workspace mode.
 */
export class SlackTokens {
  private singleWorkspaceTeam?: Promise<string | undefined>;
  private knownSingleWorkspaceTeam?: string;
  /** Workspaces found served lately: a burst of clicks reads the installation once, an uninstall shows within seconds. */
  private readonly recentlyServed = new Map<string, number>();
  private readonly refreshing = new Map<string, Promise<string>>();
  /** Tokens read lately: a burst of posts and updates reads the installation once. Never kept into the refresh window. */
  private readonly recentTokens = new Map<string, { token: string; until: number }>();

  constructor(
    private readonly slack: SlackConfig,
    private readonly storage: StorageClients,
  ) {}

  /** SLACK_ALLOWED_TEAMS, when set, is the whole list of workspaces the app serves. */
  isAllowed(teamId: string, enterpriseId?: string): boolean {
    const allowed = this.slack.allowedTeams;
    return allowed.length === 0 || allowed.includes(teamId) || (!!enterpriseId && allowed.includes(enterpriseId));
  }

  /**
   * Whether the app serves this workspace, without refreshing a token: what a click or a command needs to
   * know, since answering them needs no Slack token. In single-workspace mode the workspace's id is
   * learnt from Slack (`auth.test`) once per process; `askSlack: false` answers `undefined` until then, and
   * a failed `auth.test` throws SlackUnreachableError (it is asked again next time).
   */
  async serves(teamId: string, options: { askSlack?: boolean } = {}): Promise<boolean | undefined> {
    const servedUntil = this.recentlyServed.get(teamId);
    if (servedUntil && servedUntil > Date.now()) return true;
    const installation = await new SlackInstallations(this.storage).get(teamId);
    if (installation) {
      const served = (installation.active || wasSwitchedOffByExpiry(installation)) && this.isAllowed(teamId, installation.enterpriseId);
      if (served) this.recentlyServed.set(teamId, Date.now() + SERVED_CACHE_MS);
      else this.recentlyServed.delete(teamId);
      return served;
    }
    if (!this.slack.botToken) return false;
    const known = this.knownSingleWorkspaceTeam;
    if (known === undefined && options.askSlack === false) return undefined;
    return (known ?? (await this.askSingleWorkspaceTeamId())) === teamId;
  }

  async forTeam(teamId: string): Promise<string> {
    const recent = this.recentTokens.get(teamId);
    if (recent && recent.until > Date.now()) return recent.token;
    this.recentTokens.delete(teamId);
    const installation = await new SlackInstallations(this.storage).get(teamId);
    if (installation) {
      if (!this.isAllowed(teamId, installation.enterpriseId))
        throw new SlackNotInstalledError(teamId, "this workspace is not in SLACK_ALLOWED_TEAMS");
      if (wasSwitchedOffByExpiry(installation)) return this.refresh(teamId);
      if (!installation.active) throw new SlackNotInstalledError(teamId, `installation inactive (${installation.inactiveReason ?? "uninstalled"})`);
      if (dueForRefresh(installation)) return this.refresh(teamId);
      const refreshFrom = installation.expiresAt ? Date.parse(installation.expiresAt) - refreshWindowMs(installation) : Number.POSITIVE_INFINITY;
      this.recentTokens.set(teamId, { token: installation.botToken, until: Math.min(Date.now() + TOKEN_CACHE_MS, refreshFrom) });
      return installation.botToken;
    }
    // A failed auth.test throws SlackUnreachableError: worth another try, unlike a workspace the app isn't in.
    if (this.slack.botToken && (await this.askSingleWorkspaceTeamId()) === teamId) return this.slack.botToken;
    throw new SlackNotInstalledError(teamId, "the app is not installed in this workspace");
  }

  /**
   * `timeoutMs`: shorter inside a person's click, which Slack wants answered within 3 s. A call Slack answers
   * with `token_expired` is repeated once with a refreshed token.
   */
  async client(teamId: string, options: { timeoutMs?: number } = {}): Promise<WebClient> {
    const token = await this.forTeam(teamId);
    if (token === this.slack.botToken) return slackClient(this.slack, token, options);
    return new RenewingWebClient(token, clientOptions(this.slack, options), (expired) => this.refresh(teamId, expired));
  }

  /** In single-workspace mode the token's own team, asked once per process; undefined while Slack can't be asked. */
  singleWorkspaceTeamId(): Promise<string | undefined> {
    return this.askSingleWorkspaceTeamId().catch(() => undefined);
  }

  /** As `singleWorkspaceTeamId`, but a failed `auth.test` throws SlackUnreachableError (and is asked again next time). */
  private askSingleWorkspaceTeamId(): Promise<string | undefined> {
    if (!this.slack.botToken) return Promise.resolve(undefined);
    this.singleWorkspaceTeam ??= slackClient(this.slack, this.slack.botToken, { timeoutMs: 5_000 })
      .auth.test()
      .then(
        (result) => {
          this.knownSingleWorkspaceTeam = result.team_id as string | undefined;
          return this.knownSingleWorkspaceTeam;
        },
        (error: unknown) => {
          this.singleWorkspaceTeam = undefined;
          throw new SlackUnreachableError(slackFailureReason(error));
        },
      );
    return this.singleWorkspaceTeam;
  }

  /**
   * A usable token after a refresh: one refresh per workspace in this process, and across instances one
   * refresher at a time (a lease on the installation row); everyone else waits for the row to carry the new
   * token. `expiredToken`: Slack just answered `token_expired` for it, whatever the row says about its expiry.
   */
  private refresh(teamId: string, expiredToken?: string): Promise<string> {
    this.recentTokens.delete(teamId);
    let pending = this.refreshing.get(teamId);
    if (!pending) {
      pending = this.refreshOnce(teamId, expiredToken).finally(() => this.refreshing.delete(teamId));
      this.refreshing.set(teamId, pending);
    }
    return pending;
  }

  private async refreshOnce(teamId: string, expiredToken: string | undefined): Promise<string> {
    const installations = new SlackInstallations(this.storage);
    const giveUpAt = Date.now() + REFRESH_WAIT_MS;
    let sawSpentToken = false;
    for (;;) {
      const row = await installations.get(teamId);
      if (!row || (!row.active && !wasSwitchedOffByExpiry(row)))
        throw new SlackNotInstalledError(teamId, `installation inactive (${row?.inactiveReason ?? "removed"})`);
      if (!row.refreshToken) return row.botToken;
      const usable = row.active && row.botToken !== expiredToken && !expiringWithin(row, EXPIRY_MARGIN_MS);
      if (usable && !dueForRefresh(row)) return row.botToken;
      const leased =
        !(row.refreshingUntil && Date.parse(row.refreshingUntil) > Date.now()) &&
        (await installations.tryLeaseRefresh(teamId, row.etag, REFRESH_LEASE_MS));
      if (leased) {
        try {
          return await this.exchange(row);
        } catch (error) {
          await installations.releaseRefreshLease(teamId).catch(() => undefined);
          // Spent by another refresher whose lease ran out: its new token is in the row (or soon will be).
          if (isSpentRefreshToken(error) && !sawSpentToken) {
            sawSpentToken = true;
            continue;
          }
          throw error;
        }
      }
      // Another instance is refreshing: a token with time left serves meanwhile; an expired one is worth nothing.
      if (usable) return row.botToken;
      if (Date.now() > giveUpAt) throw new Error(`Slack workspace ${teamId}: the token refresh by another instance did not finish`);
      await sleep(REFRESH_POLL_MS);
    }
  }

  /** Spends the single-use refresh token (the lease is held) and stores what Slack returns. */
  private async exchange(installation: SlackInstallation): Promise<string> {
    const refreshed = await slackClient(this.slack).oauth.v2.access({
      client_id: this.slack.clientId!,
      client_secret: this.slack.clientSecret!,
      grant_type: "refresh_token",
      refresh_token: installation.refreshToken!,
    });
    const lifetimeSec = refreshed.expires_in ?? 43_200;
    const tokens = {
      botToken: refreshed.access_token!,
      refreshToken: refreshed.refresh_token ?? installation.refreshToken,
      expiresAt: new Date(Date.now() + lifetimeSec * 1000).toISOString(),
      tokenLifetimeSec: lifetimeSec,
    };
    // The old refresh token is spent now: losing the new one would mean reinstalling, so try hard to keep it.
    for (let attempt = 1; ; attempt++) {
      try {
        await new SlackInstallations(this.storage).updateTokens(installation.teamId, tokens);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
        await sleep(200 * attempt);
      }
    }
    return tokens.botToken;
  }
}

/** Slack errors that mean the token ran out and its refresh is under way (or just failed): try again shortly, never uninstall. */
export const TOKEN_RENEWAL_ERRORS: ReadonlySet<string> = new Set(["token_expired", "invalid_refresh_token", "invalid_grant"]);

function isSpentRefreshToken(error: unknown): boolean {
  const slackError = (error as { data?: { error?: string } }).data?.error;
  return slackError === "invalid_refresh_token" || slackError === "invalid_grant";
}

function expiringWithin(installation: SlackInstallation, ms: number): boolean {
  return !!installation.expiresAt && Date.parse(installation.expiresAt) - Date.now() <= ms;
}

/** Inside the refresh window: two hours before expiry, or half the token's life when that is shorter. */
function dueForRefresh(installation: SlackInstallation): boolean {
  if (!installation.refreshToken || !installation.expiresAt) return false;
  return expiringWithin(installation, refreshWindowMs(installation));
}

function refreshWindowMs(installation: SlackInstallation): number {
  return installation.tokenLifetimeSec ? Math.min(REFRESH_WINDOW_MS, (installation.tokenLifetimeSec * 1000) / 2) : REFRESH_WINDOW_MS;
}

/** Who a Slack user is, as `users.info` tells it, for deciding whether they can be a person here. */
export type SlackUserProfile =
  | { kind: "person"; email: string; name?: string }
  /** `no-email`: none, or not confirmed, or not visible to the token (Slack hides it without `users:read.email`). */
  | { kind: "bot" | "deactivated" | "other-workspace" | "no-email"; name?: string }
  | { kind: "not-found" };

/** The fields of a Slack user object (as `users.info` and `user_change` carry it) that say who the user is. */
export interface SlackUserObject {
  id?: string;
  team_id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  is_bot?: boolean;
  is_app_user?: boolean;
  is_email_confirmed?: boolean;
  enterprise_user?: { teams?: string[] };
  profile?: { email?: string; real_name?: string; display_name?: string };
}

/**
 * Reads a user with `users.info` and says whether they are a person of this workspace (`slackPersonOf`).
 * Errors other than `user_not_found` throw.
 */
export async function readSlackUser(client: WebClient, teamId: string, userId: string): Promise<SlackUserProfile> {
  let user;
  try {
    user = (await client.users.info({ user: userId })).user;
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error === "user_not_found") return { kind: "not-found" };
    throw error;
  }
  if (!user) return { kind: "not-found" };
  return slackPersonOf(user, teamId);
}

/**
 * Whether a Slack user is a person of this workspace with an email Slack confirmed: only such an address says who
 * someone is (a profile email alone can be typed in by anyone; a Slack Connect guest belongs to another organisation).
 */
export function slackPersonOf(user: SlackUserObject, teamId: string): Exclude<SlackUserProfile, { kind: "not-found" }> {
  const shown = user.real_name || user.profile?.real_name || user.profile?.display_name || user.name || undefined;
  const name = shown ? { name: shown } : {};
  if (user.is_bot || user.is_app_user || user.id === "USLACKBOT") return { kind: "bot", ...name };
  if (user.deleted) return { kind: "deactivated", ...name };
  // An Enterprise Grid member answers with their home workspace (or none) and lists the org's workspaces they're in.
  const member = !user.team_id || user.team_id === teamId || user.enterprise_user?.teams?.includes(teamId) === true;
  if (!member) return { kind: "other-workspace", ...name };
  const email = user.profile?.email?.toLowerCase();
  if (!email || user.is_email_confirmed !== true) return { kind: "no-email", ...name };
  return { kind: "person", email, ...name };
}

/**
 * What `conversations.info` tells the bot about a conversation. `not-found`: Slack's answer for a private channel
 * (or a direct message) the bot isn't in, and for one that is gone. Other errors (a 429, a token being renewed) throw.
 */
export type SlackChannelInfo =
  | { kind: "found"; isPrivate: boolean; isArchived: boolean; isMember: boolean; isDirect: boolean }
  | { kind: "not-found" };

export async function readSlackChannel(client: WebClient, channel: string): Promise<SlackChannelInfo> {
  let info;
  try {
    info = (await client.conversations.info({ channel })).channel;
  } catch (error) {
    if ((error as { data?: { error?: string } }).data?.error === "channel_not_found") return { kind: "not-found" };
    throw error;
  }
  if (!info) return { kind: "not-found" };
  const isDirect = info.is_im === true || info.is_mpim === true;
  return {
    kind: "found",
    isPrivate: isDirect || info.is_private === true || info.is_group === true,
    isArchived: info.is_archived === true,
    isMember: isDirect || info.is_member === true,
    isDirect,
  };
}
