import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { applyAction } from "../../../shared/domain/actions";
import { parseAlert } from "../../../shared/domain/alert";
import type { Issue } from "../../../shared/domain/issue";
import { foldAlert } from "../../../shared/domain/recovery";
import {
  isReleaseMessage,
  openRegressionSince,
  parseReleaseMessage,
  previousRelease,
  resolvedInRelease,
} from "../../../shared/domain/release-notice";
import { recordRelease, type KnownReleases } from "../../../shared/domain/releases";
import { ingest } from "../../../shared/ingest/ingest";
import type { StorageClients } from "../../../shared/storage/clients";
import { ana, anAlert, anIssue, NOW } from "../../fixtures/issues";

function reportedInOrder(...versions: string[]): KnownReleases {
  return versions.reduce<KnownReleases>((known, version, n) => recordRelease(known, version, new Date(Date.UTC(2026, 10, 1 + n))), []);
}

function resolvedIn(release: string, inRelease: "current" | "next"): Issue {
  const outcome = applyAction(anIssue({ tags: { release } }), { type: "resolve", inRelease }, ana, NOW);
  if (outcome.kind !== "changed") throw new Error(`resolve was ${outcome.kind}`);
  return outcome.issue;
}

const release = (fields: Record<string, unknown> = {}) => ({
  schemaVersion: 1,
  kind: "release",
  release: {
    project: "checkout",
    version: "1.2.4",
    environment: "production",
    url: "https://deploys.example.com/1",
    deployedAt: "2026-11-21T15:00:00Z",
    people: ["Ana@Contoso.com"],
    ...fields,
  },
});

