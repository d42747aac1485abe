import type { Person } from "../domain/issue";
import { safeKey } from "../delivery/deliveries";
import { TABLES, type StorageClients } from "../storage/clients";
import { isNotFound } from "../storage/errors";
import { escapeOData, stripUndefined } from "../storage/issues";

export type ChatProvider = "msteams" | "slack";

/** A chat user (in one Teams tenant or Slack workspace) linked to a person. */
export interface ChatIdentity {
  provider: ChatProvider;
  /** Teams tenant id, or Slack team id. */
  scope: string;
  /** Teams: the user's Entra object id; Slack: the user id. */
  chatUserId: string;
  person: Person;
  how: "auto" | "explicit";
  linkedAt: string;
  /** Teams: the `29:` id used to address the user in a conversation. */
  teamsUserId?: string;
}

interface IdentityEntity {
  partitionKey: string;
  rowKey: string;
  email: string;
  name?: string;
  how: ChatIdentity["how"] | "unlinked";
  linkedAt: string;
  teamsUserId?: string;
}

interface EmailIndexEntity {
  partitionKey: string;
  rowKey: string;
  chatUserId: string;
}

const partition = (provider: ChatProvider, scope: string) => `${provider}:${safeKey(scope)}`;
const emailPartition = (email: string) => `email:${safeKey(email.toLowerCase())}`;

/**
 * Identity rows (provider:scope / chat user) and an index by email (email:<email> / provider:scope),
 * so a delivery "to ana@contoso.com" never iterates over members.
 */
export class IdentityRepository {
  /** Cached for the life of this repository: make one per invocation, so every lookup in it reads once. */
  private readonly lookups = new Map<string, Promise<{ identity?: ChatIdentity; optedOut: boolean }>>();
  private readonly rosters = new Map<string, Promise<Person[]>>();

  constructor(private readonly storage: StorageClients) {}

  async get(provider: ChatProvider, scope: string, chatUserId: string): Promise<ChatIdentity | undefined> {
    return (await this.lookup(provider, scope, chatUserId)).identity;
  }

  /**
   * The link, if any, and whether the person unlinked themselves: after `unlink` we no longer link
   * them automatically by email, only by an explicit sign-in.
   */
  lookup(provider: ChatProvider, scope: string, chatUserId: string): Promise<{ identity?: ChatIdentity; optedOut: boolean }> {
    const key = `${partition(provider, scope)}/${chatUserId}`;
    let found = this.lookups.get(key);
    if (!found) {
      found = this.read(provider, scope, chatUserId);
      found.catch(() => this.lookups.delete(key));
      this.lookups.set(key, found);
    }
    return found;
  }

  private async read(provider: ChatProvider, scope: string, chatUserId: string): Promise<{ identity?: ChatIdentity; optedOut: boolean }> {
    const table = await this.storage.table(TABLES.identities);
    try {
      const entity = await table.getEntity<IdentityEntity>(partition(provider, scope), safeKey(chatUserId));
      if (entity.how === "unlinked") return { optedOut: true };
      return { identity: fromEntity(provider, scope, chatUserId, entity), optedOut: false };
    } catch (error) {
      if (isNotFound(error)) return { optedOut: false };
      throw error;
    }
  }

  /** Links (or relinks) a chat user; returns the person it was linked to before, if any other. */
  async link(identity: ChatIdentity): Promise<Person | undefined> {
    const table = await this.storage.table(TABLES.identities);
    const previous = await this.get(identity.provider, identity.scope, identity.chatUserId);
    const email = identity.person.email.toLowerCase();
    await table.upsertEntity<IdentityEntity>(
      stripUndefined({
        partitionKey: partition(identity.provider, identity.scope),
        rowKey: safeKey(identity.chatUserId),
        email,
        name: identity.person.name,
        how: identity.how,
        linkedAt: identity.linkedAt,
        teamsUserId: identity.teamsUserId,
      }),
      "Replace",
    );
    await table.upsertEntity<EmailIndexEntity>(
      { partitionKey: emailPartition(email), rowKey: partition(identity.provider, identity.scope), chatUserId: identity.chatUserId },
      "Replace",
    );
    if (previous && previous.person.email !== email) await this.dropEmailIndex(previous);
    this.forget(identity.provider, identity.scope);
    return previous && previous.person.email !== email ? previous.person : undefined;
  }

