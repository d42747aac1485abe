// The `alerts` queue delivers at least once: a firing whose handler died before the message was deleted comes back
// later, possibly after its recovery resolved the issue. Through the alerts function as the host invokes it (the
// message's insertion time and dequeue count in its trigger metadata) on real storage.
import { randomBytes } from "node:crypto";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { alertsQueue } from "../../functions/alerts-queue";
import type { Alert } from "../../shared/domain/alert";
import { IssueRepository } from "../../shared/storage/issues";
import { StorageClients } from "../../shared/storage/clients";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import { startTestAzurite, type Azurite } from "../support/azurite";
import { drain, drainIssueEventActions } from "../support/queues";

let azurite: Azurite;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await startTestAzurite();
  storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite.connectionString,
    MicrosoftAppId: "00000000-0000-0000-0000-0000000000c1",
    MicrosoftAppType: "UserAssignedMSI",
    MicrosoftAppTenantId: "00000000-0000-0000-0000-0000000000c2",
    PUBLIC_BASE_URL: "http://localhost:7071",
    LINK_SIGNING_KEY: randomBytes(32).toString("hex"),
  });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});
beforeEach(async () => {
  await drain(azurite.connectionString, "issue-events");
});

/** The alerts function invoked with the message as the host hands it over: put on the queue at `insertedAt`. */
async function deliver(alert: Alert, insertedAt: Date, dequeueCount = 1): Promise<void> {
  const text = JSON.stringify(alert);
  const context = new InvocationContext({
    functionName: "alertsQueue",
    logHandler: () => {},
    triggerMetadata: { dequeueCount, insertionTime: insertedAt.toISOString(), queueTrigger: text },
  });
  await alertsQueue(alert, context);
}

function forIssue(alert: Alert, issueId: string): Alert {
  return { ...alert, alertId: alert.alertId.replace(alert.issue.id, issueId), issue: { ...alert.issue, id: issueId } };
}

const issue = async (id: string) => (await new IssueRepository(storage).get(id))!.issue;
const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

const lines = (issueId: string) => drainIssueEventActions(azurite.connectionString, issueId);

/** The issue's firing, taken as put on the queue 30 minutes ago, then its recovery 5 minutes ago: the firing. */
async function firedThenRecovered(issueId: string): Promise<Alert> {
  const startsAt = minutesAgo(30).toISOString();
  const firing = forIssue(alertmanagerAlert("firing", startsAt), issueId);
  await deliver(firing, minutesAgo(30));
  await deliver(forIssue(alertmanagerAlert("resolved", startsAt, minutesAgo(5).toISOString()), issueId), minutesAgo(5));
  return firing;
}

describe("a firing delivered again after its recovery resolved the issue", () => {
  it("the firing's own message, put on the queue before the recovery was taken: the issue stays resolved", async () => {
    const id = "alertmanager:redelivered-after-recovery";
    const firing = await firedThenRecovered(id);
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    const resolved = await issue(id);
    await lines(id);

    // Its handler died before deleting it: the same message, visible again.
    await deliver(firing, minutesAgo(30), 2);
    expect(await issue(id)).toEqual(resolved);
    expect(await lines(id)).toEqual([]);
  });

  it("the source sending the firing again, put on the queue after the recovery was taken: the issue regresses", async () => {
    const id = "alertmanager:fires-again-after-recovery";
    const firing = await firedThenRecovered(id);
    await lines(id);

    // A minute after the recovery was taken.
    await deliver(firing, new Date(Date.now() + 60_000));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed", count: 2 });
    expect(await lines(id)).toEqual(["regressed"]);
  });

  it("the source firing again while its recovery waited on a busy queue: put there after the recovery, taken after it too, the issue regresses", async () => {
    const id = "alertmanager:fires-again-behind-a-backlog";
    const startsAt = minutesAgo(30).toISOString();
    const firing = forIssue(alertmanagerAlert("firing", startsAt), id);
    await deliver(firing, minutesAgo(30));
    // The recovery was put on the queue 10 minutes ago and taken only now; the firing again, 5 minutes ago.
    await deliver(forIssue(alertmanagerAlert("resolved", startsAt, minutesAgo(10).toISOString()), id), minutesAgo(10));
    await lines(id);

    await deliver(firing, minutesAgo(5));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(id)).toEqual(["regressed"]);
  });
});
