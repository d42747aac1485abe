import type { AlertTarget } from "../domain/alert";
import { LEVELS, type Issue, type Level } from "../domain/issue";
import { TABLES, type StorageClients } from "../storage/clients";
import { safeKey } from "../delivery/deliveries";
import { escapeOData } from "../storage/issues";

export interface Subscription {
  /** `msteams:<conversationId>` or `slack:<teamId>:<channelId>` */
  conversationKey: string;
  project: string;
  minLevel: Level;
  target: AlertTarget;
  createdBy?: string;
}

interface SubscriptionEntity {
  partitionKey: string;
  rowKey: string;
  minLevel: string;
  target: string;
  createdBy?: string;
}

export async function subscribe(storage: StorageClients, subscription: Subscription): Promise<void> {
  const table = await storage.table(TABLES.subscriptions);
  await table.upsertEntity<SubscriptionEntity>(
    {
      partitionKey: subscription.conversationKey,
      rowKey: safeKey(subscription.project),
      minLevel: subscription.minLevel,
      target: JSON.stringify(subscription.target),
      ...(subscription.createdBy ? { createdBy: subscription.createdBy } : {}),
    },
    "Replace",
  );
}

/** Returns whether there was a subscription to remove. */
export async function unsubscribe(storage: StorageClients, conversationKey: string, project: string): Promise<boolean> {
  const table = await storage.table(TABLES.subscriptions);
  try {
    await table.deleteEntity(conversationKey, safeKey(project));
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

export async function listSubscriptions(storage: StorageClients, conversationKey: string): Promise<Subscription[]> {
  const table = await storage.table(TABLES.subscriptions);
  const rows: Subscription[] = [];
  for await (const entity of table.listEntities<SubscriptionEntity>({
    queryOptions: { filter: `PartitionKey eq '${escapeOData(conversationKey)}'` },
  })) {
    rows.push(fromEntity(entity));
  }
  return rows;
}

/** The conversations subscribed to this issue's project at or below its level. */
export async function subscribedTargets(storage: StorageClients, issue: Issue): Promise<AlertTarget[]> {
  const table = await storage.table(TABLES.subscriptions);
  const targets: AlertTarget[] = [];
  for await (const entity of table.listEntities<SubscriptionEntity>({
    queryOptions: { filter: `RowKey eq '${escapeOData(safeKey(issue.project))}'` },
  })) {
    const subscription = fromEntity(entity);
    if (LEVELS.indexOf(issue.level) >= LEVELS.indexOf(subscription.minLevel)) targets.push(subscription.target);
  }
  return targets;
}

function fromEntity(entity: SubscriptionEntity): Subscription {
  return {
    conversationKey: entity.partitionKey,
    project: decodeURIComponent(entity.rowKey),
    minLevel: entity.minLevel as Level,
    target: JSON.parse(entity.target) as AlertTarget,
    ...(entity.createdBy ? { createdBy: entity.createdBy } : {}),
  };
}
