// What Teams' renderer would swallow: it treats `<…>` in card and message text as HTML and drops it
// (the welcome card's "subscribe <project> [level]" showed as "subscribe [level]").

/**
 * The pieces of `text` a CommonMark/HTML renderer takes as markup rather than text: raw HTML tags,
 * comments, declarations and autolinks (CommonMark 0.31, "Raw HTML" and "Autolinks"). A backslash-escaped
 * `\<` is text.
 */
export function swallowedMarkup(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?<!\\)<(?:\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^>]*)?\/?>|!--[\s\S]*?-->|[?!][^>]*>|[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>)/g;
  for (const match of text.matchAll(pattern)) found.push(match[0]);
  return found;
}

type Json = Record<string, unknown>;

/** Every text a Teams user sees in a message: its markdown text, and each card's TextBlocks and facts. */
export function teamsTexts(activity: unknown): string[] {
  const texts: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const item = node as Json;
    if (item.type === "TextBlock" && typeof item.text === "string") texts.push(item.text);
    if (item.type === "FactSet" && Array.isArray(item.facts)) {
      for (const fact of item.facts as Json[]) texts.push(String(fact.title), String(fact.value));
    }
    if (typeof item.title === "string" && typeof item.type === "string" && item.type.startsWith("Action.")) texts.push(item.title);
    Object.values(item).forEach(visit);
  };
  const message = activity as Json;
  if (message?.type === "message" && typeof message.text === "string") texts.push(message.text);
  visit(message?.attachments ?? activity);
  return texts;
}
