// Polls one storage queue for one queue-triggered function, with the Functions host's semantics
// (WebJobs storage extension QueueListener/QueueProcessor):
// - waits, backing off, while the queue doesn't exist (the host never creates a trigger's queue);
// - receives up to batchSize messages with a long lease, renewed at half-life while a handler runs;
// - fetches the next batch once in-flight invocations drop to newBatchThreshold;
// - polls again at once after a hit, then backs off from 100 ms to maxPollingInterval while empty;
// - poisons (copies the original text to `<queue>-poison`, then deletes) messages that exceed
//   maxDequeueCount or aren't base64, without invoking the handler;
// - on success deletes; on failure poisons at maxDequeueCount, else makes the message visible again
//   after host.json `visibilityTimeout`.
import { randomUUID } from "node:crypto";
import { InvocationContext, type LogLevel } from "@azure/functions";
import type { QueueClient, QueueServiceClient, ReceivedMessageItem } from "@azure/storage-queue";
import type { QueueFunction } from "../../functions/table";
import { MIN_POLLING_INTERVAL_MS, type QueueSettings } from "./host-config";
import type { HostLogger } from "./logger";
import { decodeBase64Strict, isValidQueueName, parseJsonOrText } from "./queue-message";

export interface QueueListenerOptions {
  fn: QueueFunction;
  queueService: QueueServiceClient;
  settings: QueueSettings;
  logger: HostLogger;
  logLevel: LogLevel;
  /** How long a received message stays invisible while its handler runs (the host uses 10 min). */
  leaseSeconds: number;
}

export interface QueueListener {
  /** Stops polling and waits for the invocations in flight to finish and settle their messages. */
  stop(): Promise<void>;
}

interface Listener extends QueueListenerOptions {
  queue: QueueClient;
  /** Undefined when the queue's name leaves no room for a poison queue: failures then stay invisible. */
  poisonQueue: QueueClient | undefined;
  inFlight: Set<Promise<void>>;
  stopping: AbortController;
  queueExists: boolean;
  lastProblem: string | undefined;
}

/** The message's current pop receipt: every update (lease renewal) replaces it. */
interface Lease {
  popReceipt: string;
}

export function startQueueListener(options: QueueListenerOptions): QueueListener {
  const { queueName } = options.fn;
  const poisonName = `${queueName}-poison`;
  const listener: Listener = {
    ...options,
    queue: options.queueService.getQueueClient(queueName),
    poisonQueue: hasPoisonQueue(queueName) ? options.queueService.getQueueClient(poisonName) : undefined,
    inFlight: new Set(),
    stopping: new AbortController(),
    queueExists: false,
    lastProblem: undefined,
  };
  const polling = pollUntilStopped(listener);
  return {
    stop: async () => {
      listener.stopping.abort();
      await polling;
      await Promise.all(listener.inFlight);
    },
  };
}

function hasPoisonQueue(queueName: string): boolean {
  return !queueName.endsWith("-poison") && isValidQueueName(`${queueName}-poison`);
}

async function pollUntilStopped(listener: Listener): Promise<void> {
  const backoff = createBackoff(MIN_POLLING_INTERVAL_MS, listener.settings.maxPollingIntervalMs);
  while (!listener.stopping.signal.aborted) {
    const batch = await receiveBatch(listener);
    if (batch.length === 0) {
      await sleep(backoff.next(), listener.stopping.signal);
      continue;
    }
    backoff.reset();
    for (const message of batch) track(listener, processMessage(listener, message));
    await waitForNewBatchThreshold(listener);
  }
}

async function receiveBatch(listener: Listener): Promise<ReceivedMessageItem[]> {
  const { queue, settings, fn } = listener;
  try {
    if (!listener.queueExists) {
      listener.queueExists = await queue.exists();
      if (!listener.queueExists) {
        reportProblem(listener, `queue "${fn.queueName}" does not exist yet; ${fn.name} waits for it`);
        return [];
      }
    }
    const response = await queue.receiveMessages({
      numberOfMessages: settings.batchSize,
      visibilityTimeout: listener.leaseSeconds,
    });
    listener.lastProblem = undefined;
    return response.receivedMessageItems;
  } catch (error) {
    // Re-check existence on any error: the queue may have been deleted under us.
    listener.queueExists = false;
    reportProblem(listener, `polling queue "${fn.queueName}" failed: ${(error as Error).message}`);
    return [];
  }
}

/** Logs a polling problem once, not on every poll. */
function reportProblem(listener: Listener, problem: string): void {
  if (listener.lastProblem === problem) return;
  listener.lastProblem = problem;
  listener.logger.warn(problem);
}

function track(listener: Listener, work: Promise<void>): void {
  listener.inFlight.add(work);
  void work.finally(() => listener.inFlight.delete(work));
}

async function waitForNewBatchThreshold(listener: Listener): Promise<void> {
  while (listener.inFlight.size > listener.settings.newBatchThreshold) {
    await Promise.race(listener.inFlight);
  }
}

