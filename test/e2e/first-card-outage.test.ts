// The review's repro of Sentry's #77681 ("alerts randomly not delivered, nothing logged"; notes/peers.md), through
// the local host: Teams answers every post 503 for longer than the quick retries last, and Alertmanager posts a
// firing alert, then repeats it unchanged (the same startsAt). The card must appear once Teams answers again, once.
// The host keeps each retry's visibility delay as Azure would; a recorder in front of Azurite's queue service makes
// each delayed `deliveries` message visible at once (its delay still recorded), so the test runs in seconds.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emulatedAppSettings } from "../../dev/app-settings";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator } from "../../dev/emulators/teams";
import { MAX_DELIVERY_ATTEMPTS } from "../../shared/delivery/retry-policy";
import { QUEUES, StorageClients } from "../../shared/storage/clients";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { sampleText } from "../unit/ingest/fixtures";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { freePort } from "../support/ports";
import { messageCount, queueClient } from "../support/queues";
import { recordQueueWrites, type RecordedMessage } from "../support/queue-recorder";
import { waitFor } from "../support/wait";

const TOKEN = "ingest-token-for-first-card-outage-0123456789";
const ISSUE_ID = "alertmanager:1a30ba71cca2921f";
const ALERT_ID = `${ISSUE_ID}:firing:2023-02-06T13:08:45.828Z`;

let azurite: Azurite;
let teams: TeamsEmulator;
let slack: SlackEmulator;
let recorder: Awaited<ReturnType<typeof recordDelayedDeliveries>>;
let host: HostProcess;
let storage: StorageClients;
let channel: string;

beforeAll(async () => {
  azurite = await startTestAzurite();
  teams = await startTeamsEmulator({ appId: "6a1d3c2e-0000-4000-8000-00000000f1e2", tenantId: "72f988bf-0000-4000-8000-0000000000f2" });
  slack = await startSlackEmulator({ signingSecret: "first-card-outage-signing-secret-7f3a9c1e", clientId: "1.2", clientSecret: "s" });
  recorder = await recordDelayedDeliveries(azurite);
  const port = await freePort();
  const env = emulatedAppSettings({
    storageConnectionString: azurite.connectionString.replace(/QueueEndpoint=[^;]+/, `QueueEndpoint=${recorder.endpoint}`),
    teams,
    slack,
    oidc: { issuer: "http://127.0.0.1:9/", clientId: "c", clientSecret: "s" },
    publicBaseUrl: `http://127.0.0.1:${port}`,
    linkSigningKey: randomBytes(32).toString("hex"),
    slackSigningSecret: "first-card-outage-signing-secret-7f3a9c1e",
    ingestToken: TOKEN,
  });
  host = await startHostProcess({ env, port });
  storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
  const ana = teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  const team = teams.addTeam({ name: "Infra", members: [ana] });
  expect((await teams.post(`${host.url}/api/messages`, teams.botAddedToTeam({ team, from: ana }))).status).toBe(200);
  channel = team.generalChannelId;
}, 120_000);
afterAll(async () => {
  await host?.stop();
  await recorder?.stop();
  await Promise.all([azurite?.stop(), teams?.stop(), slack?.stop()]);
});

describe("Teams answering 503 for longer than the quick retries last", () => {
  it("an Alertmanager firing alert's card appears once Teams answers again, once, its repeat included", async () => {
    teams.injectFault({ operation: "send", conversationId: channel, status: 503, times: Infinity });
    await alertmanagerSends();

    // The quick attempts all fail; the delivery is not given up but tried again later, through the queue.
    const beyondTheAttempts = await waitFor(
      async () => {
        const row = await delivery();
        if (row?.state === "dead") return row;
        return failedSends() > MAX_DELIVERY_ATTEMPTS ? row : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, description: `more than ${MAX_DELIVERY_ATTEMPTS} failed posts, or the delivery dead` },
    );
    expect(beyondTheAttempts).toMatchObject({ state: expect.stringMatching(/^(pending|sending)$/) });
    const delays = recorder.delays();
    // Each retry past the attempts waited 10–15 minutes (shortened here by the recorder).
    expect(delays.slice(MAX_DELIVERY_ATTEMPTS - 1).every((seconds) => seconds >= 600 && seconds <= 900)).toBe(true);
    expect(delays.slice(0, MAX_DELIVERY_ATTEMPTS - 1).every((seconds) => seconds < 300)).toBe(true);

    // Alertmanager repeats the alert during the outage: still one delivery, nothing posted twice.
    await alertmanagerSends();
    teams.clearFaults();
    await waitFor(() => cards().length > 0 || undefined, { timeoutMs: 60_000, description: "the card in the channel" });
    await waitFor(async () => ((await delivery())?.state === "sent" ? true : undefined), { timeoutMs: 30_000 });

    // And once more after it landed.
    await alertmanagerSends();
    await waitFor(
      async () => {
        const queued = await Promise.all([QUEUES.alerts, QUEUES.deliveries].map((queue) => messageCount(azurite.connectionString, queue)));
        return queued.every((count) => count === 0) || undefined;
      },
      { timeoutMs: 30_000, description: "the repeat taken" },
    );
    expect(cards()).toHaveLength(1);
    expect(host.logs().filter((line) => line.includes(ALERT_ID) && /(is dead|: dead)\b/.test(line))).toEqual([]);
  }, 180_000);
});

async function alertmanagerSends(): Promise<void> {
  const answer = await fetch(`${host.url}/api/ingest/alertmanager?target=${encodeURIComponent(`msteams:${channel}`)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: sampleText("alertmanager-firing"),
  });
  expect(answer.status).toBe(202);
}

const failedSends = () => teams.calls.filter((c) => c.operation === "send" && c.conversationId === channel && c.status === 503).length;
const cards = () => teams.messages(channel).filter((m) => JSON.stringify(m.activity).includes(`"issueId":"${ISSUE_ID}"`));
const delivery = async () => (await new DeliveryRepository(storage).listForAlert(ALERT_ID))[0];

// ---- a recorder in front of Azurite's queue service

/**
 * The delays the app gave its `deliveries` messages, in order (those sent without one left out); each such message
 * is made visible at once, as if its time had come.
 */
async function recordDelayedDeliveries(azurite: Azurite) {
  const deliveries = queueClient(azurite.connectionString, QUEUES.deliveries);
  const delayed = (message: RecordedMessage) => message.queue === QUEUES.deliveries && message.delaySeconds > 0;
  const recorder = await recordQueueWrites(azurite.queueEndpoint, {
    onRecorded: async (message) => {
      if (delayed(message)) await deliveries.updateMessage(message.messageId, message.popReceipt, undefined, 0);
    },
  });
  return {
    endpoint: recorder.endpoint,
    delays: () =>
      recorder
        .sentTo(QUEUES.deliveries)
        .filter(delayed)
        .map((message) => message.delaySeconds),
    stop: recorder.stop,
  };
}
