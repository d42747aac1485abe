import { describe, expect, it } from "vitest";
import type { StorageClients } from "../../shared/storage/clients";
import { ActivityRepository, IssueRepository } from "../../shared/storage/issues";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import { getIssue, patchIssue } from "../../shared/workflows/issue-api";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { useTestStorage } from "../support/test-storage";
import { drain, queueClient } from "../support/queues";

let azurite: Azurite;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, storage } = started));

const person = (n: number) => ({ person: { email: `person${n}@contoso.com` }, label: `Person ${n}`, surface: "api" as const });

describe("issue store against Azurite", () => {
  it("20 concurrent conflicting changes to one issue: none lost, 20 activity rows", async () => {
    const alert = anAlert({ alertId: "etag-alert", issue: { id: "etag-issue" } });
    await takeAlert(storage, alert, JSON.stringify(alert));
    const before = (await new IssueRepository(storage).get("etag-issue"))!.issue;

    // Every one of the 20 assigns someone different, so each is a real change that must be applied on top of the others.
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        actOnIssue(storage, "etag-issue", { type: "assign", assignee: { email: `person${n}@contoso.com` } }, person(n)),
      ),
    );

    expect(outcomes.map((o) => o.kind)).toEqual(Array(20).fill("changed"));
    const after = (await new IssueRepository(storage).get("etag-issue"))!.issue;
    expect(after.version).toBe(before.version + 20);
    const assigns = (await new ActivityRepository(storage).list("etag-issue")).filter((a) => a.action === "assign");
    expect(assigns).toHaveLength(20);
    expect(new Set(assigns.map((a) => a.actor)).size).toBe(20);
    expect(assigns.map((a) => a.detail)).toContain(after.assignee?.email);
  });

  it("an issue resolved in the next release keeps that through storage: an alert from the same release leaves it resolved, a later one regresses it", async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
    const alertFrom = (n: number, release: string) =>
      anAlert({ alertId: `release-alert-${n}`, issue: { id: "release-issue", count: n, lastSeen: at(n), tags: { release } } });
    const first = alertFrom(1, "1.2.3");
    await takeAlert(storage, first, JSON.stringify(first));
    expect(await actOnIssue(storage, "release-issue", { type: "resolve", inRelease: "next" }, person(1))).toMatchObject({ kind: "changed" });
    const stored = (await new IssueRepository(storage).get("release-issue"))!.issue;
    expect(stored).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });

    const same = alertFrom(2, "1.2.3");
    await takeAlert(storage, same, JSON.stringify(same));
    expect((await new IssueRepository(storage).get("release-issue"))!.issue.status).toBe("resolved");

    const later = alertFrom(3, "1.2.4");
    await takeAlert(storage, later, JSON.stringify(later));
    const regressed = (await new IssueRepository(storage).get("release-issue"))!.issue;
    expect(regressed).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(regressed.resolution).toBeUndefined();
  });

  it("an action that changes nothing writes nothing", async () => {
    const alert = anAlert({ alertId: "noop-alert", issue: { id: "noop-issue" } });
    await takeAlert(storage, alert, JSON.stringify(alert));
    await actOnIssue(storage, "noop-issue", { type: "resolve" }, person(1));
    const version = (await new IssueRepository(storage).get("noop-issue"))!.issue.version;
    const again = await actOnIssue(storage, "noop-issue", { type: "resolve" }, person(2));
    expect(again).toMatchObject({ kind: "unchanged", message: expect.stringMatching(/already resolved/) });
    expect((await new IssueRepository(storage).get("noop-issue"))!.issue.version).toBe(version);
    expect((await new ActivityRepository(storage).list("noop-issue")).filter((a) => a.action === "resolve")).toHaveLength(1);
  });

  it("the issue API answers 400, not a storage error, for an id no issue can have", async () => {
    for (const id of ["x".repeat(600), "a\ud800b"]) {
      expect(await getIssue(storage, id)).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not an issue id/) } });
      expect(await patchIssue(storage, id, { action: "resolve", actor: "ana@contoso.com" })).toMatchObject({ status: 400 });
    }
  });

  it("an action on an unknown issue says so", async () => {
    expect(await actOnIssue(storage, "no-such-issue", { type: "resolve" }, person(1))).toMatchObject({ kind: "not-found" });
  });

  it("the same alert taken twice changes nothing the second time", async () => {
    await drain(azurite.connectionString, "deliveries");
    const alert = anAlert({ alertId: "twice", issue: { id: "twice-issue" }, targets: [{ provider: "slack", teamId: "T01", channel: "C01" }] });
    const first = await takeAlert(storage, alert, JSON.stringify(alert));
    const second = await takeAlert(storage, alert, JSON.stringify(alert));
    expect(first).toMatchObject({ kind: "accepted", duplicate: false, deliveries: 1 });
    expect(second).toMatchObject({ kind: "accepted", duplicate: true, deliveries: 0 });
    const stored = (await new IssueRepository(storage).get("twice-issue"))!;
    expect(stored.issue.version).toBe(1);
    expect(stored.recentAlertIds).toEqual(["twice"]);
    expect(await drain(azurite.connectionString, "deliveries")).toHaveLength(1);
    expect(await new DeliveryRepository(storage).listForAlert("twice")).toMatchObject([{ state: "pending", enqueued: true }]);
  });

  it("a state change is announced on issue-events and card-refresh", async () => {
    const alert = anAlert({ alertId: "events-alert", issue: { id: "events-issue" } });
    await takeAlert(storage, alert, JSON.stringify(alert));
    await drain(azurite.connectionString, "issue-events");
    await drain(azurite.connectionString, "card-refresh");
    await actOnIssue(storage, "events-issue", { type: "ignore", ignore: { mode: "events", count: 100 } }, person(3));
    const events = await drain(azurite.connectionString, "issue-events");
    expect(events.map((e) => e.body)).toEqual([
      expect.objectContaining({
        schemaVersion: 1,
        issueId: "events-issue",
        action: "ignore",
        actor: "person3@contoso.com",
        surface: "api",
        from: "unresolved",
        to: "ignored",
        detail: "ignored until 100 more events",
      }),
    ]);
    expect((await drain(azurite.connectionString, "card-refresh")).map((m) => m.body)).toEqual([
      expect.objectContaining({ issueId: "events-issue", version: 2 }),
    ]);
  });

  it("a rejected alert too big to quote whole still lands in alerts-poison at once, its original cut to fit", async () => {
    await drain(azurite.connectionString, "alerts-poison");
    const huge = {
      ...anAlert({ alertId: "huge" }),
      targets: Array.from({ length: 880 }, () => ({ provider: "slack", teamId: "T1", channel: "#not-an-id" })),
    };
    const text = JSON.stringify(huge).replace(/"#not-an-id"/g, '"\\"\\"\\"\\"\\"\\"#x"');
    expect(text.length).toBeGreaterThan(40_000);
    const result = await takeAlert(storage, JSON.parse(text), text);
    expect(result.kind).toBe("poisoned");
    const [poison] = await drain(azurite.connectionString, "alerts-poison");
    const body = poison!.body as { error: string; issues: unknown[]; original: string; truncated?: boolean };
    expect(body.truncated).toBe(true);
    expect(body.issues.length).toBeLessThanOrEqual(20);
    expect(text.startsWith(body.original)).toBe(true);
    expect(poison!.raw.length).toBeLessThan(64 * 1024);
  });

  it("a change stored but not announced (the queue failed) is announced by the next touch, once", async () => {
    const alert = anAlert({ alertId: "outbox-1", issue: { id: "outbox-issue" } });
    await storage.send("card-refresh", { warm: true }); // the app's client now believes the queue exists
    await drain(azurite.connectionString, "card-refresh");
    await drain(azurite.connectionString, "issue-events");
    await queueClient(azurite.connectionString, "card-refresh").delete();

    await expect(takeAlert(storage, alert, JSON.stringify(alert))).rejects.toThrow();
    expect((await new IssueRepository(storage).get("outbox-issue"))!.issue.version).toBe(1);

    await queueClient(azurite.connectionString, "card-refresh").create();
    const redelivered = await takeAlert(storage, alert, JSON.stringify(alert));
    expect(redelivered).toMatchObject({ kind: "accepted", duplicate: true });
    expect((await drain(azurite.connectionString, "card-refresh")).map((m) => m.body)).toEqual([
      expect.objectContaining({ issueId: "outbox-issue" }),
    ]);
    const events = (await drain(azurite.connectionString, "issue-events")).map((m) => m.body as { action: string; eventId: string });
    // The event may go out twice (once before the failure), always with the same id, for consumers to de-duplicate.
    const created = events.filter((e) => e.action === "created");
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((e) => e.eventId))).toEqual(new Set(["outbox-issue:1.0"]));
    expect((await new ActivityRepository(storage).list("outbox-issue")).map((a) => a.action)).toEqual(["created"]);

    // Nothing left pending: a third delivery announces nothing.
    await takeAlert(storage, alert, JSON.stringify(alert));
    expect(await drain(azurite.connectionString, "card-refresh")).toEqual([]);
  });
});
