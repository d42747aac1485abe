import { describe, expect, it } from "vitest";
import { parseAlert, targetKey } from "../../../shared/domain/alert";
import { applyAlert } from "../../../shared/domain/intake";
import { anAlert, anIssue, NOW } from "../../fixtures/issues";

describe("alert schema v1", () => {
  it("accepts the documented example", () => {
    const result = parseAlert({
      ...anAlert(),
      targets: [
        { provider: "msteams", conversationId: "19:abc@thread.tacv2" },
        { provider: "msteams", userEmail: "ana@contoso.com" },
        { provider: "slack", teamId: "T01", channel: "C01" },
        { provider: "slack", teamId: "T01", userEmail: "ana@contoso.com" },
      ],
    });
    expect(result.ok).toBe(true);
  });

  it("accepts the JSON text as well as the parsed object", () => {
    expect(parseAlert(JSON.stringify(anAlert())).ok).toBe(true);
  });

  it("names every bad field with its path", () => {
    const bad = { ...anAlert(), schemaVersion: 2, issue: { ...anAlert().issue, title: "", level: "panic", count: -1 } };
    const result = parseAlert(bad);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual(["issue.count", "issue.level", "issue.title", "schemaVersion"]);
  });

  it("says plainly when the text is not JSON", () => {
    expect(parseAlert("not json {")).toMatchObject({ ok: false, error: "The message is not JSON." });
  });

  it("rejects channel names where ids are needed", () => {
    const result = parseAlert({ ...anAlert(), targets: [{ provider: "slack", teamId: "T01", channel: "#alerts" }] });
    expect(result.ok).toBe(false);
  });

  it("keys targets stably and case-insensitively by email", () => {
    expect(targetKey({ provider: "msteams", userEmail: "Ana@Contoso.com" })).toBe("msteams:email:ana@contoso.com");
    expect(targetKey({ provider: "slack", teamId: "T01", channel: "C01" })).toBe("slack:T01:C01");
  });
});

describe("applyAlert", () => {
  it("creates an unresolved, new issue with a created activity", () => {
    const intake = applyAlert(undefined, anAlert(), NOW);
    expect(intake.created).toBe(true);
    expect(intake.issue).toMatchObject({ status: "unresolved", substatus: "new", count: 57, ruleName: "Error rate above 5%", version: 1 });
    expect(intake.activities.map((a) => a.action)).toEqual(["created"]);
  });

  it("moves counts and last seen forward, never back", () => {
    const existing = anIssue({ count: 100, lastSeen: "2026-11-21T14:00:00.000Z" });
    const older = applyAlert(existing, anAlert({ issue: { count: 90, lastSeen: "2026-11-21T13:00:00.000Z", title: "old title" } }), NOW);
    expect(older.issue).toMatchObject({ count: 100, lastSeen: "2026-11-21T14:00:00.000Z", title: existing.title });
    const newer = applyAlert(existing, anAlert({ issue: { count: 120, lastSeen: "2026-11-21T14:05:00.000Z" } }), NOW);
    expect(newer.issue).toMatchObject({ count: 120, lastSeen: "2026-11-21T14:05:00.000Z" });
  });

  it("a resolved issue that fires again regresses", () => {
    const resolved = anIssue({ status: "resolved", lastSeen: "2026-11-21T13:00:00.000Z" });
    const intake = applyAlert(resolved, anAlert({ issue: { lastSeen: "2026-11-21T14:00:00.000Z" } }), NOW);
    expect(intake.regressed).toBe(true);
    expect(intake.issue).toMatchObject({ status: "unresolved", substatus: "regressed" });
    expect(intake.activities).toEqual([expect.objectContaining({ action: "regressed", fromStatus: "resolved", toStatus: "unresolved" })]);
    expect(intake.activities[0]!.detail).toBeUndefined();
    expect(intake.issue.regression).toBeUndefined();
  });

  it("a resolved issue that regresses from a later release than it was resolved in says so", () => {
    const resolved = anIssue({ status: "resolved", lastSeen: "2026-11-21T13:00:00.000Z", resolution: { inRelease: "next", release: "1.2.3" } });
    const intake = applyAlert(resolved, anAlert({ issue: { lastSeen: "2026-11-21T14:00:00.000Z", tags: { release: "1.2.4" } } }), NOW);
    expect(intake.issue).toMatchObject({
      status: "unresolved",
      substatus: "regressed",
      resolution: undefined,
      regression: { firedIn: "1.2.4", resolution: { inRelease: "next", release: "1.2.3" } },
    });
    expect(intake.activities[0]).toMatchObject({ action: "regressed", detail: "fired in 1.2.4, resolved in the next release after 1.2.3" });
  });

  it("a resolved issue re-sent with the same last seen stays resolved, even from a later release", () => {
    const resolved = anIssue({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    const intake = applyAlert(resolved, anAlert({ issue: { tags: { release: "1.2.4" } } }), NOW, []);
    expect(intake.issue).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    expect(intake.releases).toEqual([{ version: "1.2.4", firstSeen: "2026-11-21T13:55:00.000Z" }]);
  });

  it("a resolved issue re-sent with the same last seen stays resolved", () => {
    const resolved = anIssue({ status: "resolved" });
    expect(applyAlert(resolved, anAlert(), NOW).issue.status).toBe("resolved");
  });

  it("an ignore until N more events runs out when the count passes it", () => {
    const ignored = anIssue({ status: "ignored", ignore: { mode: "events", moreEvents: 10, untilCount: 67 } });
    const below = applyAlert(ignored, anAlert({ issue: { count: 66 } }), NOW);
    expect(below.issue.status).toBe("ignored");
    const above = applyAlert(ignored, anAlert({ issue: { count: 67, lastSeen: "2026-11-21T14:00:00.000Z" } }), NOW);
    expect(above.issue.status).toBe("unresolved");
    expect(above.activities.map((a) => a.action)).toEqual(["ignore-expired"]);
  });

  it("reports a level that rose", () => {
    expect(applyAlert(anIssue({ level: "warning" }), anAlert({ issue: { level: "fatal" } }), NOW).levelRose).toBe(true);
    expect(applyAlert(anIssue({ level: "fatal" }), anAlert({ issue: { level: "error" } }), NOW).levelRose).toBe(false);
  });
});
