import { describe, expect, it } from "vitest";
import { renderDiscordMessage } from "../../../shared/cards/discord-message";
import { renderSlackMessage, type SlackMessage, type TextObject } from "../../../shared/cards/slack-message";
import { renderTeamsCard, type AdaptiveCard, type CardElement, type TextBlock } from "../../../shared/cards/teams-card";
import { buildIssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";

// A build tag can run to hundreds of characters; the status line and the Regressed banner are cut at 300.
const LONG_RELEASE = `2026.11.21+build.${"a".repeat(880)}.z9`;
const RELEASE_START = "2026.11.21+build.aaa";
const RELEASE_END = "aaa.z9";

const resolvedInNextRelease = anIssue({
  status: "resolved",
  substatus: undefined,
  resolution: { inRelease: "next", release: LONG_RELEASE },
  statusChangedBy: "Ana Okafor",
  statusChangedAt: "2026-11-21T14:00:00.000Z",
  statusChange: "resolve",
  tags: { release: LONG_RELEASE },
});
const regressedFromLongReleases = anIssue({
  substatus: "regressed",
  regression: { firedIn: `${LONG_RELEASE}.1`, resolution: { inRelease: "next", release: LONG_RELEASE }, orderUnknown: true },
  tags: { release: `${LONG_RELEASE}.1` },
});

/** Teams markdown as the user reads it: the backslash escapes gone. */
const shownFromTeamsMarkdown = (text: string) => text.replace(/\\([\\`*_~[\]<>#+\-=.)])/g, "$1");

function teamsTexts(card: AdaptiveCard): string[] {
  const walk = (elements: CardElement[]): TextBlock[] =>
    elements.flatMap((e) => (e.type === "TextBlock" ? [e] : e.type === "Container" ? walk(e.items) : []));
  return walk(card.body).map((block) => shownFromTeamsMarkdown(block.text));
}

function slackTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((b) =>
    (b.type === "section" ? [b.text, ...(b.fields ?? [])] : b.type === "context" ? b.elements : []).flatMap((t?: TextObject) => (t ? [t.text] : [])),
  );
}

describe("a long release never pushes who did it, and when, off the card", () => {
  it("Teams: the status line names Ana Okafor and the time, and shows both ends of the release", () => {
    const status = teamsTexts(renderTeamsCard(buildIssueView(resolvedInNextRelease))).find((t) => t.startsWith("Resolved"))!;
    expect(status.endsWith(") by Ana Okafor · 2026-11-21 14:00 UTC")).toBe(true);
    expect(status).toContain(`Resolved in the next release (after ${RELEASE_START}`);
    expect(status).toContain(`${RELEASE_END}) by`);
  });

  it("Slack: the status line names Ana Okafor and the time, in the card and in its notification text", () => {
    const message = renderSlackMessage(buildIssueView(resolvedInNextRelease));
    const status = slackTexts(message).find((t) => t.startsWith("*Resolved"))!;
    expect(status.endsWith(") by Ana Okafor · 2026-11-21 14:00 UTC*")).toBe(true);
    expect(status).toContain(RELEASE_START);
    expect(message.text.endsWith(") by Ana Okafor · 2026-11-21 14:00 UTC")).toBe(true);
  });

  it("Discord shows the same status line as the others", () => {
    const status = renderDiscordMessage(buildIssueView(resolvedInNextRelease)).embeds[0]!.fields![0]!.value;
    expect(status.endsWith(") by Ana Okafor · 2026-11-21 14:00 UTC")).toBe(true);
  });

  it("the Regressed banner keeps 'resolved in the next release after …' with the release's end, on Teams and Slack", () => {
    const view = buildIssueView(regressedFromLongReleases);
    const teamsBanner = teamsTexts(renderTeamsCard(view))[0]!;
    const slackBanner = slackTexts(renderSlackMessage(view))[0]!;
    for (const banner of [teamsBanner, slackBanner.replace(/^:warning: \*|\*$/g, "")]) {
      expect(banner).toMatch(/^Regressed: fired in 2026\.11\.21\+build\.a+…a+\.z9\.1 \(/);
      expect(banner).toContain(", resolved in the next release after 2026.11.21+build.");
      expect(banner.endsWith(`${RELEASE_END}`)).toBe(true);
    }
  });
});
