// An alert its source still fires, re-sent as it is (Alertmanager's repeat_interval: the same startsAt, the same
// alert id), after a person resolved its issue from a card: through the alerts handler, the click's workflow, the
// deliverer, real storage and the Slack emulator.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Alert } from "../../shared/domain/alert";
import type { IssueAction } from "../../shared/domain/actions";
import { IssueRepository } from "../../shared/storage/issues";
import { actOnIssueInTurn } from "../../shared/workflows/issue-actions";
import { alertmanagerAlert } from "../fixtures/alertmanager-alerts";
import { startEmulatedAppInSlackChannel, type SlackChannelApp } from "../support/emulated-app";
import { drain, drainIssueEventActions } from "../support/queues";

let app: SlackChannelApp;

beforeAll(async () => {
  app = await startEmulatedAppInSlackChannel({
    name: "intake-resolved-by-person",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000e2b2", tenantId: "72f988bf-0000-4000-8000-0000000000e2" },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});
beforeEach(async () => {
  await drain(app.azurite.connectionString, "issue-events");
});

const ana = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "teams" as const };

/** The Alertmanager sample as it fires since `startsAt`, under an issue of the test's own, to the Slack channel. */
function firing(issueId: string, startsAt: string, release?: string): Alert {
  const alert = alertmanagerAlert("firing", startsAt);
  const tags = release ? { ...alert.issue.tags, release } : alert.issue.tags;
  return { ...alert, alertId: alert.alertId.replace(alert.issue.id, issueId), issue: { ...alert.issue, id: issueId, tags }, targets: [app.target] };
}

/** A click on the issue's card, through the workflow Teams clicks use. */
async function click(issueId: string, action: IssueAction): Promise<void> {
  const acted = await actOnIssueInTurn(app.storage, issueId, action, ana);
  expect(acted.outcome.kind).toBe("changed");
  await acted.announce();
}

const issue = async (id: string) => (await new IssueRepository(app.storage).get(id))!.issue;
/** The history lines announced for the issue since the last look. */
const lines = (issueId: string) => drainIssueEventActions(app.azurite.connectionString, issueId);

describe("an alert that still fires after a person resolved its issue", () => {
  it("the source's next resend reopens it (Regressed) with a new card; the resend after that changes nothing", async () => {
    const id = "alertmanager:resolved-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await app.take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "Ana" });
    expect(app.cards(id)).toBe(1);
    await lines(id);

    await app.take(firing(id, startsAt));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed", statusChangedBy: "a new event" });
    expect(await lines(id)).toEqual(["regressed"]);
    expect(app.cards(id)).toBe(2);

    const regressed = await issue(id);
    await app.take(firing(id, startsAt));
    expect(await issue(id)).toEqual(regressed);
    expect(await lines(id)).toEqual([]);
    expect(app.cards(id)).toBe(2);
  });

  it("resolved again after that, the next resend reopens it again", async () => {
    const id = "alertmanager:resolved-twice-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await app.take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    await app.take(firing(id, startsAt));
    await click(id, { type: "resolve" });
    await lines(id);

    await app.take(firing(id, startsAt));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(id)).toEqual(["regressed"]);
  });

  it("a resend put on the queue before the person resolved it (a redelivery) leaves it resolved; one put there after reopens it", async () => {
    const id = "alertmanager:resolved-then-redelivered";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    const sentBeforeTheClick = new Date(Date.now() - 60_000);
    await app.take(firing(id, startsAt), sentBeforeTheClick);
    await click(id, { type: "resolve" });
    await lines(id);

    await app.take(firing(id, startsAt), sentBeforeTheClick);
    expect(await issue(id)).toMatchObject({ status: "resolved", statusChangedBy: "Ana" });
    expect(await lines(id)).toEqual([]);

    await app.take(firing(id, startsAt), new Date(Date.now() + 1000));
    expect(await issue(id)).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(await lines(id)).toEqual(["regressed"]);
  });

  it("resolved in the next release: resends from the release it fires in leave it resolved in the next release", async () => {
    const id = "alertmanager:resolved-in-next-release";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await app.take(firing(id, startsAt, "1.2.3"));
    await click(id, { type: "resolve", inRelease: "next" });
    await lines(id);

    await app.take(firing(id, startsAt, "1.2.3"));
    await app.take(firing(id, startsAt, "1.2.3"));
    expect(await issue(id)).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    expect(await lines(id)).toEqual([]);
    expect(app.cards(id)).toBe(1);
  });

  it("ignored instead: resends leave it ignored", async () => {
    const id = "alertmanager:ignored-while-firing";
    const startsAt = new Date(Date.now() - 3_600_000).toISOString();
    await app.take(firing(id, startsAt));
    await click(id, { type: "ignore", ignore: { mode: "forever" } });
    const ignored = await issue(id);
    await lines(id);

    await app.take(firing(id, startsAt));
    expect(await issue(id)).toEqual(ignored);
    expect(await lines(id)).toEqual([]);
  });
});
