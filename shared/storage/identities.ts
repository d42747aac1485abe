import type { Person } from "../domain/issue";
import { safeKey, isConflict, isNotFound, isPreconditionFailed, escapeOData, stripUndefined } from "./table";
import { TABLES, type StorageClients } from "./clients";

export type ChatProvider = "msteams" | "slack" | "discord";

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

/**
 * Whose DM a person's Discord notice goes to: a Discord user has one DM with the bot whichever servers they share, so
 * the user linked in the oldest server the app serves (every server when `allowedGuilds` is empty), always the same
 * while the links stay. None when they are linked in no served server.
 */
export function discordDirectMessageIdentity(links: ChatIdentity[], allowedGuilds: string[]): ChatIdentity | undefined {
  return links
    .filter((link) => link.provider === "discord" && (allowedGuilds.length === 0 || allowedGuilds.includes(link.scope)))
    .sort((a, b) => olderSnowflakeFirst(a.scope, b.scope))[0];
}

/** Discord ids grow with time: the shorter is older, and at the same length the smaller. */
function olderSnowflakeFirst(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
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

type Lookup = { identity?: ChatIdentity; optedOut: boolean };

/** What following an automatic link did (`IdentityRepository.followAutoLink`), for the log. */
export type AutoLinkFollowed = "relinked" | "removed" | "unchanged" | "not-auto" | "outdated";

/**
 * How long an instance trusts a link (or an unlink) it read, and the people it listed for the Assign menu:
 * a burst of clicks reads each once. Links and unlinks made in this instance take effect at once (they
 * clear what they change); one made on another instance shows here within this time. "Not linked" is never
 * kept, so someone who just linked themselves elsewhere is never prompted again for it.
 */
export const IDENTITY_CACHE_MS = 10_000;

interface Remembered<T> {
  value: Promise<T>;
  until: number;
}

/** Per storage account (one per instance in production; tests may run several in one process). */
const instanceCaches = new WeakMap<StorageClients, { lookups: Map<string, Remembered<Lookup>>; rosters: Map<string, Remembered<Person[]>> }>();

function instanceCache(storage: StorageClients) {
  let cache = instanceCaches.get(storage);
  if (!cache) {
    cache = { lookups: new Map(), rosters: new Map() };
    instanceCaches.set(storage, cache);
  }
  return cache;
}

/** The remembered value for `key`, or `read()` remembered for IDENTITY_CACHE_MS (unless it fails or `keep` says no). */
function remember<T>(cache: Map<string, Remembered<T>>, key: string, read: () => Promise<T>, keep: (value: T) => boolean = () => true): Promise<T> {
  const found = cache.get(key);
  if (found && found.until > Date.now()) return found.value;
  const value = read();
  const entry = { value, until: Date.now() + IDENTITY_CACHE_MS };
  cache.set(key, entry);
  const drop = () => {
    if (cache.get(key) === entry) cache.delete(key);
  };
  value.then((result) => (keep(result) ? undefined : drop()), drop);
  return value;
}
const emailPartition = (email: string) => `email:${safeKey(email.toLowerCase())}`;

/**
 * Identity rows (provider:scope / chat user) and an index by email (email:<email> / provider:scope),
 * so a delivery "to ana@contoso.com" never iterates over members.
 */
export class IdentityRepository {
  private readonly cache: ReturnType<typeof instanceCache>;

  constructor(private readonly storage: StorageClients) {
    this.cache = instanceCache(storage);
  }

  async get(provider: ChatProvider, scope: string, chatUserId: string): Promise<ChatIdentity | undefined> {
    return (await this.lookup(provider, scope, chatUserId)).identity;
  }

  /**
   * The link, if any, and whether the person unlinked themselves: after `unlink` we no longer link
   * them automatically by email, only by an explicit sign-in.
   */
  lookup(provider: ChatProvider, scope: string, chatUserId: string): Promise<Lookup> {
    const key = `${partition(provider, scope)}/${chatUserId}`;
    return remember(
      this.cache.lookups,
      key,
      () => this.read(provider, scope, chatUserId),
      (found) => !!found.identity || found.optedOut,
    );
  }

  private async read(provider: ChatProvider, scope: string, chatUserId: string): Promise<Lookup> {
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

  /**
   * Links (or relinks) a chat user, replacing whatever is there: for a link the person makes (automatic ones go through
   * `linkAutomatically`, which never replaces one). Returns the person it was linked to before, if any other.
   */
  async link(identity: ChatIdentity): Promise<Person | undefined> {
    const table = await this.storage.table(TABLES.identities);
    // Read afresh, not from what this instance remembers: the old person's email index row goes.
    const previous = (await this.read(identity.provider, identity.scope, identity.chatUserId)).identity;
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
    const previous = (await this.read(provider, scope, chatUserId)).identity;
    const table = await this.storage.table(TABLES.identities);
    await table.upsertEntity<IdentityEntity>(
      { partitionKey: partition(provider, scope), rowKey: safeKey(chatUserId), email: "", how: "unlinked", linkedAt: new Date().toISOString() },
      "Replace",
    );
    if (previous) await this.dropEmailIndex(previous);
    this.forget(provider, scope);
    return previous;
  }

  /**
   * Records an automatic link for a chat user the platform vouched for at `identity.linkedAt`, without ever replacing
   * what is there: a link the person made, or an unlink, stays as it is, and an automatic link already there (another
   * instance linked them first) is followed as `followAutoLink` follows it.
   */
  async linkAutomatically(identity: Omit<ChatIdentity, "how">): Promise<"linked" | AutoLinkFollowed> {
    const table = await this.storage.table(TABLES.identities);
    const email = identity.person.email.toLowerCase();
    try {
      await table.createEntity<IdentityEntity>(
        stripUndefined({
          partitionKey: partition(identity.provider, identity.scope),
          rowKey: safeKey(identity.chatUserId),
          email,
          name: identity.person.name,
          how: "auto" as const,
          linkedAt: identity.linkedAt,
          teamsUserId: identity.teamsUserId,
        }),
      );
    } catch (error) {
      if (!isConflict(error)) throw error;
      return this.followAutoLink(identity.provider, identity.scope, identity.chatUserId, identity.person, identity.linkedAt);
    }
    await table.upsertEntity<EmailIndexEntity>(
      { partitionKey: emailPartition(email), rowKey: partition(identity.provider, identity.scope), chatUserId: identity.chatUserId },
      "Replace",
    );
    this.forget(identity.provider, identity.scope);
    return "linked";
  }

  /**
   * Brings an automatic link in line with the person the platform vouched for at `vouchedAt`: relinked to `person`
   * (its `linkedAt` then `vouchedAt`), or removed (undefined: the account was deactivated, its email is no longer
   * confirmed). Removed, not marked unlinked: should the platform vouch for them again, they are linked again as
   * before. Read afresh and written only if the row is still what was read, so a link the person made, or an unlink,
   * is never touched ("not-auto"), even one made a moment ago on another instance; nor is a link recorded or confirmed
   * at or after `vouchedAt` ("outdated": a late retry of an older change, a read slower than a newer one).
   * `recordCheck`: an unchanged link's `linkedAt` becomes `vouchedAt` too (when it was last confirmed).
   */
  async followAutoLink(
    provider: ChatProvider,
    scope: string,
    chatUserId: string,
    person: Person | undefined,
    vouchedAt: string,
    options: { recordCheck?: boolean } = {},
  ): Promise<AutoLinkFollowed> {
    const table = await this.storage.table(TABLES.identities);
    const partitionKey = partition(provider, scope);
    const rowKey = safeKey(chatUserId);
    for (;;) {
      let current;
      try {
        current = await table.getEntity<IdentityEntity>(partitionKey, rowKey);
      } catch (error) {
        if (isNotFound(error)) return "not-auto";
        throw error;
      }
      if (current.how !== "auto") return "not-auto";
      // A date that can't be read is older than any.
      if (Date.parse(vouchedAt) <= Date.parse(current.linkedAt)) return "outdated";
      const previous = fromEntity(provider, scope, chatUserId, current);
      const email = person?.email.toLowerCase();
      const unchanged = email === current.email && person?.name === current.name;
      if (unchanged && !options.recordCheck) return "unchanged";
      try {
        if (!person || !email) await table.deleteEntity(partitionKey, rowKey, { etag: current.etag });
        else {
          await table.updateEntity<IdentityEntity>(
            stripUndefined({
              partitionKey,
              rowKey,
              email,
              name: person.name,
              how: "auto" as const,
              linkedAt: vouchedAt,
              teamsUserId: current.teamsUserId,
            }),
            "Replace",
            { etag: current.etag },
          );
          if (!unchanged)
            await table.upsertEntity<EmailIndexEntity>({ partitionKey: emailPartition(email), rowKey: partitionKey, chatUserId }, "Replace");
        }
      } catch (error) {
        // Linked or unlinked meanwhile (a sign-in, a click): look again at what the link is now.
        if (isPreconditionFailed(error) || isNotFound(error)) continue;
        throw error;
      }
      if (previous.person.email !== email) await this.dropEmailIndex(previous);
      this.forget(provider, scope);
      if (unchanged) return "unchanged";
      return email ? "relinked" : "removed";
    }
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

  /**
   * The Teams user linked in this tenant whose `29:` id is `teamsUserId` (recorded with automatic links and sign-ins),
   * read afresh: for an event that names a member by that id alone.
   */
  async findTeamsUser(tenantId: string, teamsUserId: string): Promise<ChatIdentity | undefined> {
    const table = await this.storage.table(TABLES.identities);
    const filter = `PartitionKey eq '${escapeOData(partition("msteams", tenantId))}' and teamsUserId eq '${escapeOData(teamsUserId)}'`;
    for await (const row of table.listEntities<IdentityEntity>({ queryOptions: { filter } })) {
      if (row.how !== "unlinked") return fromEntity("msteams", tenantId, decodeURIComponent(row.rowKey), row);
    }
    return undefined;
  }

  /** People linked in one tenant/workspace: the Assign menu's choices. */
  people(provider: ChatProvider, scope: string, limit = 100): Promise<Person[]> {
    const key = `${partition(provider, scope)}/${limit}`;
    return remember(this.cache.rosters, key, () => this.readPeople(provider, scope, limit));
  }

  /** After a link or unlink: what this instance remembers of that tenant/workspace is read again. */
  private forget(provider: ChatProvider, scope: string): void {
    const prefix = `${partition(provider, scope)}/`;
    for (const cache of [this.cache.lookups, this.cache.rosters] as Map<string, unknown>[]) {
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