/** Never rejects: every outcome is settled on the queue or logged. */
async function processMessage(listener: Listener, message: ReceivedMessageItem): Promise<void> {
  const lease: Lease = { popReceipt: message.popReceipt };
  const { maxDequeueCount } = listener.settings;
  try {
    if (message.dequeueCount > maxDequeueCount) {
      await moveToPoison(listener, message, lease, `dequeue count ${message.dequeueCount} exceeds ${maxDequeueCount}`);
      return;
    }
    const text = decodeBase64Strict(message.messageText);
    if (text === undefined) {
      await moveToPoison(listener, message, lease, "the message is not valid base64");
      return;
    }
    const succeeded = await invokeHoldingLease(listener, message, text, lease);
    await settle(listener, message, lease, succeeded);
  } catch (error) {
    listener.logger.error(`queue "${listener.fn.queueName}": could not settle message ${message.messageId}`, error);
  }
}

async function settle(listener: Listener, message: ReceivedMessageItem, lease: Lease, succeeded: boolean) {
  const { settings, fn, logger } = listener;
  if (succeeded) {
    await deleteMessage(listener, message, lease);
  } else if (!listener.poisonQueue) {
    logger.warn(`queue "${fn.queueName}" has no poison queue; message ${message.messageId} stays invisible`);
  } else if (message.dequeueCount >= settings.maxDequeueCount) {
    await moveToPoison(listener, message, lease, `it failed ${message.dequeueCount} times`);
  } else {
    await releaseMessage(listener, message, lease, Math.floor(settings.retryDelayMs / 1000));
  }
}

async function invokeHoldingLease(listener: Listener, message: ReceivedMessageItem, text: string, lease: Lease) {
  const stopRenewing = renewLeaseUntilStopped(listener, message, lease);
  try {
    return await invoke(listener, message, text);
  } finally {
    await stopRenewing();
  }
}

async function invoke(listener: Listener, message: ReceivedMessageItem, text: string): Promise<boolean> {
  const { fn, logger, logLevel } = listener;
  const invocationId = randomUUID();
  const context = new InvocationContext({
    invocationId,
    functionName: fn.name,
    logHandler: logger.forInvocation(fn.name, invocationId, logLevel),
    triggerMetadata: {
      id: message.messageId,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn.toISOString(),
      expirationTime: message.expiresOn.toISOString(),
      nextVisibleTime: message.nextVisibleOn.toISOString(),
      popReceipt: message.popReceipt,
      queueTrigger: text,
    },
    options: {
      trigger: { type: "queueTrigger", name: "queueItem", queueName: fn.queueName, connection: "AzureWebJobsStorage" },
    },
  });
  const started = Date.now();
  const summary = () => `Id=${invocationId}, message=${message.messageId}, dequeueCount=${message.dequeueCount}, ${Date.now() - started} ms`;
  try {
    await fn.handler(parseJsonOrText(text), context);
    logger.info(`Executed ${fn.name} (Succeeded, ${summary()})`);
    return true;
  } catch (error) {
    logger.error(`Executed ${fn.name} (Failed, ${summary()})`, error);
    return false;
  }
}

/** Renews the lease at half-life; returns a function that stops renewing and waits for a renewal in progress. */
function renewLeaseUntilStopped(listener: Listener, message: ReceivedMessageItem, lease: Lease) {
  let renewing = Promise.resolve();
  const renew = async () => {
    try {
      const response = await listener.queue.updateMessage(message.messageId, lease.popReceipt, undefined, listener.leaseSeconds);
      if (response.popReceipt) lease.popReceipt = response.popReceipt;
    } catch (error) {
      listener.logger.warn(`could not renew the lease of message ${message.messageId}: ${(error as Error).message}`);
    }
  };
  const timer = setInterval(() => (renewing = renewing.then(renew)), (listener.leaseSeconds * 1000) / 2);
  return async () => {
    clearInterval(timer);
    await renewing;
  };
}

async function moveToPoison(listener: Listener, message: ReceivedMessageItem, lease: Lease, reason: string) {
  const { poisonQueue, fn, logger } = listener;
  if (!poisonQueue) {
    logger.warn(`queue "${fn.queueName}": message ${message.messageId} is poison (${reason}) but there is no poison queue`);
    return;
  }
  logger.warn(`queue "${fn.queueName}": moving message ${message.messageId} to "${poisonQueue.name}" because ${reason}`);
  await sendCreatingQueue(poisonQueue, message.messageText);
  await deleteMessage(listener, message, lease);
}

async function sendCreatingQueue(queue: QueueClient, text: string): Promise<void> {
  try {
    await queue.sendMessage(text);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await queue.createIfNotExists();
    await queue.sendMessage(text);
  }
}

async function deleteMessage(listener: Listener, message: ReceivedMessageItem, lease: Lease): Promise<void> {
  await ignoringLostMessage(() => listener.queue.deleteMessage(message.messageId, lease.popReceipt));
}

async function releaseMessage(listener: Listener, message: ReceivedMessageItem, lease: Lease, delaySeconds: number) {
  await ignoringLostMessage(() => listener.queue.updateMessage(message.messageId, lease.popReceipt, undefined, delaySeconds));
}

/** As the host does: a message someone else took over (pop receipt mismatch) or deleted needs nothing more. */
async function ignoringLostMessage(operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch (error) {
    const lost = statusOf(error) === 404 || (statusOf(error) === 400 && codeOf(error) === "PopReceiptMismatch");
    if (!lost) throw error;
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string }).code;
}

/** Doubles the wait after every empty poll, up to the maximum; a hit starts over at the minimum. */
function createBackoff(min: number, max: number) {
  let next = min;
  return {
    next(): number {
      const delay = next;
      next = Math.min(next * 2, max);
      return delay;
    },
    reset(): void {
      next = min;
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