  /** Removes the link and remembers the choice, so the person is not linked again automatically. */
  async unlink(provider: ChatProvider, scope: string, chatUserId: string): Promise<ChatIdentity | undefined> {
    const previous = await this.get(provider, scope, chatUserId);
    const table = await this.storage.table(TABLES.identities);
    await table.upsertEntity<IdentityEntity>(
      { partitionKey: partition(provider, scope), rowKey: safeKey(chatUserId), email: "", how: "unlinked", linkedAt: new Date().toISOString() },
      "Replace",
    );
    if (previous) await this.dropEmailIndex(previous);
    this.forget(provider, scope);
    return previous;
  }

  /** The chat users linked to this email on one provider, one per tenant/workspace. */
  async findByEmail(email: string, provider: ChatProvider): Promise<ChatIdentity[]> {
    const table = await this.storage.table(TABLES.identities);
    const found: ChatIdentity[] = [];
    for await (const row of table.listEntities<EmailIndexEntity>({
      queryOptions: { filter: `PartitionKey eq '${escapeOData(emailPartition(email))}'` },
    })) {
      const [rowProvider, ...scopeParts] = row.rowKey.split(":");
      if (rowProvider !== provider) continue;
      const identity = await this.get(provider, decodeURIComponent(scopeParts.join(":")), row.chatUserId);
      if (identity && identity.person.email === email.toLowerCase()) found.push(identity);
    }
    return found;
  }

  /** People linked in one tenant/workspace: the Assign menu's choices. */
  people(provider: ChatProvider, scope: string, limit = 100): Promise<Person[]> {
    const key = `${partition(provider, scope)}/${limit}`;
    let roster = this.rosters.get(key);
    if (!roster) {
      roster = this.readPeople(provider, scope, limit);
      roster.catch(() => this.rosters.delete(key));
      this.rosters.set(key, roster);
    }
    return roster;
  }

  private forget(provider: ChatProvider, scope: string): void {
    const prefix = `${partition(provider, scope)}/`;
    for (const cache of [this.lookups, this.rosters] as Map<string, unknown>[]) {
      for (const key of cache.keys()) if (key.startsWith(prefix)) cache.delete(key);
    }
  }

  private async readPeople(provider: ChatProvider, scope: string, limit: number): Promise<Person[]> {
    const table = await this.storage.table(TABLES.identities);
    const people = new Map<string, Person>();
    for await (const row of table.listEntities<IdentityEntity>({
      queryOptions: { filter: `PartitionKey eq '${escapeOData(partition(provider, scope))}' and how ne 'unlinked'` },
    })) {
      people.set(row.email, stripUndefined({ email: row.email, name: row.name }));
      if (people.size >= limit) break;
    }
    return [...people.values()].sort((a, b) => (a.name ?? a.email).localeCompare(b.name ?? b.email));
  }

  private async dropEmailIndex(identity: ChatIdentity): Promise<void> {
    const table = await this.storage.table(TABLES.identities);
    try {
      await table.deleteEntity(emailPartition(identity.person.email), partition(identity.provider, identity.scope));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}

function fromEntity(provider: ChatProvider, scope: string, chatUserId: string, entity: IdentityEntity): ChatIdentity {
  return stripUndefined({
    provider,
    scope,
    chatUserId,
    person: stripUndefined({ email: entity.email, name: entity.name }),
    how: entity.how as ChatIdentity["how"],
    linkedAt: entity.linkedAt,
    teamsUserId: entity.teamsUserId,
  });
}
