import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../shared/config";
import type { StorageClients } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { createTeamsServices } from "../../shared/teams/services";
import { takeAlert, type IntakeResult } from "../../shared/workflows/alert-intake";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import { refreshCards } from "../../shared/workflows/refresh-cards";
import type { Alert, AlertTarget } from "../../shared/domain/alert";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import { validSettings } from "../fixtures/settings";
import { testContext } from "../support/app-context";
import type { Azurite } from "../support/azurite";
import { drain, drainIssueEventActions } from "../support/queues";
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

async function take(alert: Alert): Promise<IntakeResult> {
  return takeAlert(storage, alert, JSON.stringify(alert));
}

const teamsChannel: AlertTarget = { provider: "msteams", conversationId: "19:ignored-alerts@thread.tacv2" };

/** The alert sent to a Teams channel of its own: a conversation that gets a card when the issue needs one. */
function toChannel(alert: Alert): Alert {
  return { ...alert, targets: [teamsChannel] };
}

/**
 * The refresh queued for the moment an "ignore for N minutes" runs out, taken when it is due: the clock moved past
 * the ignore's end (Date only; Azurite keeps its own).
 */
async function wakeUp(issueId: string): Promise<void> {
  const { ignore } = (await new IssueRepository(storage).get(issueId))!.issue;
  if (ignore?.mode !== "until") throw new Error(`${issueId} is not ignored for a while`);
  const config = loadConfig(validSettings());
  const context = testContext({ config, storage, teams: createTeamsServices(config).connector });
  vi.useFakeTimers({ toFake: ["Date"], now: Date.parse(ignore.until) + 60_000 });
  try {
    await refreshCards(context, { issueId, version: 0, requestedAt: new Date().toISOString(), ignoreEndsAt: ignore.until });
  } finally {
    vi.useRealTimers();
  }
}

const issueEvents = (issueId: string) => drainIssueEventActions(azurite.connectionString, issueId);

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
  it("ignored forever: the recovery and the firings after it leave it ignored, announce nothing and plan no new card", async () => {
    const id = "alertmanager:ignored-forever";
    const start = new Date(Date.now() - 3_600_000).toISOString();
    await take(forIssue(alertmanagerAlert("firing", start), id));
    await actOnIssue(storage, id, { type: "ignore", ignore: { mode: "forever" } }, ana);
    await drain(azurite.connectionString, "issue-events");

    await take(forIssue(alertmanagerAlert("resolved", start, hoursAfter(start, 0.3)), id));
    // Alertmanager fires the same alert again (same startsAt), then the probe fails anew; now to a channel with no
    // card of the issue yet, where an unresolved issue's alert would post one.
    expect(await take(toChannel(forIssue(alertmanagerAlert("firing", start), id)))).toMatchObject({ duplicate: false, deliveries: 0, posted: 0 });
    expect(await take(toChannel(forIssue(alertmanagerAlert("firing", hoursAfter(start, 0.5)), id)))).toMatchObject({ deliveries: 0, posted: 0 });

    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "ignored", ignore: { mode: "forever" }, count: 3 });
    expect(await issueEvents(id)).toEqual([]);
  });

  it("ignored for 30 minutes and recovered: the wake-up resolves it by alertmanager", async () => {
    const id = "alertmanager:recovered";
    const start = new Date(Date.now() - 3_600_000).toISOString();
    await take(forIssue(alertmanagerAlert("firing", start), id));
    await actOnIssue(storage, id, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, ana);
    await take(forIssue(alertmanagerAlert("resolved", start, hoursAfter(start, 0.3)), id));
    expect((await new IssueRepository(storage).get(id))!.issue.status).toBe("ignored");
    await drain(azurite.connectionString, "issue-events");

    await wakeUp(id);
    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager" });
    expect(await issueEvents(id)).toEqual(["resolve"]);
  });

  it("ignored for 30 minutes, recovered, then firing again: the wake-up unresolves it as usual", async () => {
    const id = "alertmanager:recovered-then-fired";
    const start = new Date(Date.now() - 3_600_000).toISOString();
    await take(forIssue(alertmanagerAlert("firing", start), id));
    await actOnIssue(storage, id, { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }, ana);
    await take(forIssue(alertmanagerAlert("resolved", start, hoursAfter(start, 0.3)), id));
    await take(forIssue(alertmanagerAlert("firing", start), id));
    expect((await new IssueRepository(storage).get(id))!.issue.status).toBe("ignored");
    await drain(azurite.connectionString, "issue-events");

    await wakeUp(id);
    expect((await new IssueRepository(storage).get(id))!.issue).toMatchObject({ status: "unresolved", substatus: "escalating" });
    expect(await issueEvents(id)).toEqual(["ignore-expired"]);
  });
});
