// The three text formats, as DOM nodes (text stays text): Teams markdown, which Adaptive Cards asks the host
// to render, Slack mrkdwn, and Discord markdown. Only the parts the clients commonly show: emphasis, code,
// links, line breaks, backslash escapes.
import { h, safeUrl } from "./dom.js";

const TEAMS_ESCAPABLE = /[\\`*_{}[\]()#+\-.!<>~|=]/;
/** Discord drops the backslash before any character that isn't a letter, digit or space. */
const DISCORD_ESCAPABLE = /[^0-9A-Za-z\s]/;

export function teamsMarkdown(text) {
  return lines(text, inlineTeams);
}

/** Discord markdown: content, embed descriptions and field values; titles too, without links (`links: false`). */
export function discordMarkdown(text, { links = true } = {}) {
  return lines(text, (line) => inlineDiscord(line, links));
}

export function slackMrkdwn(text) {
  return lines(text, inlineSlack);
}

/** For Adaptive Cards' onProcessMarkdown, which wants HTML: serialised from nodes, so always escaped. */
export function teamsMarkdownHtml(text) {
  const holder = document.createElement("div");
  holder.append(teamsMarkdown(text));
  return holder.innerHTML;
}

function lines(text, inline) {
  const fragment = document.createDocumentFragment();
  String(text).split(/\r?\n/).forEach((line, i) => {
    if (i > 0) fragment.append(h("br"));
    fragment.append(...inline(line));
  });
  return fragment;
}

function inlineTeams(s) {
  const out = new Run();
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\\" && TEAMS_ESCAPABLE.test(s[i + 1] ?? "")) {
      out.text(s[i + 1]);
      i += 2;
      continue;
    }
    const span = teamsSpan(s, i);
    if (span?.node) out.node(span.node);
    else out.text(span ? span.text : s[i]);
    i = span ? span.end : i + 1;
  }
  return out.nodes();
}

function teamsSpan(s, i) {
  if (s.startsWith("**", i)) return emphasis(s, i, "**", "strong", inlineTeams);
  if (s[i] === "*" || s[i] === "_") return emphasis(s, i, s[i], "em", inlineTeams);
  if (s[i] === "`") return codeSpan(s, i, trimCommonMark);
  if (s[i] === "[") return maskedLink(s, i, inlineTeams);
  return undefined;
}

function inlineDiscord(s, links) {
  const inline = (inner) => inlineDiscord(inner, links);
  const out = new Run();
  for (let i = 0; i < s.length; ) {
    if (s[i] === "\\" && DISCORD_ESCAPABLE.test(s[i + 1] ?? " ")) {
      out.text(s[i + 1]);
      i += 2;
      continue;
    }
    const span = discordSpan(s, i, inline, links);
    if (span?.node) out.node(span.node);
    else out.text(span ? span.text : s[i]);
    i = span ? span.end : i + 1;
  }
  return out.nodes();
}

function discordSpan(s, i, inline, links) {
  if (s.startsWith("**", i)) return emphasis(s, i, "**", "strong", inline);
  if (s.startsWith("__", i)) return emphasis(s, i, "__", "u", inline);
  if (s.startsWith("~~", i)) return emphasis(s, i, "~~", "s", inline);
  if (s[i] === "*" || s[i] === "_") return emphasis(s, i, s[i], "em", inline);
  if (s[i] === "`") return codeSpan(s, i, trimDiscord);
  if (s[i] === "[" && links) return maskedLink(s, i, inline);
  return undefined;
}

/**
 * A code span as CommonMark fences it: a run of N backticks closes only at a run of exactly N (so the code can
 * hold shorter runs); unclosed, the whole run is plain text. `trim` takes off the padding that lets the code
 * start or end with a backtick.
 */
function codeSpan(s, i, trim) {
  const fence = /^`+/.exec(s.slice(i))[0];
  const from = i + fence.length;
  for (let at = s.indexOf(fence, from); at >= 0; at = s.indexOf(fence, at + 1)) {
    const run = /^`+/.exec(s.slice(at))[0];
    if (run.length !== fence.length) {
      at += run.length - 1;
      continue;
    }
    return { node: h("code", {}, trim(s.slice(from, at))), end: at + fence.length };
  }
  return { text: fence, end: from };
}

/** CommonMark: one space off each end when both ends have one and the code isn't all spaces. */
function trimCommonMark(code) {
  return code.length > 1 && code.startsWith(" ") && code.endsWith(" ") && code.trim() !== "" ? code.slice(1, -1) : code;
}

/** Discord (simple-markdown): the one space between the fence and a backtick, at either end on its own. */
function trimDiscord(code) {
  return code.replace(/^ (?= *`)|(` *) $/g, "$1");
}

function maskedLink(s, i, inline) {
  const close = unescapedIndex(s, "]", i + 1);
  if (close < 0 || s[close + 1] !== "(") return undefined;
  const end = s.indexOf(")", close + 2);
  if (end < 0) return undefined;
  return { node: link(s.slice(close + 2, end).trim(), inline(s.slice(i + 1, close))), end: end + 1 };
}

