import { releaseSummary, type ReleaseView } from "./release-view";
import type { SlackBlock, SlackMessage } from "./slack-message";
import { escapeSlack, MAX_FACTS, MAX_URL_LENGTH, nonBlank, safeLink, TEXT_LIMITS, truncate } from "./text";

/** Block Kit: a section's text holds 3,000 characters; a message's `text` 40,000 (kept far shorter). */
export const SLACK_SECTION_TEXT_LIMIT = 3000;
const SUMMARY_LIMIT = 600;
/** Item titles in a list are shorter than a card's title: a list of 25 should still read as a list. */
const ITEM_TITLE_LIMIT = 150;

/**
 * The release message for Slack: a few blocks (at most 9, of Block Kit's 50). Each list is one section
 * whose lines are cut from the end (counted in "…and N more") to fit its 3,000 characters, never rejected.
 */
export function renderReleaseSlackMessage(view: ReleaseView): SlackMessage {
  const blocks: SlackBlock[] = [];
  blocks.push({ type: "section", text: mrkdwn(`:rocket: *${linked(view.title, view.titleUrl)}*`) });
  const intro = nonBlank(view.intro);
  if (intro) blocks.push({ type: "context", elements: [mrkdwn(escaped(intro, TEXT_LIMITS.notice))] });
  blocks.push({
    type: "section",
    fields: view.facts
      .slice(0, MAX_FACTS)
      .map((fact) => mrkdwn(`*${escaped(fact.label, TEXT_LIMITS.factLabel)}*\n${escaped(fact.value, TEXT_LIMITS.factValue)}`)),
  });
  for (const list of view.lists) {
    const heading = `*${escaped(list.heading, TEXT_LIMITS.statusLine)}*`;
    const lines = list.items.map((item) => {
      const name = item.shortId ? `${item.shortId} ${item.title}` : item.title;
      return `• ${linked(name, item.url, ITEM_TITLE_LIMIT)} · ${escaped(item.detail, TEXT_LIMITS.factValue)}`;
    });
    let more = list.more;
    const text = () => {
      const body = lines.length > 0 || more > 0 ? lines : [`_${escaped(list.empty, TEXT_LIMITS.statusLine)}_`];
      return [heading, ...body, ...(more > 0 ? [`…and ${more.toLocaleString("en-US")} more`] : [])].join("\n");
    };
    while (text().length > SLACK_SECTION_TEXT_LIMIT && lines.length > 0) {
      lines.pop();
      more++;
    }
    blocks.push({ type: "section", text: mrkdwn(text()) });
  }
  // The notification text is mrkdwn like the blocks: unescaped, a version of `<!channel>` would ping the channel.
  return { text: escaped(releaseSummary(view), SUMMARY_LIMIT), blocks };
}

function escaped(text: string, max: number): string {
  return truncate(text, max, escapeSlack);
}

function linked(title: string, url: string | undefined, max: number = TEXT_LIMITS.title): string {
  const text = escaped(title, max);
  const link = safeLink(url);
  const href = link && escapeSlack(link);
  return href && href.length <= MAX_URL_LENGTH ? `<${href}|${text}>` : text;
}

function mrkdwn(text: string) {
  return { type: "mrkdwn" as const, text, verbatim: true };
}
