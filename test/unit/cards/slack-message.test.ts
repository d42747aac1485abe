import { describe, expect, it } from "vitest";
import { cardActionPayloadSchema } from "../../../shared/cards/card-action";
import {
  decodeSlackAction,
  encodeSlackAction,
  renderSlackMessage,
  slackMessageVersion,
  type ActionsBlock,
  type SlackMessage,
  type TextObject,
} from "../../../shared/cards/slack-message";
import { buildIssueView, type CardAction, type IssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";
import { ben, hasLoneSurrogate, hugeVariants, LONG_ID, people, stateVariants, type StateName } from "./variants";

/** Block Kit's documented limits, written out here so a wrong constant in the renderer can't hide. */
function slackLimitViolations(message: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const text = (t: { text: string }, max: number, where: string) => {
    check(t.text.trim().length > 0, `${where}: empty text`);
    check(t.text.length <= max, `${where}: ${t.text.length} chars > ${max}`);
    check(!hasLoneSurrogate(t.text), `${where}: half an emoji`);
  };

  text(message, 40_000, "text");
  check(message.blocks.length <= 50, `${message.blocks.length} blocks > 50`);
  const blockIds = message.blocks.flatMap((b) => ("block_id" in b ? [b.block_id] : []));
  check(new Set(blockIds).size === blockIds.length, "duplicate block_id");

  message.blocks.forEach((block, i) => {
    const where = `block ${i} (${block.type})`;
    switch (block.type) {
      case "section":
        check(block.text !== undefined || block.fields !== undefined, `${where}: no text or fields`);
        if (block.text) text(block.text, 3000, where);
        if (block.fields) {
          check(block.fields.length >= 1 && block.fields.length <= 10, `${where}: ${block.fields.length} fields`);
          block.fields.forEach((field: TextObject, j) => text(field, 2000, `${where} field ${j}`));
        }
        break;
      case "context":
        check(block.elements.length >= 1 && block.elements.length <= 10, `${where}: ${block.elements.length} elements`);
        block.elements.forEach((element, j) => text(element, 3000, `${where} element ${j}`));
        break;
      case "actions": {
        check(block.block_id.length <= 255, `${where}: block_id ${block.block_id.length} chars`);
        check(block.elements.length >= 1 && block.elements.length <= 25, `${where}: ${block.elements.length} elements`);
        const actionIds = block.elements.map((e) => e.action_id);
        check(new Set(actionIds).size === actionIds.length, `${where}: duplicate action_id`);
        for (const element of block.elements) {
          const at = `${where} ${element.action_id}`;
          check(element.action_id.length <= 255, `${at}: action_id too long`);
          if (element.type === "button") {
            text(element.text, 75, `${at} text`);
            check(element.value.length <= 2000, `${at}: value ${element.value.length} chars`);
          } else if (element.type === "users_select") {
            text(element.placeholder, 150, `${at} placeholder`);
            check(
              element.initial_user === undefined || /^[UW][A-Z0-9]{2,31}$/.test(element.initial_user),
              `${at}: initial_user ${element.initial_user}`,
            );
          } else {
            text(element.placeholder, 150, `${at} placeholder`);
            check(element.options.length >= 1 && element.options.length <= 100, `${at}: ${element.options.length} options`);
            for (const option of element.options) {
              text(option.text, 75, `${at} option`);
              check(option.value.length <= 150, `${at}: option value ${option.value.length} chars`);
            }
            check(new Set(element.options.map((o) => o.value)).size === element.options.length, `${at}: duplicate option value`);
          }
        }
        break;
      }
    }
  });
  return problems;
}

function actionsBlock(message: SlackMessage): ActionsBlock | undefined {
  return message.blocks.find((b): b is ActionsBlock => b.type === "actions");
}

/** Every (action_id, value) a user can send from this message, but a pick in the Assign menu (any Slack user). */
function clickable(message: SlackMessage): { actionId: string; value: string }[] {
  return (actionsBlock(message)?.elements ?? []).flatMap((e) =>
    e.type === "button"
      ? [{ actionId: e.action_id, value: e.value }]
      : e.type === "static_select"
        ? e.options.map((o) => ({ actionId: e.action_id, value: o.value }))
        : [],
  );
}

function viewActions(view: IssueView): CardAction[] {
  // Slack's Assign menu is its own user menu, beside "Assign to me": the view's list of linked people is for Teams.
  const { resolve, resolveOptions = [], unresolve, ignoreOptions = [], unignore, assignOptions = [], unassign } = view.actions;
  const me = assignOptions.filter((c) => c.action.type === "assign" && c.action.assignee === "me");
  return [resolve, ...resolveOptions, unresolve, ...ignoreOptions, unignore, ...me, unassign].flatMap((c) => (c ? [c.action] : []));
}

function allText(message: SlackMessage): string {
  return JSON.stringify(message);
}

const everyMessage = [...stateVariants(), ...hugeVariants()];

describe("Slack message: within every Block Kit limit", () => {
  it.each(everyMessage.map((v) => [v.name, v.view] as const))("%s", (_name, view) => {
    expect(slackLimitViolations(renderSlackMessage(view))).toEqual([]);
  });

  it("shows at most 10 facts", () => {
    const facts = Array.from({ length: 200 }, (_, i) => ({ label: `L${i}`, value: "v" }));
    const view: IssueView = { ...buildIssueView(anIssue()), facts };
    const fields = renderSlackMessage(view).blocks.flatMap((b) => (b.type === "section" && b.fields ? b.fields : []));
    expect(fields.filter((f) => f.type === "mrkdwn").map((f) => f.text)).toEqual(Array.from({ length: 10 }, (_, i) => `*L${i}*`));
  });
});

const expectedActionIds: Record<StateName, string[]> = {
  "unresolved (new)": ["triage.resolve", "triage.ignore", "triage.assign", "triage.assign-user"],
  "unresolved (regressed)": ["triage.resolve", "triage.ignore", "triage.assign", "triage.assign-user"],
  "unresolved (ignore ran out)": ["triage.resolve", "triage.ignore", "triage.assign", "triage.assign-user"],
  resolved: ["triage.unresolve", "triage.assign", "triage.assign-user"],
  "ignored forever": ["triage.resolve", "triage.unignore", "triage.assign", "triage.assign-user"],
  "ignored until a time": ["triage.resolve", "triage.unignore", "triage.assign", "triage.assign-user"],
  "ignored until more events": ["triage.resolve", "triage.unignore", "triage.assign", "triage.assign-user"],
  "ignored until more users": ["triage.resolve", "triage.unignore", "triage.assign", "triage.assign-user"],
};

describe("Slack message: the controls match the issue's state and round-trip", () => {
  it.each(stateVariants().map((v) => [v.name, v] as const))("%s", (_name, { state, assigned, view }) => {
    const message = renderSlackMessage(view);
    const block = actionsBlock(message)!;
    expect(block.block_id).toBe(`triage:${view.issueId}`);
    expect(block.elements.map((e) => e.action_id)).toEqual([...expectedActionIds[state], ...(assigned ? ["triage.unassign"] : [])]);

    // Every button and every menu option decodes to exactly what the view offered, in order.
    const decoded = clickable(message).map(({ actionId, value }) => decodeSlackAction(actionId, value, block.block_id));
    expect(decoded.map((payload) => payload?.action)).toEqual(viewActions(view));
    for (const payload of decoded) {
      expect(cardActionPayloadSchema.parse(payload)).toMatchObject({ v: 1, issueId: view.issueId });
    }
  });

  it("assigns through Slack's user menu, showing the current assignee chosen when they are linked in the workspace", () => {
    const unassigned = actionsBlock(renderSlackMessage(buildIssueView(anIssue(), { assignChoices: people(30) })))!;
    expect(unassigned.elements.find((e) => e.action_id === "triage.assign-user")).toEqual({
      type: "users_select",
      action_id: "triage.assign-user",
      placeholder: { type: "plain_text", text: "Assign…" },
    });
    expect(unassigned.elements.filter((e) => e.action_id === "triage.assign")).toEqual([
      { type: "button", action_id: "triage.assign", text: { type: "plain_text", text: "Assign to me" }, value: "assign:me" },
    ]);

    const assigned = anIssue({ assignee: { email: "ben@contoso.com", name: "Ben Okafor" } });
    const known = renderSlackMessage(buildIssueView(assigned, { assigneeChatUserId: "U0BEN00001" }));
    expect(actionsBlock(known)!.elements.find((e) => e.type === "users_select")).toMatchObject({ initial_user: "U0BEN00001" });
    // Not linked in this workspace (say, assigned from Teams by someone who never used Slack): the text says who.
    const unknown = renderSlackMessage(buildIssueView(assigned));
    expect(actionsBlock(unknown)!.elements.find((e) => e.type === "users_select")).not.toHaveProperty("initial_user");
    expect(allText(unknown)).toContain("Assigned to Ben Okafor");
    expect(allText(unknown)).not.toContain("ben@contoso.com");
    // An id that isn't a Slack user id is never sent to Slack.
    const odd = renderSlackMessage(buildIssueView(assigned, { assigneeChatUserId: "29:teams-user" }));
    expect(actionsBlock(odd)!.elements.find((e) => e.type === "users_select")).not.toHaveProperty("initial_user");
  });

  it("decodes a pick in the user menu as a Slack user to resolve, never as an email or 'me'", () => {
    expect(decodeSlackAction("triage.assign-user", undefined, "triage:issue-1", "U0BEN00001")).toEqual({
      v: 1,
      issueId: "issue-1",
      action: { type: "assign", slackUserId: "U0BEN00001" },
    });
    expect(decodeSlackAction("triage.assign-user", undefined, "triage:issue-1", null)).toBeUndefined();
    expect(decodeSlackAction("triage.assign-user", undefined, "triage:issue-1", "ben@contoso.com")).toBeUndefined();
    expect(decodeSlackAction("triage.assign-user", undefined, "other:issue-1", "U0BEN00001")).toBeUndefined();
    // A menu on a card posted before the user menu still works.
    expect(decodeSlackAction("triage.assign", "assign:ben@contoso.com", "triage:issue-1")).toEqual({
      v: 1,
      issueId: "issue-1",
      action: { type: "assign", assignee: "ben@contoso.com" },
    });
  });

  it("carries the issue version in the title block's block_id, with nothing visible changed", () => {
    const v7 = renderSlackMessage(buildIssueView(anIssue({ version: 7 })));
    const v8 = renderSlackMessage(buildIssueView(anIssue({ version: 8 })));
    expect(slackMessageVersion(v7.blocks)).toBe(7);
    expect(slackMessageVersion(v8.blocks)).toBe(8);
    const withoutIds = (m: SlackMessage) => JSON.stringify(m, (key, value: unknown) => (key === "block_id" ? undefined : value));
    expect(withoutIds(v7)).toBe(withoutIds(v8));
    expect(slackMessageVersion([{ block_id: "abcde" }])).toBeUndefined();
  });

  it("keeps the buttons for a 200-character issue id, and leaves them out for one no handler would accept", () => {
    const longest = renderSlackMessage(buildIssueView(anIssue({ id: LONG_ID })));
    expect(actionsBlock(longest)?.block_id).toBe(`triage:${LONG_ID}`);
    expect(decodeSlackAction("triage.resolve", "resolve", `triage:${LONG_ID}`)).toEqual({
      v: 1,
      issueId: LONG_ID,
      action: { type: "resolve" },
    });

    const tooLong = renderSlackMessage(buildIssueView(anIssue({ id: "i".repeat(300) })));
    expect(actionsBlock(tooLong)).toBeUndefined();
    expect(slackLimitViolations(tooLong)).toEqual([]);
  });
});

describe("decodeSlackAction", () => {
  const blockId = "triage:issue-1";

  it.each([
    ["triage.resolve", "resolve", { type: "resolve" }],
    ["triage.unresolve", "unresolve", { type: "unresolve" }],
    ["triage.unignore", "unignore", { type: "unignore" }],
    ["triage.unassign", "unassign", { type: "unassign" }],
    ["triage.ignore", "ignore:forever", { type: "ignore", ignore: { mode: "forever" } }],
    ["triage.ignore", "ignore:minutes:30", { type: "ignore", ignore: { mode: "minutes", minutes: 30 } }],
    ["triage.ignore", "ignore:events:100", { type: "ignore", ignore: { mode: "events", count: 100 } }],
    ["triage.ignore", "ignore:users:10", { type: "ignore", ignore: { mode: "users", count: 10 } }],
    ["triage.assign", "assign:me", { type: "assign", assignee: "me" }],
    ["triage.assign", "assign:ben@contoso.com", { type: "assign", assignee: "ben@contoso.com" }],
  ] as const)("%s %s", (actionId, value, action) => {
    expect(decodeSlackAction(actionId, value, blockId)).toEqual({ v: 1, issueId: "issue-1", action });
    expect(encodeSlackAction(action as CardAction)).toBe(value);
  });

  it("keeps an issue id that contains colons", () => {
    expect(decodeSlackAction("triage.resolve", "resolve", "triage:org:proj:42")?.issueId).toBe("org:proj:42");
  });

  it.each([
    ["an unknown action_id", "triage.explode", "resolve", blockId],
    ["an action_id that disagrees with the value", "triage.resolve", "unresolve", blockId],
    ["another app's action_id", "approve", "resolve", blockId],
    ["an unknown value", "triage.resolve", "explode", blockId],
    ["extra parts", "triage.resolve", "resolve:now", blockId],
    ["no value", "triage.resolve", undefined, blockId],
    ["an empty value", "triage.resolve", "", blockId],
    ["an unknown ignore mode", "triage.ignore", "ignore:weeks:2", blockId],
    ["an ignore without a mode", "triage.ignore", "ignore", blockId],
    ["forever with a count", "triage.ignore", "ignore:forever:1", blockId],
    ["a zero count", "triage.ignore", "ignore:events:0", blockId],
    ["a negative count", "triage.ignore", "ignore:events:-5", blockId],
    ["a fractional count", "triage.ignore", "ignore:minutes:1.5", blockId],
    ["a count in exponent form", "triage.ignore", "ignore:minutes:1e3", blockId],
    ["a missing count", "triage.ignore", "ignore:minutes", blockId],
    ["an assignee that is not an email", "triage.assign", "assign:ben", blockId],
    ["an empty assignee", "triage.assign", "assign:", blockId],
    ["no block_id", "triage.resolve", "resolve", undefined],
    ["another app's block_id", "triage.resolve", "resolve", "other:issue-1"],
    ["an empty issue id", "triage.resolve", "resolve", "triage:"],
    ["an issue id over 200 characters", "triage.resolve", "resolve", `triage:${"i".repeat(201)}`],
  ])("rejects %s", (_why, actionId, value, block) => {
    expect(decodeSlackAction(actionId, value, block)).toBeUndefined();
  });
});

describe("Slack message: content", () => {
  const resolved = buildIssueView(
    anIssue({
      level: "fatal",
      title: "TypeError: cart is undefined",
      status: "resolved",
      statusChangedBy: "Ana",
      statusChangedAt: "2026-11-21T14:02:00.000Z",
      assignee: ben,
    }),
  );

  it("has a notification text with level, title and status", () => {
    expect(renderSlackMessage(resolved).text).toBe("🔴 [fatal] TypeError: cart is undefined — Resolved by Ana · 2026-11-21 14:02 UTC");
  });

  it("links the title and shows level, status and assignee", () => {
    const message = renderSlackMessage(resolved);
    const json = allText(message);
    expect(json).toContain("🔴 *<https://sentry.example.com/issues/1|TypeError: cart is undefined>*");
    expect(json).toContain('"*Fatal*"');
    expect(json).toContain("*Resolved by Ana · 2026-11-21 14:02 UTC*");
    expect(json).toContain('"Assigned to Ben"');
    expect(json).toContain('{"type":"mrkdwn","text":"*Release*","verbatim":true},{"type":"plain_text","text":"1.2.3"}');
  });

  it("escapes &, < and > so alert text can't inject links or mentions", () => {
    const hostile = "<script>alert(1)</script> & <!channel> <https://evil.example|click>";
    const view = buildIssueView(anIssue({ title: hostile, environment: hostile, url: "https://sentry.example.com/issues/1?a=1&b=2" }), {
      notice: hostile,
    });
    const message = renderSlackMessage(view);
    const escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt; &lt;https://evil.example|click&gt;";
    expect(allText(message)).toContain(`*<https://sentry.example.com/issues/1?a=1&amp;b=2|${escaped}>*`);
    expect(message.text).toContain(escaped);
    const mrkdwnTexts = message.blocks
      .flatMap((b) => (b.type === "section" ? [b.text, ...(b.fields ?? [])] : b.type === "context" ? b.elements : []))
      .filter((t): t is TextObject => t?.type === "mrkdwn")
      .map((t) => t.text);
    for (const text of [...mrkdwnTexts, message.text]) {
      expect(text).not.toMatch(/<script|<!channel|<https:\/\/evil/);
    }
  });

  it("does not link the title to a javascript: URL", () => {
    const message = renderSlackMessage({ ...resolved, titleUrl: "javascript:alert(1)" });
    expect(allText(message)).not.toContain("javascript:");
    expect(allText(message)).toContain("🔴 *TypeError: cart is undefined*");
  });

  it("shows the description as plain text, so its markup is not interpreted", () => {
    const message = renderSlackMessage({ ...resolved, description: "*not bold* <@U123>" });
    expect(message.blocks).toContainEqual({ type: "section", text: { type: "plain_text", text: "*not bold* <@U123>" } });
  });

  it("shows a notice above the title only when there is one", () => {
    const regressed = renderSlackMessage(buildIssueView(anIssue({ substatus: "regressed" })));
    expect(regressed.blocks[0]).toEqual({ type: "section", text: { type: "mrkdwn", text: ":warning: *Regressed*", verbatim: true } });
    expect(allText(renderSlackMessage(buildIssueView(anIssue({ substatus: "new" }))))).not.toContain(":warning:");
  });

  it("shows a fact's value as typed, its label in bold: a rule '*critical* 5xx' keeps its asterisks", () => {
    const message = renderSlackMessage(
      buildIssueView(anIssue({ ruleName: "*critical* 5xx", environment: "prod_eu_*west*", tags: { release: "~1.2.3~ `rc`" } })),
    );
    const fields = message.blocks.flatMap((b) => (b.type === "section" ? (b.fields ?? []) : []));
    const valueAfter = (label: string) => fields[fields.findIndex((f) => f.type === "mrkdwn" && f.text === `*${label}*`) + 1];
    expect(valueAfter("Rule")).toEqual({ type: "plain_text", text: "*critical* 5xx" });
    expect(valueAfter("Environment")).toEqual({ type: "plain_text", text: "prod_eu_*west*" });
    expect(valueAfter("Release")).toEqual({ type: "plain_text", text: "~1.2.3~ `rc`" });
    // Every fact still shows, label then value, within Block Kit's 10 fields a section.
    expect(fields.filter((f) => f.type === "mrkdwn").map((f) => f.text)).toEqual([
      "*Project*",
      "*Environment*",
      "*Events*",
      "*Users*",
      "*First seen*",
      "*Last seen*",
      "*Short ID*",
      "*Rule*",
      "*Release*",
    ]);
    expect(slackLimitViolations(message)).toEqual([]);
  });

  it("shows the assignee's name as typed", () => {
    const message = renderSlackMessage(buildIssueView(anIssue({ assignee: { email: "ben@contoso.com", name: "_Ben_ *Okafor*" } })));
    const elements = message.blocks.flatMap((b) => (b.type === "context" ? b.elements : []));
    expect(elements).toContainEqual({ type: "plain_text", text: "Assigned to _Ben_ *Okafor*" });
  });

  it("cuts huge text so the escaped text fits, without breaking an entity or an emoji", () => {
    const message = renderSlackMessage({ ...resolved, title: "&".repeat(100_000), titleUrl: undefined });
    const title = (message.blocks.find((b) => b.type === "section")!.text as TextObject).text;
    expect(title).toMatch(/^🔴 \*(&amp;)+…\*$/);
    expect(title.length).toBeLessThanOrEqual(310);

    const emoji = renderSlackMessage({ ...resolved, title: "x" + "😀".repeat(1000), titleUrl: undefined });
    expect(hasLoneSurrogate(allText(emoji))).toBe(false);
    expect(emoji.text).toMatch(/^🔴 \[fatal\] x(😀)+… — /u);
  });
});
