import { describe, expect, it } from "vitest";
import { DISCORD_LIMITS, renderDiscordMessage } from "../../../shared/cards/discord-message";
import { buildIssueView } from "../../../shared/cards/view";
import { anIssue } from "../../fixtures/issues";

/**
 * What Discord shows for a piece of markdown, for the parts these tests need: a backslash shows the character after
 * it; a code span opened by N backticks closes at the next run of exactly N, and shows what is between as typed,
 * one space trimmed on each side when the code itself starts or ends with a backtick.
 */
function shownByDiscord(markdown: string): string {
  let out = "";
  for (let i = 0; i < markdown.length; ) {
    if (markdown[i] === "\\" && i + 1 < markdown.length && /[^\sA-Za-z0-9]/.test(markdown[i + 1]!)) {
      out += markdown[i + 1];
      i += 2;
      continue;
    }
    const fence = /^`+/.exec(markdown.slice(i))?.[0];
    if (fence) {
      const close = new RegExp(`(?<!\`)${fence}(?!\`)`, "g");
      close.lastIndex = i + fence.length;
      const end = close.exec(markdown);
      if (end) {
        out += markdown.slice(i + fence.length, end.index).replace(/^ (?= *`)|(` *) $/g, "$1");
        i = end.index + fence.length;
        continue;
      }
    }
    out += markdown[i];
    i += 1;
  }
  return out;
}

/** Markdown Discord would turn into formatting, a link or a heading: an unescaped marker outside code. */
function formatting(markdown: string): string[] {
  const outsideCode = markdown.replace(/(`+)[\s\S]*?[^`]\1(?!`)/g, "");
  return [...outsideCode.matchAll(/(?<!\\)(?:\*\*?|__?|~~|\|\||\[[^\]]*\]\([^)]*\)|^#+ |^-# )/gm)].map((m) => m[0]);
}

describe("the Discord card shows alert text as typed", () => {
  it("escapes a Regressed banner naming releases that hold markdown, so no bold text and no live link appear", () => {
    const view = buildIssueView(
      anIssue({
        substatus: "regressed",
        regression: { firedIn: "**1.2.4** [changelog](https://evil.example)", resolution: { inRelease: "current", release: "_1.2.3_" } },
      }),
    );
    const { content } = renderDiscordMessage(view);
    expect(formatting(content)).toEqual([]);
    expect(shownByDiscord(content)).toBe("Regressed: fired in **1.2.4** [changelog](https://evil.example), resolved in the current release _1.2.3_");
  });

  it("escapes a notice given to the renderer, within Discord's 2,000 characters once escaped", () => {
    const { content } = renderDiscordMessage(buildIssueView(anIssue(), { notice: "*".repeat(3000) }));
    expect(content.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    expect(formatting(content)).toEqual([]);
    expect(shownByDiscord(content)).toMatch(/^\*+…$/);
  });

  it("escapes the embed title: a Python error keeps its underscores and asterisks", () => {
    const title = "AttributeError: 'NoneType' object has no attribute '__len__' in f(*args)";
    const [embed] = renderDiscordMessage(buildIssueView(anIssue({ title }))).embeds;
    expect(formatting(embed!.title!)).toEqual([]);
    expect(shownByDiscord(embed!.title!)).toBe(`ERROR: ${title}`);
  });

  it("keeps an escaped title within Discord's 256 characters", () => {
    const [embed] = renderDiscordMessage(buildIssueView(anIssue({ title: "_".repeat(1000) }))).embeds;
    expect(embed!.title!.length).toBeLessThanOrEqual(DISCORD_LIMITS.title);
    expect(shownByDiscord(embed!.title!)).toMatch(/^ERROR: _+…$/);
  });

  it("shows backticks in the culprit as backticks", () => {
    for (const culprit of ["render(`x`) ``y``", "`leading and trailing`", "plain culprit"]) {
      const [embed] = renderDiscordMessage(buildIssueView(anIssue({ culprit }))).embeds;
      expect(shownByDiscord(embed!.description!)).toBe(culprit);
    }
  });

  it("never opens a code block from the culprit: a run of backticks with a line break in it loses no word", () => {
    const [embed] = renderDiscordMessage(buildIssueView(anIssue({ culprit: "handler ``x``\nin render" }))).embeds;
    expect(embed!.description!.split("\n\n")[0]).not.toMatch(/```/);
    expect(shownByDiscord(embed!.description!.split("\n\n")[0]!)).toBe("handler ``x`` in render");
  });
});
