// The two text formats, as DOM nodes (text stays text): Teams markdown, which Adaptive Cards asks the host
// to render, and Slack mrkdwn. Only the parts the clients commonly show: emphasis, code, links, line breaks.
import { h, safeUrl } from "./dom.js";

const TEAMS_ESCAPABLE = /[\\`*_{}[\]()#+\-.!<>~|=]/;

export function teamsMarkdown(text) {
  return lines(text, inlineTeams);
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

function teamsSpan(s, i) {
  if (s.startsWith("**", i)) return emphasis(s, i, "**", "strong");
  if (s[i] === "*" || s[i] === "_") return emphasis(s, i, s[i], "em");
  if (s[i] === "`") {
    const end = s.indexOf("`", i + 1);
    return end > i + 1 ? { node: h("code", {}, s.slice(i + 1, end)), end: end + 1 } : undefined;
  }
  if (s[i] === "[") {
    const close = unescapedIndex(s, "]", i + 1);
    if (close < 0 || s[close + 1] !== "(") return undefined;
    const end = s.indexOf(")", close + 2);
    if (end < 0) return undefined;
    return { node: link(s.slice(close + 2, end).trim(), inlineTeams(s.slice(i + 1, close))), end: end + 1 };
  }
  return undefined;
}

/** `*a*`, `_a_`, `**a**`: opened before a non-space, closed after one, and `_` not inside a word. */
function emphasis(s, i, marker, tag) {
  const from = i + marker.length;
  if (/\s/.test(s[from] ?? " ") || (marker === "_" && /\w/.test(s[i - 1] ?? ""))) return undefined;
  for (let close = unescapedIndex(s, marker, from); close > from; close = unescapedIndex(s, marker, close + 1)) {
    const after = s[close + marker.length] ?? "";
    if (/\s/.test(s[close - 1])) continue;
    if (marker === "*" && after === "*") continue;
    if (marker === "_" && /\w/.test(after)) continue;
    return { node: h(tag, {}, inlineTeams(s.slice(from, close))), end: close + marker.length };
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
