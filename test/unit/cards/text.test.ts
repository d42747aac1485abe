import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { distinctLabels, escapeSlack, escapeTeamsMarkdown, safeLink, truncate } from "../../../shared/cards/text";
import { hasLoneSurrogate } from "./variants";

describe("truncate", () => {
  it("leaves text that fits alone", () => {
    expect(truncate("hello", 5)).toBe("hello");
    expect(truncate("", 5)).toBe("");
  });

  it("cuts to the limit, ellipsis included", () => {
    expect(truncate("hello world", 6)).toBe("hello…");
    expect(truncate("hello", 1)).toBe("…");
    expect(truncate("hello", 0)).toBe("");
  });

  it("never splits an emoji, a family, a flag or an accented letter, at any cut", () => {
    const text = "a😀b👩‍👩‍👧‍👦c🇫🇷🇩🇪e\u0301x".repeat(3);
    const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)].map((s) => s.segment);
    for (let max = 1; max < text.length; max++) {
      const cut = truncate(text, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(hasLoneSurrogate(cut)).toBe(false);
      const kept = cut.slice(0, -1);
      // What is kept is a whole number of graphemes from the start.
      let rebuilt = "";
      for (const g of graphemes) {
        if (rebuilt.length >= kept.length) break;
        rebuilt += g;
      }
      expect(rebuilt).toBe(kept);
    }
  });

  it("falls back to code points inside a cluster too long to keep", () => {
    const zalgo = "e" + "\u0301".repeat(1000);
    const cut = truncate(zalgo, 10);
    expect(cut).toBe("e" + "\u0301".repeat(8) + "…");
    expect(truncate("😀".repeat(100) + "\u0301".repeat(10), 6)).toBe("😀😀…");
  });

  it("stays fast on megabytes of text (segmenting it all would take seconds)", () => {
    const huge = "a😀".repeat(1_000_000);
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect(truncate(huge, 1500)).toMatch(/^(a😀){499}a…$/u);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("measures the escaped text and never cuts inside an escape", () => {
    for (let max = 1; max < 40; max++) {
      const cut = truncate("a&b<c>d".repeat(10), max, escapeSlack);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
    expect(truncate("a&b", 3, escapeSlack)).toBe("a…");
    expect(truncate("a&b", 7, escapeSlack)).toBe("a&amp;b");
  });
});

describe("escapeTeamsMarkdown", () => {
  it.each([
    ["TypeError: a[0] is *undefined*", "TypeError: a\\[0\\] is \\*undefined\\*"],
    ["snake_case `code` ~strike~", "snake\\_case \\`code\\` \\~strike\\~"],
    ["[click](https://evil.example)", "\\[click\\](https://evil.example)"],
    ["<b>html</b> C:\\path", "\\<b\\>html\\</b\\> C:\\\\path"],
    ["# heading\n- item\n+ item\n1. first\n2) second", "\\# heading\n\\- item\n\\+ item\n1\\. first\n2\\) second"],
    ["title\n===\nrule\n---", "title\n\\===\nrule\n\\---"],
    ["#hashtag -1 offset v1.2.3 a - b", "#hashtag -1 offset v1.2.3 a - b"],
  ])("%j", (input, expected) => {
    expect(escapeTeamsMarkdown(input)).toBe(expected);
  });
});

describe("escapeSlack", () => {
  it("escapes exactly &, < and >", () => {
    expect(escapeSlack("a & b < c > d *e* _f_")).toBe("a &amp; b &lt; c &gt; d *e* _f_");
  });
});

describe("safeLink", () => {
  it.each([
    ["https://sentry.example.com/issues/1?a=1&b=2", "https://sentry.example.com/issues/1?a=1&b=2"],
    ["https://x.example/a (b)|c d<e>", "https://x.example/a%20%28b%29%7Cc%20d%3Ce%3E"],
    ["http://x.example/", "http://x.example/"],
    ["javascript:alert(1)", undefined],
    ["data:text/html,hi", undefined],
    ["not a url", undefined],
    ["", undefined],
    [undefined, undefined],
    [`https://x.example/${"u".repeat(2000)}`, undefined],
  ])("%s", (url, expected) => {
    expect(safeLink(url)).toBe(expected);
  });
});

describe("distinctLabels", () => {
  it("adds the detail only where labels collide", () => {
    const people = [
      { name: "Ana", email: "ana@a.com" },
      { name: "Ben", email: "ben@a.com" },
      { name: "Ana", email: "ana@b.com" },
    ];
    expect(
      distinctLabels(
        people,
        (p) => p.name,
        (p) => p.email,
      ),
    ).toEqual(["Ana (ana@a.com)", "Ben", "Ana (ana@b.com)"]);
  });
});

describe("production card code", () => {
  it("never imports adaptivecards, which does not load in plain Node", () => {
    const dir = join(__dirname, "../../../shared/cards");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      expect(readFileSync(join(dir, file), "utf8"), file).not.toMatch(/from\s+["']adaptivecards|require\(["']adaptivecards/);
    }
  });
});
