import { escapeOData, getIfPresent, isNotFound, safeKey, stripUndefined } from "./table";
import { TABLES, type StorageClients } from "./clients";

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
  /** Off because the conversation itself is gone (deleted; Teams answered 404): the bot's return doesn't bring it back. */
  gone?: boolean;
  updatedAt: string;
}

interface InstallationEntity extends Omit<TeamsInstallation, "tenantId" | "conversationId"> {
  partitionKey: string;
  rowKey: string;
}

const teamsPartition = (tenantId: string) => `msteams:${safeKey(tenantId)}`;

/**
 * Conversation references this instance read lately, by conversation id: a fan-out to many channels reads
 * them once. A reference saved or deactivated here is forgotten at once; a change made by another instance
 * shows within REFERENCE_CACHE_MS (a post to a conversation the bot left fails, and deactivates it, meanwhile).
 * "No such conversation" is never kept: a new install works at once.
 */
export const REFERENCE_CACHE_MS = 60_000;
const referenceCaches = new WeakMap<StorageClients, Map<string, { reference: TeamsInstallation; until: number }>>();

function referenceCache(storage: StorageClients): Map<string, { reference: TeamsInstallation; until: number }> {
  let cache = referenceCaches.get(storage);
  if (!cache) {
    cache = new Map();
    referenceCaches.set(storage, cache);
  }
  return cache;
}

/** Azure Tables allows at most 15 comparisons in a filter: 2 bound the partitions, the rest name conversations. */
const CONVERSATIONS_PER_QUERY = 13;

export class TeamsInstallations {
  constructor(private readonly storage: StorageClients) {}

  /** Stores or refreshes a reference (what it leaves out stays as stored); an active one loses its old inactive reason. */
  async save(installation: TeamsInstallation): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    referenceCache(this.storage).delete(installation.conversationId);
    const { tenantId, conversationId, ...rest } = installation;
    await table.upsertEntity<InstallationEntity>(
      stripUndefined({
        partitionKey: teamsPartition(tenantId),
        rowKey: safeKey(conversationId),
        ...rest,
        // A merge can't remove a property: an empty reason is read as none.
        inactiveReason: rest.active ? "" : rest.inactiveReason,
        gone: rest.active ? false : rest.gone,
      }),
      "Merge",
    );
  }

  /** Switches a stored conversation back on, at the service URL given (one an inbound activity just vouched for). */
  async reactivate(tenantId: string, conversationId: string, serviceUrl: string): Promise<void> {
    await this.changeIfStored(tenantId, conversationId, { serviceUrl, active: true, inactiveReason: "", gone: false });
  }

  async get(tenantId: string, conversationId: string): Promise<TeamsInstallation | undefined> {
    const table = await this.storage.table(TABLES.installations);
    const entity = await getIfPresent<InstallationEntity>(table, teamsPartition(tenantId), safeKey(conversationId));
    return entity && fromEntity(entity);
  }

  /** A channel conversation id is globally unique, so alerts address it without a tenant. */
  async findConversation(conversationId: string): Promise<TeamsInstallation | undefined> {
    const cache = referenceCache(this.storage);
    const cached = cache.get(conversationId);
    if (cached && cached.until > Date.now()) return cached.reference;
    const reference = await this.first(
      `RowKey eq '${escapeOData(safeKey(conversationId))}' and PartitionKey ge 'msteams:' and PartitionKey lt 'msteams;'`,
    );
    this.remember(reference);
    return reference;
  }

  /** Reads the references of these conversations not remembered yet, several per query, so `findConversation` finds them. */
  async prefetchConversations(conversationIds: string[]): Promise<void> {
    const cache = referenceCache(this.storage);
    const now = Date.now();
    const wanted = [...new Set(conversationIds)].filter((id) => !((cache.get(id)?.until ?? 0) > now));
    for (let start = 0; start < wanted.length; start += CONVERSATIONS_PER_QUERY) {
      const names = wanted.slice(start, start + CONVERSATIONS_PER_QUERY).map((id) => `RowKey eq '${escapeOData(safeKey(id))}'`);
      const found = await this.all(`(${names.join(" or ")}) and PartitionKey ge 'msteams:' and PartitionKey lt 'msteams;'`);
      for (const reference of found) this.remember(reference);
    }
  }

  private remember(reference: TeamsInstallation | undefined): void {
    if (reference) referenceCache(this.storage).set(reference.conversationId, { reference, until: Date.now() + REFERENCE_CACHE_MS });
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

  /** The tenant's teams the bot is in (a channel of theirs is active), each once, with a service URL that reaches it. */
  async activeTeams(tenantId: string): Promise<{ teamId: string; serviceUrl: string }[]> {
    // Every row: a team missed would count as one the member is not in.
    const rows = await this.all(
      `PartitionKey eq '${escapeOData(teamsPartition(tenantId))}' and active eq true and conversationType eq 'channel'`,
      Number.POSITIVE_INFINITY,
    );
    const teams = new Map<string, string>();
    for (const row of rows) if (row.teamId && !teams.has(row.teamId)) teams.set(row.teamId, row.serviceUrl);
    return [...teams].map(([teamId, serviceUrl]) => ({ teamId, serviceUrl }));
  }

  async listTeam(tenantId: string, teamId: string): Promise<TeamsInstallation[]> {
    return this.all(`PartitionKey eq '${escapeOData(teamsPartition(tenantId))}' and teamId eq '${escapeOData(teamId)}'`);
  }

  /** Switches a conversation off; `gone`: because it no longer exists (deleted, or Teams answered 404), not only the bot left it. */
  async deactivate(tenantId: string, conversationId: string, reason: string, { gone }: { gone?: boolean } = {}): Promise<void> {
    await this.changeIfStored(tenantId, conversationId, { active: false, inactiveReason: reason, gone: gone ?? goneByReason(reason) });
  }

  /** Merges `changes` into a stored conversation's row; one never stored stays so. */
  private async changeIfStored(tenantId: string, conversationId: string, changes: Partial<InstallationEntity>): Promise<void> {
    const table = await this.storage.table(TABLES.installations);
    referenceCache(this.storage).delete(conversationId);
    try {
      const row = { partitionKey: teamsPartition(tenantId), rowKey: safeKey(conversationId), ...changes, updatedAt: new Date().toISOString() };
      await table.updateEntity(row, "Merge");
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
  const {
    partitionKey,
    rowKey,
    etag: _etag,
    timestamp: _timestamp,
    inactiveReason,
    gone,
    ...rest
  } = entity as InstallationEntity & {
    etag?: string;
    timestamp?: string;
  };
  return {
    ...rest,
    ...(inactiveReason ? { inactiveReason } : {}),
    ...(!rest.active && (gone ?? goneByReason(inactiveReason)) ? { gone: true } : {}),
    tenantId: decodeURIComponent(partitionKey.slice("msteams:".length)),
    conversationId: decodeURIComponent(rowKey),
  } as TeamsInstallation;
}

/**
 * Whether a reason alone says the conversation is gone: for rows written before `gone` was stored, and for callers
 * that don't pass it (the connector's "HTTP 404 …" reasons, shared/delivery/teams-sender.ts, shared/teams/personal-chat.ts).
 */
function goneByReason(reason: string | undefined): boolean {
  return reason === "channel deleted" || /^HTTP 404\b/.test(reason ?? "");
}
