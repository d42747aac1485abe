// "Send test alert": an alert for a new issue on the `alerts` queue, as a producer sends it (base64 JSON),
// targeting the conversation on screen.
import { randomUUID } from "node:crypto";
import { QueueClient } from "@azure/storage-queue";
import type { ConversationRef } from "./directory";
import { HttpError } from "./http-error";

const SAMPLES = [
  { title: "TypeError: cart is undefined", culprit: "cart/view.ts in render" },
  { title: "Error: payment provider timed out after 30000 ms", culprit: "payments/charge.ts in capture" },
  { title: "RangeError: Maximum call stack size exceeded", culprit: "search/rank.ts in score" },
  { title: "SyntaxError: Unexpected token < in JSON at position 0", culprit: "api/client.ts in parse" },
];

export class TestAlerts {
  private sent = 0;

  constructor(private readonly connectionString: () => string | undefined) {}

  async send(target: ConversationRef): Promise<{ alertId: string; issueId: string; title: string }> {
    const connectionString = this.connectionString();
    if (!connectionString) throw new HttpError(500, "No storage to queue the alert on: set AzureWebJobsStorage.");
    const sample = SAMPLES[this.sent++ % SAMPLES.length]!;
    const alert = testAlert(target, sample);
    const queue = new QueueClient(connectionString, "alerts");
    await queue.createIfNotExists();
    await queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"));
    return { alertId: alert.alertId, issueId: alert.issue.id, title: alert.issue.title };
  }
}

function testAlert(target: ConversationRef, sample: (typeof SAMPLES)[number]) {
  const now = new Date().toISOString();
  const id = randomUUID().slice(0, 8);
  return {
    schemaVersion: 1,
    alertId: `chat-page-${randomUUID()}`,
    issue: {
      id: `demo-${id}`,
      shortId: `CHECKOUT-${id.toUpperCase()}`,
      project: "checkout",
      ...sample,
      level: "error",
      environment: "production",
      url: "https://example.com/issues/demo",
      count: 12,
      userCount: 3,
      firstSeen: now,
      lastSeen: now,
    },
    rule: { id: "chat-page", name: "Sent from the dev chat page" },
    targets: [alertTarget(target)],
  };
}

function alertTarget(target: ConversationRef) {
  switch (target.platform) {
    case "teams":
      return { provider: "msteams", conversationId: target.conversationId };
    case "slack":
      return { provider: "slack", teamId: target.teamId, channel: target.channel };
    case "discord":
      return { provider: "discord", channelId: target.channelId };
  }
}