/** `*a*`, `_a_`, `**a**` (and Discord's `__a__`, `~~a~~`): opened before a non-space, closed after one, and `_` not inside a word. */
function emphasis(s, i, marker, tag, inline) {
  const from = i + marker.length;
  if (/\s/.test(s[from] ?? " ") || (marker[0] === "_" && /\w/.test(s[i - 1] ?? ""))) return undefined;
  for (let close = unescapedIndex(s, marker, from); close > from; close = unescapedIndex(s, marker, close + 1)) {
    const after = s[close + marker.length] ?? "";
    if (/\s/.test(s[close - 1])) continue;
    if (marker.length === 1 && after === marker) continue;
    if (marker[0] === "_" && /\w/.test(after)) continue;
    return { node: h(tag, {}, inline(s.slice(from, close))), end: close + marker.length };
  }
  return undefined;
}

function unescapedIndex(s, marker, from) {
  for (let j = from; j < s.length; j++) {
    if (s[j] === "\\") j += 1;
    else if (s.startsWith(marker, j)) return j;
  }
  return -1;
}

const SLACK_MARKS = { "*": "strong", _: "em", "~": "del", "`": "code" };
const EMOJI = {
  warning: "⚠️",
  red_circle: "🔴",
  large_yellow_circle: "🟡",
  large_blue_circle: "🔵",
  white_circle: "⚪",
  white_check_mark: "✅",
  x: "❌",
  bell: "🔔",
  no_bell: "🔕",
  mute: "🔇",
  eyes: "👀",
  link: "🔗",
  bust_in_silhouette: "👤",
};

function inlineSlack(s) {
  const out = new Run(decodeSlackEntities);
  for (let i = 0; i < s.length; ) {
    const span = slackSpan(s, i);
    if (span) {
      out.node(span.node);
      i = span.end;
    } else {
      out.text(s[i]);
      i += 1;
    }
  }
  return out.nodes();
}

function slackSpan(s, i) {
  const c = s[i];
  if (c === "<") {
    const end = s.indexOf(">", i + 1);
    return end > i + 1 ? { node: slackReference(s.slice(i + 1, end)), end: end + 1 } : undefined;
  }
  if (c === ":") {
    const emoji = /^:([a-z0-9_+-]+):/.exec(s.slice(i));
    if (emoji && EMOJI[emoji[1]]) return { node: document.createTextNode(EMOJI[emoji[1]]), end: i + emoji[0].length };
  }
  const tag = SLACK_MARKS[c];
  if (!tag || /\w/.test(s[i - 1] ?? "") || /\s/.test(s[i + 1] ?? " ")) return undefined;
  const close = s.indexOf(c, i + 2);
  if (close < 0 || /\s/.test(s[close - 1]) || /\w/.test(s[close + 1] ?? "")) return undefined;
  const inner = s.slice(i + 1, close);
  return { node: h(tag, {}, tag === "code" ? decodeSlackEntities(inner) : inlineSlack(inner)), end: close + 1 };
}

/** `<https://…|label>`, `<@U123>`, `<#C123|name>`, `<!here>`. */
function slackReference(inner) {
  const [target, label] = splitOnce(inner, "|");
  if (target.startsWith("@")) return h("span", { class: "mention" }, `@${decodeSlackEntities(label ?? target.slice(1))}`);
  if (target.startsWith("#")) return h("span", { class: "mention" }, `#${decodeSlackEntities(label ?? target.slice(1))}`);
  if (target.startsWith("!")) return h("span", { class: "mention" }, `@${decodeSlackEntities(label ?? target.slice(1).split("^")[0])}`);
  return link(decodeSlackEntities(target), [decodeSlackEntities(label ?? target)]);
}

function link(href, children) {
  const url = safeUrl(href);
  return url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, children) : h("span", {}, children);
}

function splitOnce(s, separator) {
  const at = s.indexOf(separator);
  return at < 0 ? [s] : [s.slice(0, at), s.slice(at + 1)];
}

/** Slack escapes exactly &, < and > in message text. */
function decodeSlackEntities(s) {
  return s.replace(/&(amp|lt|gt);/g, (_, name) => ({ amp: "&", lt: "<", gt: ">" })[name]);
}

/** Collects text and nodes, merging adjacent text into one node. */
class Run {
  #nodes = [];
  #text = "";
  constructor(decode = (s) => s) {
    this.decode = decode;
  }
  text(s) {
    this.#text += s;
  }
  node(n) {
    this.#flush();
    this.#nodes.push(n);
  }
  nodes() {
    this.#flush();
    return this.#nodes;
  }
  #flush() {
    if (this.#text) this.#nodes.push(document.createTextNode(this.decode(this.#text)));
    this.#text = "";
  }
}
