// The alerts queue's two message kinds, taken against real Azurite: recoveries and issue actions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageClients } from "../../../shared/storage/clients";
import { ActivityRepository, IssueRepository } from "../../../shared/storage/issues";
import { takeAlert } from "../../../shared/workflows/alert-intake";
import { anAlert } from "../../fixtures/issues";
import { startTestAzurite, type Azurite } from "../../support/azurite";
import { drain } from "../../support/queues";

let azurite: Azurite;
let storage: StorageClients;

beforeAll(async () => {
  azurite = await startTestAzurite();
  storage = new StorageClients({ kind: "connectionString", connectionString: azurite.connectionString });
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
});

const take = (message: unknown) => takeAlert(storage, message, JSON.stringify(message));
const action = (issueId: string, act: Record<string, unknown>) => ({
  schemaVersion: 1,
  kind: "issue-action",
  issueId,
  source: "sentry",
  action: act,
});
const target = { provider: "slack" as const, teamId: "T0AAA1", channel: "C0AAA1" };

describe("a resolved alert on the queue", () => {
  it("resolves the issue by the source, announces it, and plans no new card", async () => {
    await take(anAlert({ alertId: "grafana:ab:firing:1", issue: { id: "grafana:ab", lastSeen: "2026-11-21T13:55:00.000Z" }, targets: [target] }));
    await drain(azurite.connectionString, "deliveries");
    await drain(azurite.connectionString, "issue-events");
    const result = await take(
      anAlert({
        alertId: "grafana:ab:resolved:1",
        status: "resolved",
        issue: { id: "grafana:ab", lastSeen: "2026-11-21T14:00:00.000Z" },
        targets: [target],
      }),
    );
    expect(result).toMatchObject({ kind: "accepted", deliveries: 0, issue: { status: "resolved", statusChangedBy: "grafana" } });
    expect(await drain(azurite.connectionString, "deliveries")).toEqual([]);
    const events = (await drain(azurite.connectionString, "issue-events")).map((e) => e.body);
    expect(events).toEqual([expect.objectContaining({ issueId: "grafana:ab", action: "resolve", actor: "grafana", surface: "alert" })]);
    // Taken again: nothing changes, nothing is announced.
    expect(
      await take(
        anAlert({ alertId: "grafana:ab:resolved:1", status: "resolved", issue: { id: "grafana:ab", lastSeen: "2026-11-21T14:00:00.000Z" } }),
      ),
    ).toMatchObject({ duplicate: true });
    expect(await drain(azurite.connectionString, "issue-events")).toEqual([]);
  });
});

describe("an issue-action message on the queue", () => {
  it("mirrors archived (ignore until 100 more events) by sentry", async () => {
    await take(anAlert({ alertId: "sentry:77:firing:created", issue: { id: "sentry:77" } }));
    expect(await take(action("sentry:77", { type: "ignore", ignore: { mode: "events", count: 100 } }))).toMatchObject({
      kind: "accepted",
      issue: { status: "ignored" },
    });
    const [latest] = await new ActivityRepository(storage).list("sentry:77", 1);
    expect(latest).toMatchObject({ action: "ignore", actor: "sentry", surface: "alert" });
  });

  it("a refused action (ignore a resolved issue) leaves the issue as it is", async () => {
    await take(action("sentry:77", { type: "resolve" }));
    const version = (await new IssueRepository(storage).get("sentry:77"))!.issue.version;
    expect(await take(action("sentry:77", { type: "ignore", ignore: { mode: "forever" } }))).toMatchObject({
      kind: "accepted",
      duplicate: true,
      issue: { status: "resolved", version },
    });
  });

  it("an issue never received here: nothing to change", async () => {
    expect(await take(action("sentry:404", { type: "resolve" }))).toEqual({ kind: "no-issue", issueId: "sentry:404" });
    expect(await new IssueRepository(storage).get("sentry:404")).toBeUndefined();
  });

  it("a malformed one goes to alerts-poison with its paths", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    const result = await take(action("sentry/bad", { type: "explode" }));
    expect(result.kind).toBe("poisoned");
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    expect((poison!.body as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual(["action.type", "issueId"]);
  });

  it("an assignee's email longer than an email can be goes to alerts-poison at once, with its path, the issue unchanged", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    const version = (await new IssueRepository(storage).get("sentry:77"))!.issue.version;
    const result = await take(action("sentry:77", { type: "assign", assignee: { email: `${"a".repeat(40_000)}@example.com` } }));
    expect(result.kind).toBe("poisoned");
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    expect((poison!.body as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(["action.assignee.email"]);
    expect((await new IssueRepository(storage).get("sentry:77"))!.issue.version).toBe(version);
  });
});
