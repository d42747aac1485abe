import * as AC from "adaptivecards";
import { describe, expect, it } from "vitest";
import { readBlocks } from "../../../dev/emulators/slack/blocks";
import { renderReleaseSlackMessage, SLACK_SECTION_TEXT_LIMIT } from "../../../shared/cards/release-slack";
import { releaseCardSize, renderReleaseTeamsCard } from "../../../shared/cards/release-teams";
import { buildReleaseView, MAX_RELEASE_ITEMS } from "../../../shared/cards/release-view";
import { TEAMS_CARD_BUDGET_BYTES } from "../../../shared/cards/teams-card";
import { content, huge, issues, release } from "../../fixtures/releases";

function adaptiveCardProblems(json: object): string[] {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, context);
  const problems: string[] = [];
  for (let i = 0; i < context.eventCount; i++) problems.push(`parse: ${context.getEventAt(i).message}`);
  for (const event of card.validateProperties().validationEvents) problems.push(`validate: ${event.message}`);
  return problems;
}

describe("the release view", () => {
  it("names the release, and lists what it resolved and the open regressions since the previous one", () => {
    const view = buildReleaseView(content(issues(2), issues(1)));
    expect(view.title).toBe("checkout 1.2.4 went out to production");
    expect(view.lists.map((l) => [l.heading, l.items.length, l.more])).toEqual([
      ["Resolved in this release (2)", 2, 0],
      ["Open regressions since 1.2.3 (1)", 1, 0],
    ]);
    expect(view.facts).toContainEqual({ label: "Deployed", value: "2026-11-21 15:00 UTC" });
    expect(view.intro).toBeUndefined();
    expect(buildReleaseView(content([]), { personal: true }).intro).toBe("You are named in this release of checkout.");
  });

  it(`keeps ${MAX_RELEASE_ITEMS} items a list and counts the rest`, () => {
    const view = buildReleaseView(content(issues(MAX_RELEASE_ITEMS + 7)));
    expect(view.lists[0]).toMatchObject({ heading: `Resolved in this release (${MAX_RELEASE_ITEMS + 7})`, more: 7 });
    expect(view.lists[0]!.items).toHaveLength(MAX_RELEASE_ITEMS);
  });
});

describe("the Teams release card", () => {
  it.each([
    ["empty", content([])],
    ["a few issues", content(issues(3), issues(2))],
    ["every list at its longest, with huge titles and links", content(issues(200, huge), issues(200, huge))],
  ])("%s: valid Adaptive Card 1.5 under 24 KB", (_name, c) => {
    for (const personal of [false, true]) {
      const card = renderReleaseTeamsCard(buildReleaseView(c, { personal }));
      expect(card.version).toBe("1.5");
      expect(adaptiveCardProblems(card)).toEqual([]);
      expect(releaseCardSize(card)).toBeLessThanOrEqual(TEAMS_CARD_BUDGET_BYTES);
    }
  });

  it("cuts long lists to fit, and says how many it left out", () => {
    const card = renderReleaseTeamsCard(buildReleaseView(content(issues(200, huge), issues(200, huge))));
    const texts = card.body.flatMap((e) => (e.type === "TextBlock" ? [e.text] : []));
    const more = texts.filter((t) => /^…and [\d,]+ more$/.test(t)).map((t) => Number(t.replace(/\D/g, "")));
    expect(more).toHaveLength(2);
    expect(more.every((n) => n > 200 - MAX_RELEASE_ITEMS)).toBe(true);
    const shown = texts.filter((t) => t.startsWith("[S")).length;
    expect(shown + more[0]! + more[1]!).toBe(400);
  });

  it("links the release, and escapes what the producer wrote", () => {
    const card = renderReleaseTeamsCard(buildReleaseView(content(issues(1, () => ({ title: "*bold* [link](x)" })))));
    expect(card.actions).toEqual([{ type: "Action.OpenUrl", title: "View release", url: release.url }]);
    expect(JSON.stringify(card)).toContain("\\\\*bold\\\\* \\\\[link\\\\](x)");
  });
});

describe("the Slack release message", () => {
  it.each([
    ["empty", content([])],
    ["a few issues", content(issues(3), issues(2))],
    ["every list at its longest, with huge titles and links", content(issues(200, huge), issues(200, huge))],
  ])("%s: within Block Kit's limits (as the Slack emulator checks them)", (_name, c) => {
    for (const personal of [false, true]) {
      const message = renderReleaseSlackMessage(buildReleaseView(c, { personal }));
      expect(readBlocks(message.blocks)).toMatchObject({ ok: true });
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      for (const block of message.blocks) {
        if (block.type === "section" && block.text) expect(block.text.text.length).toBeLessThanOrEqual(SLACK_SECTION_TEXT_LIMIT);
        if (block.type === "section" && block.fields) expect(block.fields.length).toBeLessThanOrEqual(10);
      }
      expect(message.text.length).toBeLessThanOrEqual(3000);
    }
  });

  it("cuts a long list to fit its section, and says how many it left out", () => {
    const message = renderReleaseSlackMessage(buildReleaseView(content(issues(200, huge))));
    const resolved = message.blocks.find((b) => b.type === "section" && b.text?.text.startsWith("*Resolved in this release (200)*"));
    expect(resolved?.type === "section" && resolved.text?.text).toMatch(/…and \d+ more$/);
    const empty = message.blocks.find((b) => b.type === "section" && b.text?.text.startsWith("*Open regressions"));
    expect(empty?.type === "section" && empty.text?.text).toContain("_No open regressions._");
  });

  it("escapes what the producer wrote in the notification text too: no @channel or @here from a version or environment", () => {
    const view = buildReleaseView({
      release: { ...release, version: "<!channel> 1", environment: "<!here>" },
      resolved: [],
      regressions: [],
      previous: "<!everyone>",
    });
    const message = renderReleaseSlackMessage(view);
    expect(message.text).not.toContain("<!");
    expect(message.text).toContain("checkout &lt;!channel&gt; 1 went out to &lt;!here&gt;");
  });
});
