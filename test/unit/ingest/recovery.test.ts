import { describe, expect, it } from "vitest";
import { alertSchema } from "../../../shared/domain/alert";
import { applyRecovery, foldAlert, recoveryActor } from "../../../shared/domain/recovery";
import { anAlert, anIssue, NOW } from "../../fixtures/issues";

const resolved = (lastSeen = "2026-11-21T14:00:00.000Z") =>
  anAlert({ alertId: "alertmanager:ab12:resolved:x", status: "resolved", issue: { id: "alertmanager:ab12", lastSeen } });

describe("a resolved alert (alert schema v1 `status`)", () => {
  it("the field is optional and defaults to firing; anything else is refused", () => {
    expect(alertSchema.safeParse(anAlert()).success).toBe(true);
    expect(alertSchema.safeParse({ ...anAlert(), status: "resolved" }).success).toBe(true);
    expect(alertSchema.safeParse({ ...anAlert(), status: "ok" }).error?.issues[0]?.path).toEqual(["status"]);
  });

  it("resolves an unresolved issue by the source (surface alert), recording the activity", () => {
    const intake = applyRecovery(anIssue({ id: "alertmanager:ab12" }), resolved(), NOW)!;
    expect(intake.issue).toMatchObject({ status: "resolved", statusChangedBy: "alertmanager", version: 4 });
    expect(intake.activities).toEqual([
      expect.objectContaining({ action: "resolve", actor: "alertmanager", surface: "alert", fromStatus: "unresolved", toStatus: "resolved" }),
    ]);
  });

  it("leaves an already resolved issue as it is", () => {
    expect(applyRecovery(anIssue({ status: "resolved" }), resolved(), NOW)).toBeUndefined();
  });

  it("leaves an ignored issue ignored, with no history line (how its ignore then ends: test/unit/domain/ignored-issue-alerts.test.ts)", () => {
    const ignored = anIssue({
      id: "alertmanager:ab12",
      status: "ignored",
      substatus: undefined,
      ignore: { mode: "forever" },
      statusChangedBy: "Ana",
    });
    const intake = applyRecovery(ignored, resolved(), NOW)!;
    expect(intake.issue).toMatchObject({ status: "ignored", ignore: { mode: "forever" }, statusChangedBy: "Ana" });
    expect(intake.activities).toEqual([]);
  });

  it("a late recovery of an earlier firing does not resolve the issue that fired again since", () => {
    expect(applyRecovery(anIssue({ lastSeen: "2026-11-21T15:00:00.000Z" }), resolved("2026-11-21T14:00:00.000Z"), NOW)).toBeUndefined();
  });

  it("keeps the issue's level: a recovery is not a new severity", () => {
    const recovery = resolved();
    recovery.issue.level = "info";
    expect(applyRecovery(anIssue({ level: "fatal" }), recovery, NOW)!.issue.level).toBe("fatal");
  });

  it("a recovery that arrives before its firing alert records the issue already resolved", () => {
    const intake = applyRecovery(undefined, resolved(), NOW)!;
    expect(intake.issue.status).toBe("resolved");
    expect(intake.activities.map((a) => a.action)).toEqual(["created", "resolve"]);
  });

  it("fires again after a recovery: a regression, as today", () => {
    const recovered = applyRecovery(anIssue(), resolved(), NOW)!.issue;
    const again = foldAlert(recovered, anAlert({ alertId: "again", issue: { lastSeen: "2026-11-21T14:30:00.000Z" } }), NOW)!;
    expect(again).toMatchObject({ regressed: true, issue: { status: "unresolved", substatus: "regressed" } });
  });

  it("the actor is the tool the issue id names, else `alert`", () => {
    expect(recoveryActor("azure-monitor:0a1b").label).toBe("azure-monitor");
    expect(recoveryActor("sentry:123").label).toBe("sentry");
    expect(recoveryActor("checkout-42").label).toBe("alert");
  });
});
