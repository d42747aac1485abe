/** Text helpers shared by the Teams and Slack renderers: length caps, escaping, links. */

export const ELLIPSIS = "…";

/** Caps applied to alert text on both platforms, in UTF-16 code units (what Slack and JS count). */
export const TEXT_LIMITS = {
  title: 300,
  culprit: 300,
  description: 1500,
  notice: 300,
  statusLine: 300,
  factLabel: 50,
  factValue: 200,
  actionLabel: 75,
} as const;

/** At most this many facts are shown. */
export const MAX_FACTS = 10;

/** Longer links are shown as plain text: a URL can't be shortened, and it must fit Slack's 3000-char section. */
export const MAX_URL_LENGTH = 2000;

// Built on first use: constructing a Segmenter loads ICU break data (~8 ms), which would otherwise be
// paid by every cold start, including instances that never render a card.
let graphemes: Intl.Segmenter | undefined;

/**
 * Shortens `text` so that `encode(result)` is at most `max` code units, ending in "…" when cut.
 * Cuts between grapheme clusters (an emoji, a flag, a letter with its accents stay whole), and
 * between code points inside a cluster too long to keep (never splits a surrogate pair).
 * `encode` escapes a piece of text; it must work piece by piece (Slack's &, <, > escaping does).
 */
export function truncate(text: string, max: number, encode: (piece: string) => string = (piece) => piece): string {
  if (text.length <= max) {
    const whole = encode(text);
    if (whole.length <= max) return whole;
  }
  const room = max - ELLIPSIS.length;
  if (room < 0) return "";
  let kept = "";
  // V8 segments the whole string up front (~0.5 s for 100 KB), so segment only what can fit plus
  // two code units: grapheme rules look one code point ahead, so every boundary up to `room` is exact.
  graphemes ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment } of graphemes.segment(text.slice(0, max + 2))) {
    const piece = encode(segment);
    if (kept.length + piece.length <= room) {
      kept += piece;
      continue;
    }
    if (kept === "") {
      for (const codePoint of segment) {
        const encoded = encode(codePoint);
        if (kept.length + encoded.length > room) break;
        kept += encoded;
      }
    }
    break;
  }
  return kept + ELLIPSIS;
}

/**
 * `text` escaped with `escape`, at most `max` characters once escaped. For escaping that depends on where a line
 * starts (Discord's "# " and "- "), which can't be done piece by piece: the text is cut first and escaped as a whole.
 */
export function escapedWithin(text: string, max: number, escape: (text: string) => string): string {
  const whole = escape(truncate(text, max));
  if (whole.length <= max) return whole;
  // The longest cut whose escaped text fits: escaping only ever adds characters, so a shorter cut never escapes longer.
  let fits = "";
  let low = 1;
  let high = max - 1;
  while (low <= high) {
    const kept = Math.floor((low + high) / 2);
    const out = escape(truncate(text, kept));
    if (out.length <= max) {
      fits = out;
      low = kept + 1;
    } else {
      high = kept - 1;
    }
  }
  return fits;
}

/** A title as one line: line breaks and runs of whitespace become one space (a blank line would end a link). */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

// Right-to-left letters (Hebrew to N'Ko, Arabic presentation forms, the RTL planes) and the bidi controls.
const BIDI_SENSITIVE =
  /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]|[\u{10800}-\u{10FFF}\u{1E800}-\u{1EFFF}]/u;

/**
 * User text placed inside one of our sentences, kept from reordering the words around it: a name holding U+202E
 * would otherwise show "by Ana · 14:02 UTC" backwards. Wrapped in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE
 * (Unicode 6.3; Blink and Gecko, so Teams, Slack and Discord on desktop and web, apply them), and only when it holds
 * right-to-left text or a bidi control: other text is left byte for byte as it was.
 */
export function isolated(text: string): string {
  return BIDI_SENSITIVE.test(text) ? `\u2068${text}\u2069` : text;
}

/** Text with something other than whitespace in it, or undefined. */
export function nonBlank(text: string | undefined): string | undefined {
  return text !== undefined && text.trim() !== "" ? text : undefined;
}

/** Only http(s) links short enough to send; anything else (javascript:, data:, garbage) is shown unlinked. */
export function safeLink(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return undefined;
  // URL.href already percent-encodes spaces, quotes, < and >; these break markdown and Slack links.
  const href = parsed.href.replace(/[()|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return href.length <= MAX_URL_LENGTH ? href : undefined;
}

/**
 * Escapes text for Adaptive Card markdown (TextBlock, Fact title and value), so an alert's
 * `*`, `_`, `[`, `<` or a line starting "# ", "- ", "1. " shows as typed instead of formatting the card.
 * Line-start characters are escaped only where they would start a block, so "1.2.3" stays as is.
 */
export function escapeTeamsMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~[\]<>]/g, "\\$&")
    .replace(/^([ \t]*)([#+-])(?=[ \t]|$)/gm, "$1\\$2") // "# heading", "- item"
    .replace(/^([ \t]*)([=-])(?=[=-]*[ \t]*$)/gm, "$1\\$2") // "===" and "---" under a line make it a heading
    .replace(/^([ \t]*\d{1,9})([.)])(?=[ \t]|$)/gm, "$1\\$2"); // "1. item"
}

/**
 * Escapes text for Discord markdown (an embed's description and field values), so an alert's `[text](url)` can't
 * pass for a link with other words on it, and `*`, `_`, `~`, `|`, `<@…>`, "# ", "- " show as typed.
 */
export function escapeDiscordMarkdown(text: string): string {
  return text
    .replace(/[\\`*_~|[\]<>]/g, "\\$&")
    .replace(/^([ \t]*)([#+-])(?=[ \t#]|$)/gm, "$1\\$2") // "# heading", "-# subtext", "- item"
    .replace(/^([ \t]*\d{1,9})([.)])(?=[ \t]|$)/gm, "$1\\$2"); // "1. item"
}

/** Slack mrkdwn needs exactly these three escaped (https://docs.slack.dev/messaging/formatting-message-text). */
export function escapeSlack(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/**
 * Labels for a list of choices, with a detail appended where two would read the same
 * (two people called "Ana" become "Ana (ana@a.com)" and "Ana (ana@b.com)").
 */
export function distinctLabels<T>(items: T[], label: (item: T) => string, detail: (item: T) => string | undefined): string[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(label(item), (counts.get(label(item)) ?? 0) + 1);
  return items.map((item) => {
    const base = label(item);
    const extra = detail(item);
    return (counts.get(base) ?? 0) > 1 && extra && extra !== base ? `${base} (${extra})` : base;
  });
}
