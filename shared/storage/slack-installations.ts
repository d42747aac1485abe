import { TABLES, type StorageClients } from "./clients";
import { isNotFound, isPreconditionFailed, stripUndefined, safeKey } from "./table";

/** One Slack workspace that installed the app. Tokens never leave this row except into API calls. */
export interface SlackInstallation {
  teamId: string;
  teamName?: string;
  enterpriseId?: string;
  appId?: string;
  botUserId?: string;
  botToken: string;
  scopes?: string;
  /** With token rotation: the single-use refresh token, when the bot token expires and how long tokens live. */
  refreshToken?: string;
  expiresAt?: string;
  tokenLifetimeSec?: number;
  installedBy?: string;
  active: boolean;
  inactiveReason?: string;
  updatedAt: string;
}

interface SlackInstallationEntity extends Omit<SlackInstallation, "teamId"> {
  partitionKey: string;
  rowKey: string;
  etag?: string;
  refreshingUntil?: string;
}

/** The workspace's own row in its partition; the others are its channels (slack-channels.ts). */
export const SLACK_WORKSPACE_ROW = "workspace";
const ROW = SLACK_WORKSPACE_ROW;
/** The workspace's partition of the `installations` table: its installation (row `workspace`) and its channels' state. */
export const slackWorkspacePartition = (teamId: string) => `slack:${safeKey(teamId)}`;
const partition = slackWorkspacePartition;

export class SlackInstallations {
  constructor(private readonly storage: StorageClients) {}

  async get(teamId: string): Promise<(SlackInstallation & { etag: string; refreshingUntil?: string }) | undefined> {
    const table = await this.storage.table(TABLES.installations);
    try {
      const entity = await table.getEntity<SlackInstallationEntity>(partition(teamId), ROW);
      const { partitionKey: _p, rowKey: _r, timestamp: _t, ...rest } = entity as SlackInstallationEntity & { timestamp?: string };
      return { ...(rest as Omit<SlackInstallation, "teamId">), teamId, etag: entity.etag! };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async save(installation: SlackInstallation): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    const { teamId, etag: _etag, refreshingUntil: _lease, ...rest } = installation as SlackInstallation & { etag?: string; refreshingUntil?: string };
    await table.upsertEntity<SlackInstallationEntity>(
      stripUndefined({ partitionKey: partition(teamId), rowKey: ROW, ...rest, refreshingUntil: "" }),
      "Replace",
    );
  }

  /**
   * Stores refreshed tokens, leaving everything else (an uninstall meanwhile, say) as it is, except that an
   * installation switched off only because its token had expired is active again: the new token works.
   */
  async updateTokens(
    teamId: string,
    tokens: { botToken: string; refreshToken?: string; expiresAt?: string; tokenLifetimeSec?: number },
  ): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    for (;;) {
      const current = await this.get(teamId);
      if (!current) throw new Error(`Slack installation ${teamId} disappeared during a token refresh`);
      const revive = !current.active && wasSwitchedOffByExpiry(current) ? { active: true, inactiveReason: "" } : {};
      try {
        await table.updateEntity(
          stripUndefined({
            partitionKey: partition(teamId),
            rowKey: ROW,
            ...tokens,
            ...revive,
            refreshingUntil: "",
            updatedAt: new Date().toISOString(),
          }),
          "Merge",
          { etag: current.etag },
        );
        return;
      } catch (error) {
        if (!isPreconditionFailed(error)) throw error;
      }
    }
  }

  /**
   * Switches the installation off. `happenedAt`: when Slack says the uninstall or revocation happened; one from
   * before the installation's last install or update (a re-install since, with Slack still retrying the event) is
   * ignored. Slack's `event_time` counts whole seconds, so only an earlier second is "before". False when nothing
   * was switched off.
   */
  async deactivate(teamId: string, reason: string, options: { happenedAt?: Date } = {}): Promise<boolean> {
    const table = await this.storage.table(TABLES.installations);
    const change = { partitionKey: partition(teamId), rowKey: ROW, active: false, inactiveReason: reason, updatedAt: new Date().toISOString() };
    const happenedAt = options.happenedAt?.getTime();
    for (;;) {
      let etag = "*";
      if (happenedAt !== undefined) {
        const current = await this.get(teamId);
        if (!current) return false;
        if (Math.floor(happenedAt / 1000) < Math.floor(Date.parse(current.updatedAt) / 1000)) return false;
        etag = current.etag;
      }
      try {
        await table.updateEntity(change, "Merge", { etag });
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        // Saved meanwhile (a re-install, a token refresh): look again at which came last.
        if (!isPreconditionFailed(error)) throw error;
      }
    }
  }

  /** Gives the refresh up (it failed) so that the next caller may try at once. */
  async releaseRefreshLease(teamId: string): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    await table.updateEntity({ partitionKey: partition(teamId), rowKey: ROW, refreshingUntil: "" }, "Merge");
  }

  /**
   * Takes the right to refresh this installation's token for `leaseMs`: a conditional write on the
   * row's ETag, so of two instances racing only one spends the single-use refresh token.
   */
  async tryLeaseRefresh(teamId: string, etag: string, leaseMs: number): Promise<boolean> {
    const table = await this.storage.table(TABLES.installations);
    try {
      await table.updateEntity(
        { partitionKey: partition(teamId), rowKey: ROW, refreshingUntil: new Date(Date.now() + leaseMs).toISOString() },
        "Merge",
        { etag },
      );
      return true;
    } catch (error) {
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }
}

/**
 * An expired token is not an uninstall, but earlier versions switched installations off for `token_expired`:
 * such an installation is still installed, and a token refresh brings it back.
 */
export function wasSwitchedOffByExpiry(installation: Pick<SlackInstallation, "active" | "inactiveReason" | "refreshToken">): boolean {
  return !installation.active && !!installation.refreshToken && /token_expired/.test(installation.inactiveReason ?? "");
}
