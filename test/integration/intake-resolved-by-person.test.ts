// An alert its source still fires, re-sent as it is (Alertmanager's repeat_interval: the same startsAt, the same
// alert id), after a person resolved its issue from a card: through the alerts handler, the click's workflow, the
// deliverer, real storage and the Slack emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { SlackEmulator } from "../../dev/emulators/slack";
import type { Alert } from "../../shared/domain/alert";
import type { IssueAction } from "../../shared/domain/actions";
import type { AppContext } from "../../shared/context";
import type { StorageClients } from "../../shared/storage/clients";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { actOnIssueInTurn } from "../../shared/workflows/issue-actions";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import type { Azurite } from "../support/azurite";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { drain } from "../support/queues";

let app: EmulatedApp;
let azurite: Azurite;
let storage: StorageClients;
let slack: SlackEmulator;
let deliverer: AppContext;
let target: { provider: "slack"; teamId: string; channel: string };

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "intake-resolved-by-person",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000e2b2", tenantId: "72f988bf-0000-4000-8000-0000000000e2" },
  });
  ({ azurite, storage, slack } = app);
  deliverer = app.context();
  const workspace = slack.addWorkspace({ name: "Ops" });
  await installInSlackWorkspace(app.direct, workspace);
  target = { provider: "slack", teamId: workspace.teamId, channel: slack.addChannel(workspace.teamId, { name: "alerts" }).id };
}, 60_000);
afterAll(async () => {
  await app?.stop();
});
beforeEach(async () => {
  await drain(azurite.connectionString, "issue-events");
});

const ana = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "teams" as const };

/** The Alertmanager sample as it fires since `startsAt`, under an issue of the test's own, to the Slack channel. */
function firing(issueId: string, startsAt: string, release?: string): Alert {
  const alert = alertmanagerAlert("firing", startsAt);
  const tags = release ? { ...alert.issue.tags, release } : alert.issue.tags;
  return { ...alert, alertId: alert.alertId.replace(alert.issue.id, issueId), issue: { ...alert.issue, id: issueId, tags }, targets: [target] };
}

/** The alerts handler takes the alert (put on the queue at `insertedAt`, when given), and the deliverer posts what it planned. */
async function take(alert: Alert, insertedAt?: Date): Promise<void> {
  await takeAlert(storage, alert, JSON.stringify(alert), { deliverer, ...(insertedAt ? { insertedAt } : {}) });
  for (const queued of await drain(azurite.connectionString, "deliveries")) {
    const read = readDeliveryMessage(queued.body);
    if (!read.ok) throw new Error(`unexpected deliveries message: ${read.path}`);
    await deliverBatch(deliverer, read.batch);
  }
}

/** A click on the issue's card, through the workflow Teams clicks use. */
async function click(issueId: string, action: IssueAction): Promise<void> {
  const acted = await actOnIssueInTurn(storage, issueId, action, ana);
  expect(acted.outcome.kind).toBe("changed");
  await acted.announce();
}

const issue = async (id: string) => (await new IssueRepository(storage).get(id))!.issue;
const cards = (issueId: string) =>
  slack.messages(target.channel).filter((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`)).length;

/** The history lines announced for the issue since the last look. */
async function lines(issueId: string): Promise<string[]> {
  const events = (await drain(azurite.connectionString, "issue-events")).map((m) => m.body as { issueId: string; action: string });
  return events.filter((event) => event.issueId === issueId).map((event) => event.action);
}

describe("an alert that still fires after a person resolved its issue", () => {
  it("the source's next resend reopens it (Regressed) with a new card; the resend after that changes nothing", async () => {
    const id = "alertmanager:resolved-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "Ana" });
    expect(cards(id)).toBe(1);
    await lines(id);

    await take(firing(id, startsAt));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed", statusChangedBy: "a new event" });
    expect(await lines(id)).toEqual(["regressed"]);
    expect(cards(id)).toBe(2);

    const regressed = await issue(id);
    await take(firing(id, startsAt));
    expect(await issue(id)).toEqual(regressed);
    expect(await lines(id)).toEqual([]);
    expect(cards(id)).toBe(2);
  });

  it("resolved again after that, the next resend reopens it again", async () => {
    const id = "alertmanager:resolved-twice-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    await take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    await lines(id);

    await take(firing(id, startsAt));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(id)).toEqual(["regressed"]);
  });

  it("a resend put on the queue before the person resolved it (a redelivery) leaves it resolved; one put there after reopens it", async () => {
    const id = "alertmanager:resolved-then-redelivered";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    const sentBeforeTheClick = new Date(Date.now() - 60_000);
    await take(firing(id, startsAt), sentBeforeTheClick);
    await click(id, { type: "resolve" });
    await lines(id);

    await take(firing(id, startsAt), sentBeforeTheClick);
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "Ana" });
    expect(await lines(id)).toEqual([]);

    await take(firing(id, startsAt), new Date(Date.now() + 1000));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(id)).toEqual(["regressed"]);
  });

  it("resolved in the next release: resends from the release it fires in leave it resolved in the next release", async () => {
    const id = "alertmanager:resolved-in-next-release";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await take(firing(id, startsAt, "1.2.3"));
    await click(id, { type: "resolve", inRelease: "next" });
    await lines(id);

    await take(firing(id, startsAt, "1.2.3"));
    await take(firing(id, startsAt, "1.2.3"));
    expect(await issue(id)).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    expect(await lines(id)).toEqual([]);
    expect(cards(id)).toBe(1);
  });

  it("ignored instead: resends leave it ignored", async () => {
    const id = "alertmanager:ignored-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await take(firing(id, startsAt));
    await click(id, { type: "ignore", ignore: { mode: "forever" } });
    const ignored = await issue(id);
    await lines(id);

    await take(firing(id, startsAt));
    expect(await issue(id)).toEqual(ignored);
    expect(await lines(id)).toEqual([]);
  });
});
