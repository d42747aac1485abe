import { describe, expect, it } from "vitest";
import { ALERT_LIMITS, MAX_ALERT_JSON_BYTES, parseAlert, type Alert } from "../../../shared/domain/alert";
import { ID_LIMITS } from "../../../shared/domain/ids";
import { mergeTags, TAGS_JSON_BUDGET } from "../../../shared/domain/tags";
import { anAlert } from "../../fixtures/issues";

const s = (n: number, c = "x") => c.repeat(n);

/** An alert with every field at its documented limit (plain ASCII). */
function schemaMaximum(): Alert {
  const alert = anAlert({
    alertId: s(ID_LIMITS.alertId),
    issue: {
      id: s(ID_LIMITS.issueId),
      shortId: s(ALERT_LIMITS.shortId),
      project: s(ID_LIMITS.project),
      title: s(ALERT_LIMITS.title),
      culprit: s(ALERT_LIMITS.culprit),
      description: s(ALERT_LIMITS.description),
      level: "warning", // the longest level
      environment: s(ALERT_LIMITS.environment),
      url: `https://${s(ALERT_LIMITS.url - 8)}`,
      count: Number.MAX_SAFE_INTEGER,
      userCount: Number.MAX_SAFE_INTEGER,
      firstSeen: "2026-11-20T10:00:00.000000+00:00",
      lastSeen: "2026-11-21T13:55:00.000000+00:00",
      tags: Object.fromEntries(
        Array.from({ length: ALERT_LIMITS.tags }, (_, n) => [String(n).padStart(ALERT_LIMITS.tagKey, "k"), s(ALERT_LIMITS.tagValue)]),
      ),
    },
    rule: { id: s(ALERT_LIMITS.ruleId), name: s(ALERT_LIMITS.ruleName) },
    targets: Array.from({ length: ALERT_LIMITS.targets }, () => ({
      provider: "msteams" as const,
      conversationId: `19:${s(ID_LIMITS.teamsConversationId - 3)}`,
    })),
  });
  return alert;
}

describe("alert size limits agree with the queue", () => {
  it("an alert with every field at its limit is valid and fits a 64 KiB base64 queue message", () => {
    const alert = schemaMaximum();
    expect(parseAlert(alert)).toMatchObject({ ok: true });
    const json = JSON.stringify(alert);
    expect(Buffer.byteLength(json)).toBe(46_392); // the figure in README "Alert schema v1"
    expect(Buffer.from(json).toString("base64").length).toBeLessThanOrEqual(64 * 1024);
    expect(Math.ceil(MAX_ALERT_JSON_BYTES / 3) * 4).toBe(64 * 1024);
  });

  it("one character over any field's limit is refused, naming the field", () => {
    const alert = schemaMaximum();
    alert.issue.description += "x";
    expect(parseAlert(alert)).toMatchObject({ ok: false, issues: [{ path: "issue.description" }] });
  });

  it("a project name keys storage like an issue id: / \\ # ? % count as three, so a name that can't be a key is refused, not poisoned later", () => {
    const withProject = (project: string) => parseAlert(anAlert({ issue: { project } }));
    expect(withProject("%".repeat(66)).ok).toBe(true);
    const refused = withProject("%".repeat(ID_LIMITS.project));
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.issues.map((issue) => issue.path)).toEqual(["issue.project"]);
  });

  it("text that takes more bytes is bounded by the whole message: 49,152 bytes of JSON", () => {
    const alert = anAlert();
    alert.issue.description = "€".repeat(ALERT_LIMITS.description); // 3 bytes each, 30,000 bytes
    alert.issue.title = '"'.repeat(ALERT_LIMITS.title); // 2 bytes each, escaped
    alert.issue.tags = Object.fromEntries(Array.from({ length: 10 }, (_, n) => [`t${n}`, "\u0001".repeat(ALERT_LIMITS.tagValue)])); // 6 bytes each
    const result = parseAlert(JSON.stringify(alert));
    expect(result).toMatchObject({ ok: false, tooLarge: true, error: "The message is larger than an alert can be." });
    if (!result.ok) expect(result.issues[0]!.message).toMatch(/at most 49152/);
  });
});

describe("tags kept on an issue", () => {
  it("the newest alert's tags win, then older ones newest first, within the budget", () => {
    const older = { a: "1", b: "2", c: "3" };
    expect(mergeTags(older, { b: "new", d: "4" })).toEqual({ a: "1", c: "3", b: "new", d: "4" });

    let tags: Record<string, string> = {};
    for (let n = 0; n < 50; n++) tags = mergeTags(tags, { [`tag${n}`]: s(1000, String(n % 10)) });
    expect(JSON.stringify(tags).length).toBeLessThanOrEqual(TAGS_JSON_BUDGET);
    expect(Object.keys(tags)).toContain("tag49");
    expect(Object.keys(tags)).not.toContain("tag0");
    // Kept oldest first, so the next merge drops the oldest.
    expect(Object.keys(tags).at(-1)).toBe("tag49");
  });

  it("at most 100 tags, and escapes count against the budget", () => {
    let tags: Record<string, string> = {};
    for (let n = 0; n < 30; n++) tags = mergeTags(tags, Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`t${n}-${k}`, "v"])));
    expect(Object.keys(tags)).toHaveLength(100);
    const escaped = mergeTags({}, Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`q${k}`, s(1000, '"')])));
    expect(JSON.stringify(escaped).length).toBeLessThanOrEqual(TAGS_JSON_BUDGET);
    expect(Object.keys(escaped).length).toBe(14);
  });
});
