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
  // After the write: a read that began before it lands may hold the old list.
  forgetRead(storage, subscription.project);
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
  } finally {
    // After the write: a read that began before it lands may hold the old list.
    forgetRead(storage, project);
  }
}

export async function listSubscriptions(storage: StorageClients, conversationKey: string): Promise<Subscription[]> {
  const table = await storage.table(TABLES.subscriptions);
  return (await listWhere<SubscriptionEntity>(table, `PartitionKey eq '${escapeOData(conversationKey)}'`)).map(fromEntity);
}

/**
 * How long an instance reuses a project's subscriptions for the alerts it takes. The query by project reads across
 * every conversation's partition (the table is keyed by conversation): an alert storm reads it once per project
 * every 2 s, not once per alert. A subscription changed on this instance counts at once; one changed on another
 * instance, from the alerts this one takes at most this long after.
 */
export const SUBSCRIPTIONS_REUSE_MS = 2000;

const recentReads = new WeakMap<StorageClients, Map<string, { readAt: number; subscriptions: Promise<Subscription[]> }>>();

/** The conversations subscribed to this issue's project at or below its level. */
export async function subscribedTargets(storage: StorageClients, issue: Issue): Promise<AlertTarget[]> {
  const subscriptions = await projectSubscriptions(storage, issue.project);
  return subscriptions
    .filter((subscription) => LEVELS.indexOf(issue.level) >= LEVELS.indexOf(subscription.minLevel))
    .map((subscription) => subscription.target);
}

function projectSubscriptions(storage: StorageClients, project: string): Promise<Subscription[]> {
  let reads = recentReads.get(storage);
  if (!reads) recentReads.set(storage, (reads = new Map()));
  const now = Date.now();
  const recent = reads.get(project);
  if (recent && now - recent.readAt < SUBSCRIPTIONS_REUSE_MS) return recent.subscriptions;
  for (const [key, read] of reads) if (now - read.readAt >= SUBSCRIPTIONS_REUSE_MS) reads.delete(key);
  const subscriptions = readProjectSubscriptions(storage, project);
  const read = { readAt: now, subscriptions };
  reads.set(project, read);
  // A failed read is not reused: the next alert reads again.
  subscriptions.catch(() => reads.get(project) === read && reads.delete(project));
  return subscriptions;
}

async function readProjectSubscriptions(storage: StorageClients, project: string): Promise<Subscription[]> {
  const table = await storage.table(TABLES.subscriptions);
  const subscriptions: Subscription[] = [];
  for await (const entity of table.listEntities<SubscriptionEntity>({
    queryOptions: { filter: `RowKey eq '${escapeOData(safeKey(project))}'` },
  })) {
    subscriptions.push(fromEntity(entity));
  }
  return subscriptions;
}

/** This instance's next alert for the project reads its subscriptions again (one was changed here). */
function forgetRead(storage: StorageClients, project: string): void {
  recentReads.get(storage)?.delete(project);
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
