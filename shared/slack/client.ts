import { LogLevel, WebClient, type Logger } from "@slack/web-api";
import type { Config } from "../config";
import type { StorageClients } from "../storage/clients";
import { sleep } from "../storage/errors";
import { SlackInstallations, type SlackInstallation } from "./installations";

type SlackConfig = NonNullable<Config["slack"]>;

/** Refresh rotating tokens this long before they expire (Slack's InstallProvider uses 2 h). */
const REFRESH_WINDOW_MS = 2 * 60 * 60_000;
const REFRESH_LEASE_MS = 30_000;

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
  return new WebClient(token, {
    slackApiUrl: slack.apiUrl,
    rejectRateLimitedCalls: true,
    // No second try inside a call: a chat.postMessage that timed out may have landed, and only the caller can
    // look before posting again (deliver.ts); everything else is retried through its queue.
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 10_000,
    logger: quietLogger,
  });
}

export class SlackNotInstalledError extends Error {
  constructor(readonly teamId: string, reason: string) {
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
   * Whether the app serves this workspace, from storage alone (no token refresh): what a click needs
   * to know before it is applied, since applying it needs no Slack token.
   */
  async serves(teamId: string): Promise<boolean> {
    const installation = await new SlackInstallations(this.storage).get(teamId);
    if (installation) return installation.active && this.isAllowed(teamId, installation.enterpriseId);
    return !!this.slack.botToken && (await this.singleWorkspaceTeamId()) === teamId;
  }

  async forTeam(teamId: string): Promise<string> {
    const installation = await new SlackInstallations(this.storage).get(teamId);
    if (installation) {
      if (!this.isAllowed(teamId, installation.enterpriseId)) throw new SlackNotInstalledError(teamId, "this workspace is not in SLACK_ALLOWED_TEAMS");
      if (!installation.active) throw new SlackNotInstalledError(teamId, `installation inactive (${installation.inactiveReason ?? "uninstalled"})`);
      return this.fresh(installation);
    }
    if (this.slack.botToken && (await this.singleWorkspaceTeamId()) === teamId) return this.slack.botToken;
    throw new SlackNotInstalledError(teamId, "the app is not installed in this workspace");
  }

  /** `timeoutMs`: shorter inside a person's click, which Slack wants answered within 3 s. */
  async client(teamId: string, options: { timeoutMs?: number } = {}): Promise<WebClient> {
    return slackClient(this.slack, await this.forTeam(teamId), options);
  }

  /** In single-workspace mode the token's own team, asked once per process. */
  singleWorkspaceTeamId(): Promise<string | undefined> {
    if (!this.slack.botToken) return Promise.resolve(undefined);
    this.singleWorkspaceTeam ??= slackClient(this.slack, this.slack.botToken)
      .auth.test()
      .then((result) => result.team_id as string | undefined)
      .catch(() => {
        this.singleWorkspaceTeam = undefined;
        return undefined;
      });
    return this.singleWorkspaceTeam;
  }

  private async fresh(installation: SlackInstallation & { etag: string; refreshingUntil?: string }): Promise<string> {
    if (!installation.refreshToken || !installation.expiresAt) return installation.botToken;
    if (Date.parse(installation.expiresAt) - Date.now() > REFRESH_WINDOW_MS) return installation.botToken;
    const installations = new SlackInstallations(this.storage);
    const leased =
      !(installation.refreshingUntil && Date.parse(installation.refreshingUntil) > Date.now()) &&
      (await installations.tryLeaseRefresh(installation.teamId, installation.etag, REFRESH_LEASE_MS));
    if (!leased) {
      // Another instance is refreshing: its new token lands in the row shortly; the current one still works until expiry.
      await sleep(500);
      const latest = await installations.get(installation.teamId);
      return latest?.botToken ?? installation.botToken;
    }
    const refreshed = await slackClient(this.slack).oauth.v2.access({
      client_id: this.slack.clientId!,
      client_secret: this.slack.clientSecret!,
      grant_type: "refresh_token",
      refresh_token: installation.refreshToken,
    });
    const tokens = {
      botToken: refreshed.access_token!,
      refreshToken: refreshed.refresh_token ?? installation.refreshToken,
      expiresAt: new Date(Date.now() + (refreshed.expires_in ?? 43_200) * 1000).toISOString(),
    };
    // The old refresh token is spent now: losing the new one would mean reinstalling, so try hard to keep it.
    for (let attempt = 1; ; attempt++) {
      try {
        await installations.updateTokens(installation.teamId, tokens);
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
        await sleep(200 * attempt);
      }
    }
    return tokens.botToken;
  }
}
