import { buildIssueView, type IssueView } from "../../../shared/cards/view";
import { LEVELS, type Issue, type Person } from "../../../shared/domain/issue";
import { anIssue } from "../../fixtures/issues";

/** Every card state the renderers must handle, and inputs built to break them. */

export type StateName =
  | "unresolved (new)"
  | "unresolved (regressed)"
  | "unresolved (ignore ran out)"
  | "resolved"
  | "ignored forever"
  | "ignored until a time"
  | "ignored until more events"
  | "ignored until more users";

const changed = { statusChangedBy: "Ana", statusChangedAt: "2026-11-21T14:02:00.000Z" };

export const STATES: Record<StateName, Partial<Issue>> = {
  "unresolved (new)": { status: "unresolved", substatus: "new" },
  "unresolved (regressed)": { status: "unresolved", substatus: "regressed", statusChangedAt: changed.statusChangedAt },
  "unresolved (ignore ran out)": { status: "unresolved", substatus: "escalating", ...changed, statusChangedBy: "Triage Relay" },
  resolved: { status: "resolved", substatus: undefined, ...changed },
  "ignored forever": { status: "ignored", substatus: undefined, ignore: { mode: "forever" }, ...changed },
  "ignored until a time": {
    status: "ignored",
    substatus: undefined,
    ignore: { mode: "until", until: "2026-11-21T16:02:00.000Z", minutes: 120 },
    ...changed,
  },
  "ignored until more events": {
    status: "ignored",
    substatus: undefined,
    ignore: { mode: "events", untilCount: 157, moreEvents: 100 },
    ...changed,
  },
  "ignored until more users": {
    status: "ignored",
    substatus: undefined,
    ignore: { mode: "users", untilUserCount: 22, moreUsers: 10 },
    ...changed,
  },
};

export const ben: Person = { email: "ben@contoso.com", name: "Ben" };

export function people(n: number): Person[] {
  return Array.from({ length: n }, (_, i) => ({ email: `person${i}@contoso.com`, name: `Person ${i}` }));
}

export interface Variant {
  name: string;
  state: StateName;
  assigned: boolean;
  view: IssueView;
}

/** Each state × assigned or not × 0 or 30 linked people, cycling through the levels. */
export function stateVariants(): Variant[] {
  const variants: Variant[] = [];
  let i = 0;
  for (const [state, overrides] of Object.entries(STATES) as [StateName, Partial<Issue>][]) {
    for (const assigned of [false, true]) {
      for (const linked of [0, 30]) {
        const level = LEVELS[i++ % LEVELS.length]!;
        const issue = anIssue({ ...overrides, level, assignee: assigned ? ben : undefined });
        variants.push({
          name: `${state}, ${assigned ? "assigned" : "unassigned"}, ${linked} people, ${level}`,
          state,
          assigned,
          view: buildIssueView(issue, { assignChoices: people(linked) }),
        });
      }
    }
  }
  return variants;
}

const KB = 1024;
export const LONG_ID = "i".repeat(200);

/** Everything an alert can carry, at absurd sizes: the cards must still fit every platform limit. */
export function hugeVariants(): { name: string; view: IssueView }[] {
  const emojiText = (n: number) => "a😀".repeat(n);
  const longPeople: Person[] = Array.from({ length: 30 }, (_, i) => ({
    email: `${"x".repeat(60)}.${i}@${"d".repeat(60)}.${"e".repeat(60)}.example.com`,
    name: "👩‍👩‍👧‍👦".repeat(200) + i,
  }));
  const tags = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`tag${i}`, "v".repeat(1000)]));
  const huge = anIssue({
    id: LONG_ID,
    shortId: "S".repeat(100),
    project: "p".repeat(200),
    environment: "e".repeat(100 * KB),
    title: emojiText(50 * KB),
    culprit: emojiText(50 * KB),
    description: emojiText(50 * KB),
    url: `https://sentry.example.com/${"u".repeat(1900)}`,
    ruleName: "r".repeat(100 * KB),
    tags: { ...tags, release: "😀".repeat(50 * KB) },
    assignee: longPeople[0],
  });
  const hostile = "<script>alert(1)</script> & *bold* _it_ `code` ~s~ [x](javascript:alert(1)) <!channel> @here";
  const controlChars = '\u0001\u0002"\\'.repeat(25 * KB);

  // Built directly, not through buildIssueView: the renderers must survive any view, not just today's.
  const worst: IssueView = {
    ...buildIssueView(huge, { assignChoices: longPeople, notice: "⚠".repeat(100 * KB) }),
    title: controlChars,
    culprit: controlChars,
    description: controlChars,
    statusLine: controlChars,
    assigneeLine: controlChars,
    facts: Array.from({ length: 200 }, (_, i) => ({ label: controlChars + i, value: controlChars })),
  };
  const marked = anIssue({ title: hostile, culprit: hostile, description: hostile, environment: hostile, url: "javascript:alert(1)" });
  return [
    {
      name: "100 KB of text everywhere, 200 tags, 200-char issue id, 30 people with long names",
      view: buildIssueView(huge, { assignChoices: longPeople }),
    },
    {
      name: "huge and ignored",
      view: buildIssueView({ ...huge, status: "ignored", ignore: { mode: "forever" } }, { assignChoices: longPeople }),
    },
    { name: "markup in every field", view: buildIssueView(marked, { notice: hostile }) },
    { name: "control characters and 200 facts in a hand-built view", view: worst },
    {
      name: "blank text everywhere in a hand-built view",
      view: {
        ...buildIssueView(anIssue()),
        title: " ",
        titleUrl: "",
        culprit: " ",
        description: "\n",
        notice: " ",
        statusLine: "",
        assigneeLine: "",
        facts: [
          { label: "", value: "x" },
          { label: "y", value: " " },
        ],
      },
    },
  ];
}

/** True if `text` contains half of a surrogate pair. */
export function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
