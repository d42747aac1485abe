import { afterEach, describe, expect, it, vi } from "vitest";
import type { StorageClients } from "../../shared/storage/clients";
import { ActivityRepository, ANNOUNCE_CLAIM_SECONDS, IssueRepository } from "../../shared/storage/issues";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { actOnIssueAnnounceLater } from "../../shared/workflows/issue-actions";
import { anAlert } from "../fixtures/issues";
import type { Azurite } from "../support/azurite";
import { useTestStorage } from "../support/test-storage";
import { drain } from "../support/queues";

// A click is answered from the stored change; its announcements (history line, issue-event, card refresh)
// are sent after the answer. They go out exactly once, and not even an instance that stops between the
// answer and the announcement loses them.
let azurite: Azurite;
let storage: StorageClients;

useTestStorage((started) => ({ azurite, storage } = started));
afterEach(() => {
  vi.useRealTimers();
});

const ana = { person: { email: "ana@contoso.com" }, label: "Ana", surface: "slack" as const };
const ben = { person: { email: "ben@contoso.com" }, label: "Ben", surface: "teams" as const };

async function anIssueNamed(id: string): Promise<void> {
  const alert = anAlert({ alertId: `${id}-alert`, issue: { id } });
  await takeAlert(storage, alert, JSON.stringify(alert));
  await drain(azurite.connectionString, "issue-events");
  await drain(azurite.connectionString, "card-refresh");
}

async function announced(issueId: string) {
  const events = (await drain(azurite.connectionString, "issue-events")).map(
    (m) => m.body as { issueId: string; action: string; issueVersion: number },
  );
  const refreshes = (await drain(azurite.connectionString, "card-refresh")).map((m) => m.body as { issueId: string });
  const history = await new ActivityRepository(storage).list(issueId);
  return {
    events: events.filter((e) => e.issueId === issueId),
    refreshes: refreshes.filter((r) => r.issueId === issueId).length,
    history: history.map((a) => a.action).filter((action) => action !== "created"),
  };
}

describe("announcing a click's change after its answer", () => {
  it("the answer has the stored change; the history line, issue-event and card refresh follow, once however often announce is called", async () => {
    await anIssueNamed("later-once");
    const acted = await actOnIssueAnnounceLater(storage, "later-once", { type: "resolve" }, ana);
    expect(acted.outcome).toMatchObject({ kind: "changed", issue: { status: "resolved", version: 2 } });
    expect((await new IssueRepository(storage).get("later-once"))!.issue.status).toBe("resolved");
    expect(await announced("later-once")).toEqual({ events: [], refreshes: 0, history: [] });

    await Promise.all([acted.announce(), acted.announce()]);
    await acted.announce();
    expect(await announced("later-once")).toEqual({
      events: [expect.objectContaining({ action: "resolve", issueVersion: 2 })],
      refreshes: 1,
      history: ["resolve"],
    });
    // Recorded as announced: nobody sends it again.
    expect((await new IssueRepository(storage).get("later-once"))!.outbox.find((entry) => entry.version === 2)).toMatchObject({ announced: true });
  });

  it("an instance that stopped after answering: the next click once the claim ran out announces the change, once, with its own", async () => {
    await anIssueNamed("later-orphan");
    // Answered, never announced.
    await actOnIssueAnnounceLater(storage, "later-orphan", { type: "resolve" }, ana);
    // Within the claim the writer may still be at it: a click that changes nothing leaves it alone.
    const early = await actOnIssueAnnounceLater(storage, "later-orphan", { type: "resolve" }, ben);
    expect(early.outcome.kind).toBe("unchanged");
    await early.announce();
    expect(await announced("later-orphan")).toEqual({ events: [], refreshes: 0, history: [] });

    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + (ANNOUNCE_CLAIM_SECONDS + 1) * 1000);
    const next = await actOnIssueAnnounceLater(storage, "later-orphan", { type: "unresolve" }, ben);
    expect(next.outcome.kind).toBe("changed");
    await next.announce();
    const after = await announced("later-orphan");
    expect(after.events.map((e) => [e.action, e.issueVersion])).toEqual([
      ["resolve", 2],
      ["unresolve", 3],
    ]);
    expect(after.history).toEqual(["unresolve", "resolve"]);
    await (await actOnIssueAnnounceLater(storage, "later-orphan", { type: "unresolve" }, ana)).announce();
    expect((await announced("later-orphan")).events).toEqual([]);
  });

  it("a click that changes nothing, on an issue whose last writer stopped, announces that change", async () => {
    await anIssueNamed("later-unchanged");
    await actOnIssueAnnounceLater(storage, "later-unchanged", { type: "resolve" }, ana);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + (ANNOUNCE_CLAIM_SECONDS + 1) * 1000);
    const stale = await actOnIssueAnnounceLater(storage, "later-unchanged", { type: "resolve" }, ben);
    expect(stale.outcome.kind).toBe("unchanged");
    expect(stale.issue).toMatchObject({ status: "resolved" });
    await stale.announce();
    expect(await announced("later-unchanged")).toEqual({
      events: [expect.objectContaining({ action: "resolve", issueVersion: 2 })],
      refreshes: 1,
      history: ["resolve"],
    });
  });
});
