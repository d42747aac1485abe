// The `releases` table against Azurite, through the counting proxy: what intake pays for a project's release list,
// and how two instances that each cache it keep one order.
import { describe, expect, it } from "vitest";
import { StorageClients } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { ProjectReleases, RELEASES_CACHE_MS } from "../../shared/storage/releases";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { patchIssue } from "../../shared/workflows/issue-api";
import { anAlert } from "../fixtures/issues";
import type { StorageProxy } from "../support/storage-proxy";
import { useTestStorage } from "../support/test-storage";

let proxy: StorageProxy;

useTestStorage((started) => ({ proxy } = started), { countRequests: true });

/** A Functions instance: its own storage clients, so its own cache. */
const instance = () => new StorageClients({ kind: "connectionString", connectionString: proxy.connectionString });
/** The requests to the `releases` table since `mark`, as "METHOD status". */
const releasesRequests = (mark: number) =>
  proxy.requests
    .slice(mark)
    .filter((r) => r.service === "table" && r.resource === "releases")
    .map((r) => `${r.method} ${r.status}`);
const alertFrom = (project: string, release: string | undefined, n: number) =>
  anAlert({
    alertId: `${project}-${n}`,
    issue: {
      id: `${project}-issue`,
      project,
      lastSeen: new Date(Date.parse("2026-11-21T14:00:00Z") + n * 60_000).toISOString(),
      tags: release ? { release } : {},
    },
  });

describe("a project's releases, cached per instance", () => {
  it("a release the instance knows costs no storage request; a new one costs one write; no release reads nothing", async () => {
    const storage = instance();
    const releases = new ProjectReleases(storage);
    await storage.table("releases"); // the table exists (created once per process)

    let mark = proxy.mark();
    await releases.forAlert(alertFrom("cost", "a1b2c3d", 1));
    expect(releasesRequests(mark)).toEqual(["GET 404", "POST 204"]); // the instance's first read, then the row created
    mark = proxy.mark();
    expect((await releases.forAlert(alertFrom("cost", "a1b2c3d", 2))).map((r) => r.version)).toEqual(["a1b2c3d"]);
    expect(releasesRequests(mark)).toEqual([]);

    mark = proxy.mark();
    expect((await releases.forAlert(alertFrom("cost", "e4f5a6b", 3))).map((r) => r.version)).toEqual(["a1b2c3d", "e4f5a6b"]);
    expect(releasesRequests(mark)).toEqual(["PUT 204"]);

    mark = proxy.mark();
    await releases.forAlert(alertFrom("cost", undefined, 4));
    expect(releasesRequests(mark)).toEqual([]);
  });

  it("two instances recording different releases keep both, in the order they were first reported", async () => {
    const first = new ProjectReleases(instance());
    const second = new ProjectReleases(instance());
    await first.forAlert(alertFrom("two", "f00dbad", 1));
    await second.forAlert(alertFrom("two", "c0ffee1", 2)); // reads the list, f00dbad in it
    await first.forAlert(alertFrom("two", "a1b2c3d", 3)); // its cached ETag is stale: reads again, records after c0ffee1
    const fresh = new ProjectReleases(instance());
    expect((await fresh.list("two")).map((r) => r.version)).toEqual(["f00dbad", "c0ffee1", "a1b2c3d"]);
  });

  it(`a list read more than ${RELEASES_CACHE_MS / 1000} s ago is read again`, async () => {
    let now = Date.parse("2026-11-21T15:00:00Z");
    const storage = instance();
    const releases = new ProjectReleases(storage, () => now);
    await releases.forAlert(alertFrom("ttl", "a1b2c3d", 1));
    await new ProjectReleases(instance()).forAlert(alertFrom("ttl", "e4f5a6b", 2));
    expect((await releases.list("ttl")).map((r) => r.version)).toEqual(["a1b2c3d"]);
    now += RELEASES_CACHE_MS;
    expect((await releases.list("ttl")).map((r) => r.version)).toEqual(["a1b2c3d", "e4f5a6b"]);
  });
});

describe("intake decides regressions with the stored list", () => {
  it("an issue resolved in the next release after a hash stays resolved on an alert from an earlier hash, and regresses on a later one", async () => {
    const storage = instance();
    const take = (release: string, n: number) => {
      const alert = alertFrom("intake", release, n);
      return takeAlert(storage, alert, JSON.stringify(alert));
    };
    await take("f00dbad", 1);
    await take("c0ffee1", 2);
    const resolved = await patchIssue(storage, "intake-issue", { action: "resolve", inRelease: "next", actor: "ana@contoso.com" });
    expect(resolved).toMatchObject({
      status: 200,
      body: { changed: true, issue: { status: "resolved", resolution: { inRelease: "next", release: "c0ffee1" } } },
    });
    await take("f00dbad", 3);
    await take("c0ffee1", 4);
    expect((await new IssueRepository(storage).get("intake-issue"))!.issue).toMatchObject({
      status: "resolved",
      lastSeen: alertFrom("intake", "c0ffee1", 4).issue.lastSeen,
    });
    await take("0ff1ce9", 5);
    expect((await new IssueRepository(storage).get("intake-issue"))!.issue).toMatchObject({
      status: "unresolved",
      substatus: "regressed",
      regression: { firedIn: "0ff1ce9", resolution: { inRelease: "next", release: "c0ffee1" } },
    });
  });
});

describe("PATCH /api/issues resolve with inRelease", () => {
  it("is validated by the schema (400), and refused when the issue's alerts name no release (409)", async () => {
    const storage = instance();
    const alert = alertFrom("patch", undefined, 1);
    await takeAlert(storage, alert, JSON.stringify(alert));
    expect(await patchIssue(storage, "patch-issue", { action: "resolve", inRelease: "later", actor: "ana@contoso.com" })).toMatchObject({
      status: 400,
      body: { issues: [{ path: "inRelease" }] },
    });
    expect(await patchIssue(storage, "patch-issue", { action: "unresolve", inRelease: "next", actor: "ana@contoso.com" })).toMatchObject({
      status: 400,
    });
    const refused = await patchIssue(storage, "patch-issue", { action: "resolve", inRelease: "current", actor: "ana@contoso.com" });
    expect(refused.status).toBe(409);
    expect((await new IssueRepository(storage).get("patch-issue"))!.issue.status).toBe("unresolved");
  });
});
