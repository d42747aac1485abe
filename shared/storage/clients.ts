import { TableClient, TableServiceClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { Config } from "../config";
import { lazyCredential } from "../lazy-credential";

export type StorageConfig = Config["storage"];

/** The queue and table names are part of the operators' contract (ARCHITECTURE.md). */
export const QUEUES = {
  alerts: "alerts",
  deliveries: "deliveries",
  cardRefresh: "card-refresh",
  issueEvents: "issue-events",
  /** Pages of a Teams team's roster still to read (auto-linking at install). */
  memberSync: "member-sync",
  /** Slack clicks that need Slack's API first (a first-contact profile read): finished off the 3-second path. */
  slackActions: "slack-actions",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const TABLES = {
  issues: "issues",
  activities: "activities",
  cards: "cards",
  deliveries: "deliveries",
  installations: "installations",
  identities: "identities",
  subscriptions: "subscriptions",
  linkTokens: "linktokens",
  events: "events",
  /** One heartbeat row per instance that sends to the platforms: how many share the rate limits (docs/pacing.md). */
  instances: "instances",
  /** One row per project: its releases in the order it first reported them (regression decisions, release notices). */
  releases: "releases",
} as const;
export type TableName = (typeof TABLES)[keyof typeof TABLES];

/**
 * Builds storage clients from either a connection string (Azurite, keys) or an account name and a
 * managed identity, the way the Functions host reads `AzureWebJobsStorage__*`.
 */
export class StorageClients {
  private readonly tables = new Map<string, Promise<TableClient>>();
  private readonly queues = new Map<string, Promise<QueueClient>>();
  private readonly credential?: TokenCredential;

  constructor(
    private readonly storage: StorageConfig,
    env: Record<string, string | undefined> = process.env,
  ) {
    if (storage.kind === "identity") this.credential = identityCredential(storage.clientId, env);
  }

  /** A client for the table, created on first use in this process. */
  table(name: TableName): Promise<TableClient> {
    let client = this.tables.get(name);
    if (!client) {
      const table = this.tableClient(name);
      client = table.createTable().then(() => table);
      client.catch(() => this.tables.delete(name));
      this.tables.set(name, client);
    }
    return client;
  }

  /** A client for the queue, created on first use in this process. */
  queue(name: string): Promise<QueueClient> {
    let client = this.queues.get(name);
    if (!client) {
      const queue = this.queueService().getQueueClient(name);
      client = queue.createIfNotExists().then(() => queue);
      client.catch(() => this.queues.delete(name));
      this.queues.set(name, client);
    }
    return client;
  }

  tableClient(name: string): TableClient {
    const storage = this.storage;
    if (storage.kind === "connectionString") {
      return TableClient.fromConnectionString(storage.connectionString, name, { allowInsecureConnection: true });
    }
    return new TableClient(`https://${storage.accountName}.table.core.windows.net`, name, this.credential!);
  }

  tableService(): TableServiceClient {
    const storage = this.storage;
    if (storage.kind === "connectionString") {
      return TableServiceClient.fromConnectionString(storage.connectionString, { allowInsecureConnection: true });
    }
    return new TableServiceClient(`https://${storage.accountName}.table.core.windows.net`, this.credential!);
  }

  queueService(): QueueServiceClient {
    const storage = this.storage;
    if (storage.kind === "connectionString") return QueueServiceClient.fromConnectionString(storage.connectionString);
    return new QueueServiceClient(`https://${storage.accountName}.queue.core.windows.net`, this.credential!);
  }

  /**
   * Whether storage answers the app, within `timeoutMs` (rejects when it doesn't): one call on a queue and one on a
   * table the app owns, as its functions make them. Not the service properties: in Azure those need
   * queueServices/read and tableServices/read (control-plane actions), which the app's data roles (Storage
   * Queue/Table Data Contributor) don't grant, so an identity-based app would always look unreachable.
   */
  async probe(timeoutMs: number): Promise<void> {
    const calls = Promise.all([this.queue(QUEUES.alerts), this.table(TABLES.issues)]).then(([alerts, issues]) =>
      Promise.all([
        alerts.getProperties(),
        issues
          .listEntities({ queryOptions: { select: ["RowKey"] } })
          .byPage({ maxPageSize: 1 })
          .next(),
      ]),
    );
    await withTimeout(calls, timeoutMs);
  }

  /** Puts JSON on a queue the way the Functions host reads it: base64 text. */
  async send(queueName: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    const queue = await this.queue(queueName);
    const text = Buffer.from(JSON.stringify(body), "utf8").toString("base64");
    await queue.sendMessage(text, options.delaySeconds ? { visibilityTimeout: Math.ceil(options.delaySeconds) } : undefined);
  }
}

/**
 * `AzureWebJobsStorage__credential=managedidentity` (what Azure sets) means exactly a managed identity:
 * ManagedIdentityCredential is deterministic where DefaultAzureCredential walks a chain of guesses.
 * Without it (a developer's machine) the default chain applies.
 */
export function identityCredential(clientId: string | undefined, env: Record<string, string | undefined>): TokenCredential {
  return lazyCredential((identity) => createIdentityCredential(identity, clientId, env));
}

export function createIdentityCredential(
  identity: typeof import("@azure/identity"),
  clientId: string | undefined,
  env: Record<string, string | undefined>,
): TokenCredential {
  if ((env.AzureWebJobsStorage__credential ?? "").toLowerCase() === "managedidentity") {
    return clientId ? new identity.ManagedIdentityCredential({ clientId }) : new identity.ManagedIdentityCredential();
  }
  return new identity.DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : undefined);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}