describe("the release message", () => {
  it("is told apart from alerts and issue actions by its kind, and validated as a release", () => {
    expect(isReleaseMessage(release())).toBe(true);
    expect(isReleaseMessage(JSON.stringify(release()))).toBe(true);
    expect(isReleaseMessage(anAlert())).toBe(false);
    const parsed = parseReleaseMessage(JSON.stringify(release()));
    expect(parsed).toMatchObject({ ok: true, message: { release: { project: "checkout", version: "1.2.4", people: ["ana@contoso.com"] } } });
    expect(parseReleaseMessage(release({ people: undefined }))).toMatchObject({ ok: true, message: { release: { people: [] } } });
  });

  it("an invalid one says which fields and why", () => {
    const parsed = parseReleaseMessage(release({ version: " ", url: "javascript:alert(1)", people: ["nobody"] }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toBe("The message does not match the release message schema v1.");
    expect(parsed.issues.map((issue) => issue.path).sort()).toEqual(["release.people.0", "release.url", "release.version"]);
    expect(parseReleaseMessage("{not json")).toMatchObject({ ok: false, error: "The message is not JSON." });
  });

  it("an alert's kind is alert or absent: any other kind is not taken for an alert", () => {
    expect(parseAlert({ ...anAlert(), kind: "alert" }).ok).toBe(true);
    expect(parseAlert({ ...anAlert(), kind: "deploy" })).toMatchObject({ ok: false, issues: [{ path: "kind" }] });
  });

  it("/api/ingest/alerts takes a release message (?project= fills a missing project) and refuses an invalid one with 400", async () => {
    const token = "t".repeat(40);
    const request = (body: unknown, query = "") =>
      new HttpRequest({
        method: "POST",
        url: `http://localhost/api/ingest/alerts${query}`,
        params: { source: "alerts" },
        headers: { authorization: `Bearer ${token}` },
        body: { string: JSON.stringify(body) },
      });
    const sent: string[] = [];
    const storage = {
      queue: async () => ({ sendMessage: async (text: string) => (sent.push(text), { messageId: "m", popReceipt: "p" }) }),
    } as unknown as StorageClients;
    const accepted = await ingest(request(release({ project: undefined }), "?project=checkout"), { tokens: [token] }, storage);
    expect(accepted).toMatchObject({ status: 202, body: { accepted: 1, alertIds: ["release:checkout:1.2.4"] } });
    expect(JSON.parse(Buffer.from(sent[0]!, "base64").toString())).toEqual({ ...release(), release: { ...release().release } });
    const refused = await ingest(request(release({ version: "" })), { tokens: [token] }, storage);
    expect(refused).toMatchObject({ status: 400, body: { issues: [{ path: "release.version" }] } });
    expect(sent).toHaveLength(1);
  });
});

describe("which issues a release resolves", () => {
  // Hashes: ordered by when the project reported them. Versions: by version, whatever the report order.
  const hashes = reportedInOrder("f00dbad", "c0ffee1", "a1b2c3d", "e4f5a6b");
  const versions = reportedInOrder("1.3.0", "1.2.3", "1.2.4");

  it.each([
    ["next after c0ffee1, released a1b2c3d (the first after it)", resolvedIn("c0ffee1", "next"), "a1b2c3d", hashes, true],
    ["next after c0ffee1, released e4f5a6b (a1b2c3d shipped it first)", resolvedIn("c0ffee1", "next"), "e4f5a6b", hashes, false],
    ["next after c0ffee1, released c0ffee1 itself", resolvedIn("c0ffee1", "next"), "c0ffee1", hashes, false],
    ["next after c0ffee1, released f00dbad (earlier)", resolvedIn("c0ffee1", "next"), "f00dbad", hashes, false],
    ["current c0ffee1, released c0ffee1", resolvedIn("c0ffee1", "current"), "c0ffee1", hashes, true],
    ["current c0ffee1, released a1b2c3d", resolvedIn("c0ffee1", "current"), "a1b2c3d", hashes, false],
    ["next after 1.2.3, released 1.2.4", resolvedIn("1.2.3", "next"), "1.2.4", versions, true],
    ["next after 1.2.3, released 1.3.0 (1.2.4 came between)", resolvedIn("1.2.3", "next"), "1.3.0", versions, false],
    ["current 1.2.3, released v1.2.3 (the same version)", resolvedIn("1.2.3", "current"), "v1.2.3", versions, true],
    ["next after a release never reported", resolvedIn("deadbee", "next"), "a1b2c3d", hashes, false],
    ["resolved immediately", resolvedIn("c0ffee1", "next") && { ...anIssue(), status: "resolved" as const }, "a1b2c3d", hashes, false],
  ] as const)("%s → %s", (_name, issue, version, known, expected) => {
    expect(resolvedInRelease(issue as Issue, version, known)).toBe(expected);
  });

  it("the previous release is the one just before in the order releases compare", () => {
    expect(previousRelease(hashes, "a1b2c3d")?.version).toBe("c0ffee1");
    expect(previousRelease(hashes, "f00dbad")).toBeUndefined();
    expect(previousRelease(versions, "1.3.0")?.version).toBe("1.2.4");
  });

  it("open regressions since the previous release was first reported", () => {
    const regressed = (at: string): Issue => ({ ...anIssue(), status: "unresolved", substatus: "regressed", statusChangedAt: at });
    const since = hashes.find((r) => r.version === "a1b2c3d")!.firstSeen;
    const before = new Date(Date.parse(since) - 1000).toISOString();
    expect(openRegressionSince(regressed(since), "e4f5a6b", hashes)).toBe(true);
    expect(openRegressionSince(regressed(before), "e4f5a6b", hashes)).toBe(false);
    expect(openRegressionSince({ ...regressed(since), substatus: "ongoing" }, "e4f5a6b", hashes)).toBe(false);
    expect(openRegressionSince(regressed(before), "f00dbad", hashes)).toBe(true); // no earlier release: every open regression
  });
});

describe("foldAlert decides with the project's releases", () => {
  it("an issue resolved in the next release after a hash stays resolved on an alert from the hash reported before it", () => {
    const resolved = resolvedIn("c0ffee1", "next");
    const alert = anAlert({ issue: { lastSeen: "2026-11-21T14:10:00.000Z", tags: { release: "f00dbad" } } });
    expect(foldAlert(resolved, alert, NOW, reportedInOrder("f00dbad", "c0ffee1"))).toMatchObject({ regressed: false, issue: { status: "resolved" } });
    // Without the list, the two hashes cannot be ordered: the issue reopens.
    expect(foldAlert(resolved, alert, NOW)).toMatchObject({ regressed: true, issue: { regression: { orderUnknown: true } } });
  });

  it("a recovery alert records its release too", () => {
    const recovery = anAlert({ status: "resolved", issue: { lastSeen: "2026-11-21T14:10:00.000Z", tags: { release: "f00dbad" } } });
    expect(foldAlert(anIssue(), recovery, NOW, [])?.releases?.map((r) => r.version)).toEqual(["f00dbad"]);
  });
});
