// Puts one alert on the `alerts` queue the way a producer does (base64 JSON), for trying the app locally.
//   npx tsx dev/send-alert.ts [--teams <conversationId>] [--slack <teamId>/<channelId>] [--issue <id>] [--level error]
// Storage: AzureWebJobsStorage, default Azurite on its standard ports.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { QueueClient } from "@azure/storage-queue";

const { values } = parseArgs({
  options: {
    teams: { type: "string", multiple: true },
    slack: { type: "string", multiple: true },
    issue: { type: "string", default: "demo-issue-1" },
    project: { type: "string", default: "checkout" },
    level: { type: "string", default: "error" },
    count: { type: "string", default: "1" },
  },
});

const targets = [
  ...(values.teams ?? []).map((conversationId) => ({ provider: "msteams", conversationId })),
  ...(values.slack ?? []).map((pair) => {
    const [teamId, channel] = pair.split("/");
    return { provider: "slack", teamId, channel };
  }),
];
const now = new Date().toISOString();
const alert = {
  schemaVersion: 1,
  alertId: randomUUID(),
  issue: {
    id: values.issue,
    shortId: `${values.project!.toUpperCase()}-1`,
    project: values.project,
    title: "TypeError: cart is undefined",
    culprit: "cart/view.ts in render",
    level: values.level,
    environment: "production",
    url: "https://example.com/issues/1",
    count: Number(values.count),
    userCount: 1,
    firstSeen: now,
    lastSeen: now,
  },
  rule: { id: "r1", name: "Error rate above 5%" },
  ...(targets.length ? { targets } : {}),
};

async function main(): Promise<void> {
  const queue = new QueueClient(process.env.AzureWebJobsStorage ?? "UseDevelopmentStorage=true", "alerts");
  await queue.createIfNotExists();
  await queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"));
  console.log(`alert ${alert.alertId} for issue ${values.issue} queued on "alerts".`);
  const chatPage = `http://127.0.0.1:${Number(process.env.PORT || 7071) + 4}`;
  console.log(`Where to look: the card appears in the dev chat page (${chatPage} with npm start) within a few seconds;`);
  console.log("the host's log shows it being taken; if it was refused, `npm run queues` shows alerts-poison with the reason.");
}

void main();
