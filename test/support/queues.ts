// Queue helpers for tests. Producers and the Functions host speak base64 (the host poisons anything
// else), so these encode on the way in and decode on the way out.
import { QueueClient } from "@azure/storage-queue";
import { decodeBase64Strict, parseJsonOrText } from "../../dev/host/queue-message";
import { waitFor } from "./wait";

export interface TestQueueMessage {
  /** The message text exactly as stored. */
  raw: string;
  /** `raw` decoded from base64, or null if it isn't base64. */
  text: string | null;
  /** `text` parsed as JSON when it parses, else `text` (or `raw` when not base64). */
  body: unknown;
}

export function queueClient(connectionString: string, queue: string): QueueClient {
  return new QueueClient(connectionString, queue);
}

/** Creates the queue if needed and sends `JSON.stringify(value)`, base64-encoded as the host expects. */
export async function sendBase64Json(connectionString: string, queue: string, value: unknown): Promise<void> {
  await sendRawText(connectionString, queue, Buffer.from(JSON.stringify(value)).toString("base64"));
}

/** Creates the queue if needed and sends `text` unencoded (to test what the host does with it). */
export async function sendRawText(connectionString: string, queue: string, text: string): Promise<void> {
  const client = queueClient(connectionString, queue);
  await client.createIfNotExists();
  await client.sendMessage(text);
}

/** Peeks (without dequeuing) until the queue holds at least `count` visible messages; returns up to 32. */
export async function waitForMessages(connectionString: string, queue: string, count: number, timeoutMs = 30_000): Promise<TestQueueMessage[]> {
  const client = queueClient(connectionString, queue);
  return waitFor(
    async () => {
      const messages = await peekAll(client);
      return messages.length >= count ? messages : undefined;
    },
    { timeoutMs, intervalMs: 100, description: `${count} message(s) in queue "${queue}"` },
  );
}

/** Receives and deletes every visible message; a missing queue has none. */
export async function drain(connectionString: string, queue: string): Promise<TestQueueMessage[]> {
  const client = queueClient(connectionString, queue);
  if (!(await client.exists())) return [];
  const drained: TestQueueMessage[] = [];
  for (;;) {
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 30 });
    if (receivedMessageItems.length === 0) return drained;
    for (const message of receivedMessageItems) {
      await client.deleteMessage(message.messageId, message.popReceipt);
      drained.push(decode(message.messageText));
    }
  }
}

/** What the issue's events on the issue-events queue say happened (their `action`), the queue drained. */
export async function drainIssueEventActions(connectionString: string, issueId: string): Promise<string[]> {
  const events = (await drain(connectionString, "issue-events")).map((m) => m.body as { issueId: string; action: string });
  return events.filter((event) => event.issueId === issueId).map((event) => event.action);
}

/** Number of messages, visible or not (approximate, as storage reports it); 0 for a missing queue. */
export async function messageCount(connectionString: string, queue: string): Promise<number> {
  const client = queueClient(connectionString, queue);
  if (!(await client.exists())) return 0;
  return (await client.getProperties()).approximateMessagesCount ?? 0;
}

export function decode(raw: string): TestQueueMessage {
  const text = decodeBase64Strict(raw) ?? null;
  return { raw, text, body: parseJsonOrText(text ?? raw) };
}

async function peekAll(client: QueueClient): Promise<TestQueueMessage[]> {
  if (!(await client.exists())) return [];
  const { peekedMessageItems } = await client.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((message) => decode(message.messageText));
}
