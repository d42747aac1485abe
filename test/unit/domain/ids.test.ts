import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAlert, targetKey } from "../../../shared/domain/alert";
import { isIssueId, isPrintableText, isTeamsConversationId } from "../../../shared/domain/ids";
import { safeKey } from "../../../shared/storage/table";
import { cardRowKey } from "../../../shared/storage/cards";
import { anAlert } from "../../fixtures/issues";

/** What Table Storage refuses in a PartitionKey/RowKey, and its size limit (1 KiB of UTF-16). */
const FORBIDDEN_IN_KEYS = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
const storableKey = (key: string) => !FORBIDDEN_IN_KEYS.test(key) && key.length <= 512 && isPrintableText(key);

/** Mostly the characters that matter to keys (separators, controls, C1, surrogate halves, astral), some anything. */
const awkwardChar = fc.constantFrom(
  "/",
  "\\",
  "#",
  "?",
  "%",
  ":",
  "@",
  ";",
  " ",
  "\u0000",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u009f",
  "\ud800",
  "\udc00",
  "é",
  "😀",
  "\uffff",
  "'",
);
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 400 }),
  fc.string({ unit: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), awkwardChar), minLength: 1, maxLength: 300 }),
);
const anyTeamsId = fc.oneof(
  anyText,
  fc
    .tuple(
      fc.constantFrom("19:", "a:", "8:", "29:"),
      fc.string({ unit: fc.oneof(fc.string({ minLength: 1, maxLength: 1 }), awkwardChar), minLength: 1, maxLength: 400 }),
    )
    .map(([p, s]) => p + s),
);

function acceptedAlert(issueId: string, alertId: string, conversationId: string) {
  return parseAlert({
    ...anAlert(),
    alertId,
    issue: { ...anAlert().issue, id: issueId },
    targets: [{ provider: "msteams", conversationId }],
  });
}

describe("id grammar: every accepted id round-trips through every key function", () => {
  it("safeKey is total and decodeURIComponent reverses it for well-formed text", () => {
    fc.assert(
      fc.property(anyText, (value) => {
        const key = safeKey(value);
        expect(FORBIDDEN_IN_KEYS.test(key)).toBe(false);
        if (isPrintableText(value) || !/[\ud800-\udfff]/.test(value)) expect(decodeURIComponent(key)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it("keys built from an accepted alert are storable and decode back", () => {
    fc.assert(
      fc.property(anyText, anyText, anyTeamsId, (issueId, alertId, conversationId) => {
        const parsed = acceptedAlert(issueId, alertId, conversationId);
        if (!parsed.ok) return;
        const { alert } = parsed;
        const target = alert.targets![0]!;
        const keys = [safeKey(alert.issue.id), safeKey(alert.alertId), safeKey(targetKey(target))];
        const cardKey = cardRowKey({ issueId: alert.issue.id, provider: "msteams", conversationId, activityId: "1:" + "9".repeat(60) } as never);
        for (const key of [...keys, cardKey]) {
          expect(storableKey(key), key).toBe(true);
        }
        expect(decodeURIComponent(keys[0]!)).toBe(alert.issue.id);
        expect(decodeURIComponent(keys[1]!)).toBe(alert.alertId);
        expect(decodeURIComponent(keys[2]!)).toBe(targetKey(target));
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses the ids that used to crash key decoding or storage", () => {
    // C1 control characters passed `\S+` and broke decodeURIComponent later (issue 10, item 3).
    expect(isTeamsConversationId("19:abc\u0085def@thread.tacv2")).toBe(false);
    expect(acceptedAlert("checkout-1", "a1", "19:abc\u0085def@thread.tacv2").ok).toBe(false);
    // An unpaired surrogate passed the schema and failed in getEntity with "URI malformed" (item 14).
    expect(isIssueId("a\ud800b")).toBe(false);
    expect(acceptedAlert("a\ud800b", "a1", "19:abc@thread.tacv2").ok).toBe(false);
    expect(acceptedAlert("checkout-1", "a\udc00", "19:abc@thread.tacv2").ok).toBe(false);
    // Unbounded conversation ids made keys over Table Storage's limit.
    expect(acceptedAlert("checkout-1", "a1", "19:" + "x".repeat(1100)).ok).toBe(false);
  });

  it("bounds ids by the length of their key, so escaped characters can't push a key past the limit", () => {
    // A 256-character alert id of % passed the grammar and made a 768-character delivery key (400 InvalidInput).
    expect(acceptedAlert("checkout-1", "%".repeat(256), "19:abc@thread.tacv2").ok).toBe(false);
    expect(acceptedAlert("checkout-1", "%".repeat(85), "19:abc@thread.tacv2").ok).toBe(true);
    expect(acceptedAlert("%".repeat(200), "a1", "19:abc@thread.tacv2").ok).toBe(false);
    expect(isTeamsConversationId("19:" + "%".repeat(300))).toBe(false);
    const longest = acceptedAlert("%".repeat(66), "%".repeat(85), "19:" + "%".repeat(105));
    expect(longest.ok).toBe(true);
    if (!longest.ok) return;
    const target = longest.alert.targets![0]!;
    const cardKey = cardRowKey({
      issueId: longest.alert.issue.id,
      provider: "msteams",
      conversationId: (target as { conversationId: string }).conversationId,
      activityId: "9".repeat(100),
    } as never);
    for (const key of [safeKey(longest.alert.alertId), safeKey(targetKey(target)), cardKey]) expect(storableKey(key), key).toBe(true);
  });

  it("keeps the keys of existing rows unchanged (lower-case escapes, as before)", () => {
    expect(safeKey("msteams:conv:19:a/b?c#d%e")).toBe("msteams:conv:19:a%2fb%3fc%23d%25e");
    expect(safeKey("a\u0085b")).toBe("a%c2%85b");
  });
});
