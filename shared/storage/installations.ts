import { safeKey } from "../delivery/deliveries";
import { TABLES, type StorageClients } from "./clients";
import { isNotFound } from "./errors";
import { escapeOData, stripUndefined } from "./issues";

export type TeamsConversationType = "personal" | "channel" | "groupChat";

/** Where the bot can post in Teams: a conversation reference from an authenticated inbound activity. */
export interface TeamsInstallation {
  tenantId: string;
  conversationId: string;
  serviceUrl: string;
  conversationType: TeamsConversationType;
  teamId?: string;
  teamName?: string;
  channelName?: string;
  /** For personal chats: the user's Entra object id. */
  userAadObjectId?: string;
  active: boolean;
  inactiveReason?: string;
  updatedAt: string;
}

interface InstallationEntity extends Omit<TeamsInstallation, "tenantId" | "conversationId"> {
  partitionKey: string;
  rowKey: string;
}

const teamsPartition = (tenantId: string) => `msteams:${safeKey(tenantId)}`;

export class TeamsInstallations {
  constructor(private readonly storage: StorageClients) {}

  /** Stores or refreshes a reference; `overwrite: false` keeps an existing row as it is (a plain message). */
  async save(installation: TeamsInstallation, options: { overwrite?: boolean } = {}): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    if (options.overwrite === false && (await this.get(installation.tenantId, installation.conversationId))) return;
    const { tenantId, conversationId, ...rest } = installation;
    await table.upsertEntity<InstallationEntity>(
      stripUndefined({ partitionKey: teamsPartition(tenantId), rowKey: safeKey(conversationId), ...rest }),
      "Merge",
    );
  }

  async get(tenantId: string, conversationId: string): Promise<TeamsInstallation | undefined> {
    const table = await this.storage.table(TABLES.installations);
    try {
      return fromEntity(await table.getEntity<InstallationEntity>(teamsPartition(tenantId), safeKey(conversationId)));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** A channel conversation id is globally unique, so alerts address it without a tenant. */
  async findConversation(conversationId: string): Promise<TeamsInstallation | undefined> {
    return this.first(`RowKey eq '${escapeOData(safeKey(conversationId))}' and PartitionKey ge 'msteams:' and PartitionKey lt 'msteams;'`);
  }

  async findPersonal(tenantId: string, aadObjectId: string): Promise<TeamsInstallation | undefined> {
    return this.first(
      `PartitionKey eq '${escapeOData(teamsPartition(tenantId))}' and userAadObjectId eq '${escapeOData(aadObjectId)}' and conversationType eq 'personal'`,
    );
  }

  /** Any active reference in the tenant: its service URL reaches that tenant's region. */
  async anyInTenant(tenantId: string): Promise<TeamsInstallation | undefined> {
    return this.first(`PartitionKey eq '${escapeOData(teamsPartition(tenantId))}' and active eq true`);
  }

  async listTeam(tenantId: string, teamId: string): Promise<TeamsInstallation[]> {
    return this.all(`PartitionKey eq '${escapeOData(teamsPartition(tenantId))}' and teamId eq '${escapeOData(teamId)}'`);
  }

  async deactivate(tenantId: string, conversationId: string, reason: string): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    try {
      await table.updateEntity(
        { partitionKey: teamsPartition(tenantId), rowKey: safeKey(conversationId), active: false, inactiveReason: reason, updatedAt: new Date().toISOString() },
        "Merge",
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private async first(filter: string): Promise<TeamsInstallation | undefined> {
    const rows = await this.all(filter, 1);
    return rows[0];
  }

  private async all(filter: string, limit = 1000): Promise<TeamsInstallation[]> {
    const table = await this.storage.table(TABLES.installations);
    const rows: TeamsInstallation[] = [];
    for await (const entity of table.listEntities<InstallationEntity>({ queryOptions: { filter } })) {
      rows.push(fromEntity(entity));
      if (rows.length >= limit) break;
    }
    return rows;
  }
}

function fromEntity(entity: InstallationEntity): TeamsInstallation {
  const { partitionKey, rowKey, etag: _etag, timestamp: _timestamp, ...rest } = entity as InstallationEntity & { etag?: string; timestamp?: string };
  return {
    ...rest,
    tenantId: decodeURIComponent(partitionKey.slice("msteams:".length)),
    conversationId: decodeURIComponent(rowKey),
  } as TeamsInstallation;
}
