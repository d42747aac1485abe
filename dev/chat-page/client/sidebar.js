// Conversations grouped by team, chats and workspace; links are #<key>, so a conversation can be bookmarked.
import { h } from "./dom.js";

export function renderSidebar(nav, conversations, selectedKey) {
  const groups = new Map();
  for (const conversation of conversations) {
    if (!groups.has(conversation.group)) groups.set(conversation.group, []);
    groups.get(conversation.group).push(conversation);
  }
  const signature = JSON.stringify([selectedKey, conversations.map((c) => [c.key, c.group, c.label])]);
  if (nav.dataset.signature === signature) return;
  nav.dataset.signature = signature;
  nav.replaceChildren(
    ...[...groups].map(([group, items]) =>
      h(
        "section",
        { class: `nav-group ${items[0].ref.platform}` },
        h("h2", {}, group),
        h(
          "ul",
          {},
          items.map((c) =>
            h(
              "li",
              {},
              h("a", { href: `#${encodeURIComponent(c.key)}`, "aria-current": c.key === selectedKey ? "page" : undefined }, icon(c), c.label),
            ),
          ),
        ),
      ),
    ),
  );
}

function icon(conversation) {
  const glyph = { channel: "#", personal: "●", groupChat: "◆", dm: "●" }[conversation.kind] ?? "";
  return h("span", { class: "nav-icon", "aria-hidden": "true" }, glyph);
}
