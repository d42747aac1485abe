// `npm run queues`: every queue of the app with its length and its poison queue's, and each poison
// message with the reason it was set aside. `npm run queues -- --requeue <poison queue> <message id>`
// puts one back on its queue. Storage as the app reads it: AzureWebJobsStorage (a connection string), else
// AzureWebJobsStorage__accountName with an Entra ID credential (a deployed account: shared keys are off);
// default Azurite. Prints reasons and ids, never message bodies (they hold alert text, people and addresses).
import { parseArgs } from "node:util";
import type { PeekedMessageItem, QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { QUEUES, StorageClients, type StorageConfig } from "../shared/storage/clients";

/** Peeking shows at most 32 messages (Azure's limit for one call). */
const PEEK_LIMIT = 32;
const REQUEUE_LEASE_SECONDS = 30;

export interface PoisonView {
  id: string;
  insertedOn?: Date;
  dequeueCount: number;
  reason: string;
}

export interface QueueStatus {
  name: string;
  /** Undefined: the queue doesn't exist yet. */
  length: number | undefined;
  poisonName: string;
  poisonLength: number | undefined;
  /** The first 32 poison messages (Azure peeks at most that many). */
  poison: PoisonView[];
}

/** The queue service: the given connection string, else the storage the environment names (as the app reads it). */
export function queueService(connectionString?: string, env: Record<string, string | undefined> = process.env): QueueServiceClient {
  return new StorageClients(connectionString ? { kind: "connectionString", connectionString } : storageFrom(env), env).queueService();
}

function storageFrom(env: Record<string, string | undefined>): StorageConfig {
  const connectionString = env.AzureWebJobsStorage?.trim();
  if (connectionString) return { kind: "connectionString", connectionString };
  const accountName = env.AzureWebJobsStorage__accountName?.trim();
  if (accountName) return { kind: "identity", accountName, clientId: env.AzureWebJobsStorage__clientId?.trim() || undefined };
  return { kind: "connectionString", connectionString: "UseDevelopmentStorage=true" };
}

/** Every queue of the app, its poison queue, and the poison messages' reasons. */
export async function queueReport(service: QueueServiceClient): Promise<QueueStatus[]> {
  return Promise.all(
    Object.values(QUEUES).map(async (name) => {
      const [queue, poison] = [service.getQueueClient(name), service.getQueueClient(`${name}-poison`)];
      const [length, poisonLength] = await Promise.all([approximateLength(queue), approximateLength(poison)]);
      const peeked = poisonLength ? (await poison.peekMessages({ numberOfMessages: PEEK_LIMIT })).peekedMessageItems : [];
      return { name, length, poisonName: poison.name, poisonLength, poison: peeked.map(describePoison) };
    }),
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { requeue: { type: "boolean", default: false } }, allowPositionals: true });
  const service = queueService();
  if (values.requeue) {
    const [poisonQueue, messageId] = positionals;
    if (!poisonQueue || !messageId) throw new UsageError("usage: npm run queues -- --requeue <queue>-poison <message id>");
    console.log(await requeue(service, poisonQueue, messageId));
    return;
  }
  for (const status of await queueReport(service)) {
    const count = (n: number | undefined) => String(n ?? "(none)").padStart(6);
    console.log(`${status.name.padEnd(16)} ${count(status.length)}   ${status.poisonName.padEnd(23)} ${count(status.poisonLength)}`);
    for (const message of status.poison) {
      console.log(`    ${message.id}  ${message.insertedOn?.toISOString() ?? ""}  tried ${message.dequeueCount}x  ${message.reason}`);
    }
    if ((status.poisonLength ?? 0) > status.poison.length) console.log(`    … and ${status.poisonLength! - status.poison.length} more`);
  }
  console.log("\nRe-queue one poison message: npm run queues -- --requeue <queue>-poison <message id>");
}

/** Length (approximate, as storage reports it), or undefined when the queue doesn't exist yet. */
async function approximateLength(queue: QueueClient): Promise<number | undefined> {
  try {
    return (await queue.getProperties()).approximateMessagesCount ?? 0;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** The reason: the app's own poison record (alerts) says it; a message the host set aside failed every try. */
function describePoison(message: PeekedMessageItem): PoisonView {
  const record = appPoisonRecord(message.messageText);
  const reason = record
    ? `${record.error} ${record.issues.map((issue) => `${issue.path || "(root)"}: ${issue.message}`).join("; ")}${record.truncated ? " (original cut to fit; can't be re-queued)" : ""}`
    : "failed on every try (the host's log at that time says why)";
  return { id: message.messageId, insertedOn: message.insertedOn, dequeueCount: message.dequeueCount, reason };
}

interface AppPoisonRecord {
  error: string;
  issues: { path: string; message: string }[];
  original: string;
  truncated?: true;
}

function appPoisonRecord(text: string): AppPoisonRecord | undefined {
  try {
    const value = JSON.parse(Buffer.from(text, "base64").toString("utf8")) as Partial<AppPoisonRecord>;
    return typeof value.error === "string" && Array.isArray(value.issues) && typeof value.original === "string"
      ? (value as AppPoisonRecord)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves one poison message back to its queue: the original alert for an app poison record, else the text as
 * it was. Other poison messages received on the way are left to reappear within the lease (30 s).
 */
export async function requeue(service: QueueServiceClient, poisonName: string, messageId: string): Promise<string> {
  if (!(Object.values(QUEUES) as string[]).some((name) => `${name}-poison` === poisonName)) {
    throw new UsageError(`${poisonName} is not one of the app's poison queues`);
  }
  const poison = service.getQueueClient(poisonName);
  const target = service.getQueueClient(poisonName.slice(0, -"-poison".length));
  const received = (await poison.receiveMessages({ numberOfMessages: PEEK_LIMIT, visibilityTimeout: REQUEUE_LEASE_SECONDS })).receivedMessageItems;
  const message = received.find((item) => item.messageId === messageId);
  if (!message) throw new UsageError(`no message ${messageId} on ${poisonName} (or it is being re-queued by someone else)`);
  const record = appPoisonRecord(message.messageText);
  if (record?.truncated) throw new UsageError(`message ${messageId} holds only part of the original (it was cut to fit), so it can't be re-queued`);
  await target.createIfNotExists();
  await target.sendMessage(record ? Buffer.from(record.original, "utf8").toString("base64") : message.messageText);
  await poison.deleteMessage(message.messageId, message.popReceipt);
  return `message ${messageId} moved from ${poisonName} back to ${target.name}`;
}

/** A request that can't be done as asked (its message says why). */
export class UsageError extends Error {}

if (require.main === module)
  main().catch((error: unknown) => {
    if (error instanceof UsageError) console.error(error.message);
    else if (/ECONNREFUSED/.test(String((error as Error).message ?? error)))
      console.error("storage is not reachable (AzureWebJobsStorage): start Azurite with `npm run azurite`, or `npm start`.");
    else if ((error as { statusCode?: number }).statusCode === 403 || (error as Error).name === "CredentialUnavailableError")
      console.error(
        `npm run queues failed: ${(error as Error).message ?? error}\n` +
          "With AzureWebJobsStorage__accountName you act as your own Azure sign-in (az login): listing needs Storage Queue Data " +
          "Reader on the storage account, --requeue needs Storage Queue Data Contributor (README, npm run queues).",
      );
    else console.error(`npm run queues failed: ${(error as Error).message ?? error}`);
    process.exit(1);
  });
