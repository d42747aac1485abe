import { describe, expect, it } from "vitest";
import type { StorageClients } from "../../shared/storage/clients";
import { ActivityRepository, ANNOUNCE_CLAIM_SECONDS, IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { actOnIssue } from "../../shared/workflows/issue-actions";
import { patchIssue } from "../../shared/workflows/issue-api";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { useTestStorage } from "../support/test-storage";
import { drain, queueClient } from "../support/queues";

let azurite: Azurite;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, storage } = started));

const person = (n: number) => ({ person: { email: `person${n}@contoso.com` }, label: `Person ${n}`, surface: "api" as const });
const assign = (n: number) => ({ type: "assign" as const, assignee: { email: `person${n}@contoso.com` } });

async function anIssueNamed(id: string): Promise<void> {
  const alert = anAlert({ alertId: `${id}-alert`, issue: { id } });
  await takeAlert(storage, alert, JSON.stringify(alert));
}

async function events(issueId: string): Promise<{ eventId: string; action: string; issueVersion: number }[]> {
  const all = (await drain(azurite.connectionString, "issue-events")).map(
    (m) => m.body as { issueId: string; eventId: string; action: string; issueVersion: number },
  );
  return all.filter((event) => event.issueId === issueId);
}

describe("the outbox", () => {
  it("15 concurrent changes to one issue are announced once each", async () => {
    await anIssueNamed("contended");
    await drain(azurite.connectionString, "issue-events");

    await Promise.all(Array.from({ length: 15 }, (_, n) => actOnIssue(storage, "contended", assign(n), person(n))));

    const announced = await events("contended");
    expect(announced).toHaveLength(15);
    expect(new Set(announced.map((event) => event.eventId)).size).toBe(15);
    expect(announced.map((event) => event.issueVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, n) => n + 2));
  });

  it("changes made while issue-events is down are all announced once it is back: none dropped", async () => {
    await anIssueNamed("outage");
    await storage.send("issue-events", { warm: true }); // the app's client now believes the queue exists
    await drain(azurite.connectionString, "issue-events");
    await queueClient(azurite.connectionString, "issue-events").delete();

    let refused = 0;
    for (let n = 0; n < 60; n++) {
      // Each fails to announce; those the issue can't hold any more are refused, to be retried.
      await actOnIssue(storage, "outage", assign(n), person(n)).then(
        () => expect.fail("announcing cannot succeed while the queue is down"),
        () => refused++,
      );
    }
    expect(refused).toBe(60);
    const stored = (await new IssueRepository(storage).get("outage"))!.issue;
    expect(stored.version).toBeLessThan(61); // some changes were refused rather than stored unannounced
    // Through the API that is a 503 to retry, and nothing changes.
    const api = await patchIssue(storage, "outage", { action: "assign", actor: "ana@contoso.com", assignee: "me" });
    expect(api).toMatchObject({ status: 503, body: { error: expect.stringMatching(/try again/) } });
    expect((await new IssueRepository(storage).get("outage"))!.issue.version).toBe(stored.version);

    await queueClient(azurite.connectionString, "issue-events").create();
    const after = await actOnIssue(storage, "outage", assign(100), person(100));
    expect(after.kind).toBe("changed");

    const final = (await new IssueRepository(storage).get("outage"))!.issue.version;
    const announced = await events("outage");
    const versions = announced.map((event) => event.issueVersion).sort((a, b) => a - b);
    // Every stored change after the alert's (version 1), announced exactly once.
    expect(versions).toEqual(Array.from({ length: final - 1 }, (_, n) => n + 2));
    const assigns = (await new ActivityRepository(storage).list("outage", 200)).filter((a) => a.action === "assign");
    expect(assigns).toHaveLength(final - 1);
  });

  it("a change whose writer died is left to it until its claim runs out, then claimed by one announcer only", async () => {
    await anIssueNamed("orphan");
    const repository = new IssueRepository(storage);
    // A writer stores a change and dies before announcing it.
    const written = await repository.change("orphan", (current) => ({
      issue: { ...current!.issue, title: "renamed", version: current!.issue.version + 1 },
      activities: [],
    }));
    expect(await repository.claimUnannounced("orphan")).toEqual([]);
    const later = new Date(Date.now() + (ANNOUNCE_CLAIM_SECONDS + 1) * 1000);
    expect((await repository.claimUnannounced("orphan", later)).map((entry) => entry.version)).toEqual([written!.issue.version]);
    expect(await repository.claimUnannounced("orphan", later)).toEqual([]);
  });

  it("Unignore on an ignore that just ran out stores what the clicker is told: unresolved", async () => {
    await anIssueNamed("expired-ignore");
    const clickedAt = Date.now();
    const ignored = await actOnIssue(
      storage,
      "expired-ignore",
      { type: "ignore", ignore: { mode: "minutes", minutes: 1 } },
      person(1),
      () => new Date(clickedAt),
    );
    expect(ignored).toMatchObject({ kind: "changed", issue: { status: "ignored" } });
    await drain(azurite.connectionString, "issue-events");

    // Two minutes later, before the wake-up has run: the ignore has run out.
    const outcome = await actOnIssue(storage, "expired-ignore", { type: "unignore" }, person(2), () => new Date(clickedAt + 120_000));
    expect(outcome).toMatchObject({ kind: "unchanged", message: expect.stringMatching(/not ignored/), issue: { status: "unresolved" } });

    const stored = (await new IssueRepository(storage).get("expired-ignore"))!.issue;
    expect(stored).toMatchObject({ status: "unresolved", substatus: "escalating" });
    expect(stored.ignore).toBeUndefined();
    expect((await events("expired-ignore")).map((event) => event.action)).toEqual(["ignore-expired"]);
  });
});
