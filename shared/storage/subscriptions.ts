import type { AlertTarget } from "../domain/alert";
import { LEVELS, type Issue, type Level } from "../domain/issue";
import { TABLES, type StorageClients } from "./clients";
import { escapeOData, listWhere, safeKey } from "./table";

export interface Subscription {
  /** `msteams:<conversationId>` or `slack:<teamId>:<channelId>` */
  conversationKey: string;
  project: string;
  minLevel: Level;
  target: AlertTarget;
  createdBy?: string;
  /** Whether the cards this subscription posts get thread lines (who did what); on unless turned off. */
  thread?: boolean;
}

interface SubscriptionEntity {
  partitionKey: string;
  rowKey: string;
  minLevel: string;
  target: string;
  createdBy?: string;
  /** Stored only when off: rows written before the setting existed read as on. */
  thread?: boolean;
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
      ...(subscription.thread === false ? { thread: false } : {}),
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
  return (await listWhere<SubscriptionEntity>(table, `PartitionKey eq '${escapeOData(conversationKey)}'`)).map(fromEntity);
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
    thread: entity.thread !== false,
  };
}

/** The subscriptions' conversation key for a conversation a card lives in (as the chat commands write it). */
export function conversationKeyOf(
  where: { provider: "msteams"; conversationId: string } | { provider: "slack"; teamId: string; channel: string },
): string {
  return where.provider === "msteams" ? `msteams:${safeKey(where.conversationId)}` : `slack:${where.teamId}:${where.channel}`;
}

/**
 * Turns the thread lines of one subscription on or off (`subscribe … --no-thread`). Returns false when the
 * conversation has no subscription to the project.
 */
export async function setThreadLines(
  storage: StorageClients,
  subscription: { conversationKey: string; project: string },
  on: boolean,
): Promise<boolean> {
  const table = await storage.table(TABLES.subscriptions);
  try {
    await table.updateEntity({ partitionKey: subscription.conversationKey, rowKey: safeKey(subscription.project), thread: on }, "Merge", {
      etag: "*",
    });
    return true;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return false;
    throw error;
  }
}

/** The conversations whose subscription to the project has thread lines turned off: one query. */
export async function threadLinesOff(storage: StorageClients, project: string): Promise<Set<string>> {
  const table = await storage.table(TABLES.subscriptions);
  const off = new Set<string>();
  for await (const entity of table.listEntities<SubscriptionEntity>({
    queryOptions: { filter: `RowKey eq '${escapeOData(safeKey(project))}' and thread eq false` },
  })) {
    off.add(entity.partitionKey);
  }
  return off;
}
