import type { APIEmbed } from "discord-api-types/v10";
import { DISCORD_LIMITS, embedLength } from "./discord-message";
import type { ReleaseList, ReleaseView } from "./release-view";
import { escapeDiscordMarkdown, MAX_FACTS, nonBlank, safeLink, TEXT_LIMITS, truncate } from "./text";

/** The release message for Discord: one embed, no components, and no mention in it pings anyone. */
export interface DiscordReleaseMessage {
  content: string;
  embeds: APIEmbed[];
  allowed_mentions: { parse: [] };
}

const RELEASE_COLOUR = 0x5865f2;
/** Item titles in a list are shorter than a card's title: a list of 25 should still read as a list. */
const ITEM_TITLE_LIMIT = 150;

/**
 * Renders the release view as one embed: the title linking to the release, the facts as inline fields, and the
 * lists in the description. Lists are cut from the end (counted in "…and N more") until the description fits its
 * 4,096 characters and the embed its 6,000, never rejected. What the producer wrote is escaped (a title's `*` or
 * `[text](url)` shows as typed).
 */
export function renderReleaseDiscordMessage(view: ReleaseView): DiscordReleaseMessage {
  const lists = view.lists.map((list) => ({ ...list, items: [...list.items] }));
  for (;;) {
    const embed = buildEmbed(view, lists);
    const fits = (embed.description?.length ?? 0) <= DISCORD_LIMITS.description && embedLength(embed) <= DISCORD_LIMITS.embedTotal;
    const longest = lists.reduce((a, b) => (b.items.length > a.items.length ? b : a));
    // With every list empty only fixed text is left, bounded well under the limits.
    if (fits || longest.items.length === 0) return { content: "", embeds: [embed], allowed_mentions: { parse: [] } };
    longest.items.pop();
    longest.more++;
  }
}

function buildEmbed(view: ReleaseView, lists: ReleaseList[]): APIEmbed {
  const link = safeLink(view.titleUrl);
  const intro = nonBlank(view.intro);
  const description = [...(intro ? [`*${escaped(intro, TEXT_LIMITS.notice)}*`] : []), ...lists.map(listText)].join("\n\n");
  return {
    title: escaped(view.title, DISCORD_LIMITS.title),
    ...(link ? { url: link } : {}),
    description,
    color: RELEASE_COLOUR,
    fields: view.facts.slice(0, MAX_FACTS).map((fact) => ({
      // Discord refuses a blank field (50035): a release's environment may be only spaces.
      name: escaped(nonBlank(fact.label) ?? "-", TEXT_LIMITS.factLabel),
      value: escaped(nonBlank(fact.value) ?? "-", TEXT_LIMITS.factValue),
      inline: true,
    })),
    footer: { text: "Triage Relay · release" },
  };
}

function listText(list: ReleaseList): string {
  const lines = list.items.map((item) => {
    const name = escaped(item.shortId ? `${item.shortId} ${item.title}` : item.title, ITEM_TITLE_LIMIT);
    const href = safeLink(item.url);
    return `• ${href ? `[${name}](${href})` : name} · ${escaped(item.detail, TEXT_LIMITS.factValue)}`;
  });
  const empty = lines.length === 0 && list.more === 0 ? [`*${escaped(list.empty, TEXT_LIMITS.statusLine)}*`] : [];
  const more = list.more > 0 ? [`…and ${list.more.toLocaleString("en-US")} more`] : [];
  return [`**${escaped(list.heading, TEXT_LIMITS.statusLine)}**`, ...lines, ...empty, ...more].join("\n");
}

/**
 * One line of the producer's text, escaped, within `max` characters once escaped. Escaping is line-aware (a "- " at
 * a line start), so the text is cut first and escaped as a whole, cut shorter while the escapes overflow.
 */
function escaped(text: string, max: number): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, " ");
  let kept = max;
  for (;;) {
    const out = escapeDiscordMarkdown(truncate(line, kept));
    if (out.length <= max || kept <= 1) return out.length <= max ? out : "";
    kept -= out.length - max;
  }
}
