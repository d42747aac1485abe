import { describe, expect, it } from "vitest";
import type { StorageClients } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import type { Alert } from "../../shared/domain/alert";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import type { Azurite } from "../support/azurite";
import { drain } from "../support/queues";
import { useTestStorage } from "../support/test-storage";

// What an Alertmanager-fed issue does while it is ignored, through the alerts handler and real storage.
let azurite: Azurite;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, storage } = started));

const ana = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "teams" as const };
const hoursAfter = (start: string, hours: number) => new Date(Date.parse(start) + hours * 3_600_000).toISOString();

/** The sample alert under its own fingerprint, so each test has its own issue. */
function forIssue(alert: Alert, issueId: string): Alert {
  return { ...alert, alertId: alert.alertId.replace(alert.issue.id, issueId), issue: { ...alert.issue, id: issueId } };
}

async function take(alert: Alert): Promise<void> {
  await takeAlert(storage, alert, JSON.stringify(alert));
}

async function issueEvents(issueId: string): Promise<string[]> {
  const all = (await drain(azurite.connectionString, "issue-events")).map((m) => m.body as { issueId: string; action: string });
  return all.filter((event) => event.issueId === issueId).map((event) => event.action);
}

describe("an Alertmanager issue ignored until 10 more events", () => {
  it("Alertmanager re-sending the same firing counts once; 10 new firings bring it back", async () => {
    const id = "alertmanager:counted";
    const start = new Date(Date.now() - 24 * 3_600_000).toISOString();
    await take(forIssue(alertmanagerAlert("firing", start), id));
    await actOnIssue(storage, id, { type: "ignore", ignore: { mode: "events", count: 10 } }, ana);
    await drain(azurite.connectionString, "issue-events");

    // repeat_interval: the same firing (same startsAt, same alertId) notified again and again.
    for (let n = 0; n < 5; n++) await take(forIssue(alertmanagerAlert("firing", start), id));
    for (let n = 1; n <= 9; n++) await take(forIssue(alertmanagerAlert("firing", hoursAfter(start, n)), id));
    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "ignored", count: 10 });

    await take(forIssue(alertmanagerAlert("firing", hoursAfter(start, 10)), id));
    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "unresolved", substatus: "escalating", count: 11 });
    expect(await issueEvents(id)).toEqual(["ignore-expired"]);
  });
});

describe("an Alertmanager issue that recovers while ignored", () => {
  it("is resolved by alertmanager and announced as such", async () => {
    const id = "alertmanager:recovered";
    const start = new Date(Date.now() - 3_600_000).toISOString();
    await take(forIssue(alertmanagerAlert("firing", start), id));
    await actOnIssue(storage, id, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, ana);
    await drain(azurite.connectionString, "issue-events");

    await take(forIssue(alertmanagerAlert("resolved", start, hoursAfter(start, 0.3)), id));
    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    expect(await issueEvents(id)).toEqual(["resolve"]);
  });
});
