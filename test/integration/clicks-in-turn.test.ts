import { describe, expect, it } from "vitest";
import type { StorageClients } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { actOnIssueInTurn } from "../../shared/workflows/issue-actions";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { drain } from "../support/queues";
import type { StorageProxy } from "../support/storage-proxy";
import { useTestStorage } from "../support/test-storage";

// Twenty people click Resolve on one card at once (one instance): the first resolves the issue, the others are
// told it already is, from what the first wrote after they clicked, without reading it again.
let azurite: Azurite;
let proxy: StorageProxy;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, proxy, storage } = started), { countRequests: true });

const person = (n: number) => ({ person: { email: `person${n}@contoso.com` }, label: `Person ${n}`, surface: "teams" as const });
const issueRequests = (mark: number) => proxy.requests.slice(mark).filter((r) => r.resource === "issues");

async function anIssueNamed(id: string): Promise<void> {
  const alert = anAlert({ alertId: `${id}-alert`, issue: { id } });
  await takeAlert(storage, alert, JSON.stringify(alert));
  await drain(azurite.connectionString, "issue-events");
}

describe("clicks on one issue in one instance", () => {
  it("20 Resolve clicks at once: one applies it, 19 are told it is already resolved, after one read and one write of the issue", async () => {
    await anIssueNamed("in-turn");
    const mark = proxy.mark();
    const acted = await Promise.all(Array.from({ length: 20 }, (_, n) => actOnIssueInTurn(storage, "in-turn", { type: "resolve" }, person(n))));

    expect(acted.filter((a) => a.outcome.kind === "changed")).toHaveLength(1);
    const told = acted.filter((a) => a.outcome.kind === "unchanged");
    expect(told).toHaveLength(19);
    for (const a of told) expect(a.issue).toMatchObject({ status: "resolved", version: 2 });
    expect(issueRequests(mark).map((r) => r.method)).toEqual(["GET", "PUT"]);

    await Promise.all(acted.map((a) => a.announce()));
    expect((await drain(azurite.connectionString, "issue-events")).map((m) => (m.body as { action: string }).action)).toEqual(["resolve"]);
  });

  it("clicks that each change the issue take their own turns: 15 people assigning themselves at once, every change stored and announced once", async () => {
    await anIssueNamed("in-turn-assign");
    const acted = await Promise.all(
      Array.from({ length: 15 }, (_, n) =>
        actOnIssueInTurn(storage, "in-turn-assign", { type: "assign", assignee: { email: `person${n}@contoso.com` } }, person(n)),
      ),
    );
    expect(acted.every((a) => a.outcome.kind === "changed")).toBe(true);
    await Promise.all(acted.map((a) => a.announce()));
    expect((await new IssueRepository(storage).get("in-turn-assign"))!.issue.version).toBe(16);
    const events = (await drain(azurite.connectionString, "issue-events")).map((m) => m.body as { eventId: string; issueId: string });
    expect(new Set(events.filter((e) => e.issueId === "in-turn-assign").map((e) => e.eventId)).size).toBe(15);
  });

  it("a click that arrived after the write ahead of it reads the issue itself", async () => {
    await anIssueNamed("in-turn-late");
    await (await actOnIssueInTurn(storage, "in-turn-late", { type: "resolve" }, person(1))).announce();
    // Changed elsewhere (another instance, the API) since.
    await new IssueRepository(storage).change("in-turn-late", (current) => ({
      issue: { ...current!.issue, status: "unresolved", version: current!.issue.version + 1 },
      activities: [],
    }));
    const later = await actOnIssueInTurn(storage, "in-turn-late", { type: "resolve" }, person(2));
    expect(later.outcome.kind).toBe("changed");
  });
});

describe("the same ignore clicked twice", () => {
  it("Ana's 'for 30 minutes' arriving twice 400 ms apart (a double click, a redelivery) is stored and announced once", async () => {
    await anIssueNamed("in-turn-ignore-twice");
    const ana = { person: { email: "ana@contoso.com", name: "Ana" }, label: "Ana", surface: "teams" as const };
    const ignore30 = { type: "ignore", ignore: { mode: "minutes", minutes: 30 } } as const;
    const clickedAt = Date.parse("2026-11-21T01:00:00.000Z");
    const first = await actOnIssueInTurn(storage, "in-turn-ignore-twice", ignore30, ana, () => new Date(clickedAt));
    const second = await actOnIssueInTurn(storage, "in-turn-ignore-twice", ignore30, ana, () => new Date(clickedAt + 400));
    await Promise.all([first.announce(), second.announce()]);

    expect(first.outcome.kind).toBe("changed");
    expect(second.outcome).toMatchObject({ kind: "unchanged", message: expect.stringMatching(/already ignored until 2026-11-21 01:30 UTC/) });
    expect((await new IssueRepository(storage).get("in-turn-ignore-twice"))!.issue).toMatchObject({
      version: 2,
      ignore: { until: "2026-11-21T01:30:00.000Z" },
    });
    const events = (await drain(azurite.connectionString, "issue-events")).map((m) => m.body as { issueId: string; action: string });
    expect(events.filter((e) => e.issueId === "in-turn-ignore-twice").map((e) => e.action)).toEqual(["ignore"]);
  });
});
