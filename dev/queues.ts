// `npm run queues`: every queue of the app with its length and its poison queue's, and each poison
// message with the reason it was set aside. `npm run queues -- --requeue <poison queue> <message id>`
// puts one back on its queue. Storage: AzureWebJobsStorage (a real account too), default Azurite.
// Prints reasons and ids, never message bodies (they hold alert text, people and addresses).
import { parseArgs } from "node:util";
import { QueueServiceClient, type PeekedMessageItem, type QueueClient } from "@azure/storage-queue";
import { QUEUES } from "../shared/storage/clients";

/** Peeking shows at most 32 messages (Azure's limit for one call). */
const PEEK_LIMIT = 32;
const REQUEUE_LEASE_SECONDS = 30;

interface PoisonView {
  id: string;
  insertedOn?: Date;
  dequeueCount: number;
  reason: string;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { requeue: { type: "boolean", default: false } }, allowPositionals: true });
  const service = QueueServiceClient.fromConnectionString(process.env.AzureWebJobsStorage || "UseDevelopmentStorage=true");
  if (values.requeue) {
    const [poisonQueue, messageId] = positionals;
    if (!poisonQueue?.endsWith("-poison") || !messageId) throw new UsageError("usage: npm run queues -- --requeue <queue>-poison <message id>");
    console.log(await requeue(service, poisonQueue, messageId));
    return;
  }
  for (const name of Object.values(QUEUES)) {
    const [main, poison] = [service.getQueueClient(name), service.getQueueClient(`${name}-poison`)];
    const [length, poisonLength] = await Promise.all([approximateLength(main), approximateLength(poison)]);
    console.log(`${name.padEnd(16)} ${String(length ?? "(none)").padStart(6)}   ${`${name}-poison`.padEnd(23)} ${String(poisonLength ?? "(none)").padStart(6)}`);
    if (!poisonLength) continue;
    const peeked = (await poison.peekMessages({ numberOfMessages: PEEK_LIMIT })).peekedMessageItems;
    for (const message of peeked.map(describePoison)) {
      console.log(`    ${message.id}  ${message.insertedOn?.toISOString() ?? ""}  tried ${message.dequeueCount}x  ${message.reason}`);
    }
    if (poisonLength > peeked.length) console.log(`    … and ${poisonLength - peeked.length} more`);
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
    return typeof value.error === "string" && Array.isArray(value.issues) && typeof value.original === "string" ? (value as AppPoisonRecord) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Moves one poison message back to its queue: the original alert for an app poison record, else the text as
 * it was. Other poison messages received on the way are left to reappear within the lease (30 s).
 */
async function requeue(service: QueueServiceClient, poisonName: string, messageId: string): Promise<string> {
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

class UsageError extends Error {}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(error.message);
  else if (/ECONNREFUSED/.test(String((error as Error).message ?? error))) console.error("storage is not reachable (AzureWebJobsStorage): start Azurite with `npm run azurite`, or `npm start`.");
  else console.error(`npm run queues failed: ${(error as Error).message ?? error}`);
  process.exit(1);
});
