// The message list. Polling redraws only messages whose content (or local state) changed, so an open
// show-card, a focused button or a half-chosen menu survive a poll that brings nothing new.
import { h, timeOf } from "./dom.js";

export class MessageList {
  #list;
  #shown = new Map(); // entry id → { signature, element }
  #key;

  constructor(list) {
    this.#list = list;
  }

  /** `draw(entry)` → { signature, body: () => Node[], note?: string, busy?: boolean }; body is only called to redraw. */
  show(key, entries, draw) {
    const switched = key !== this.#key;
    if (switched) {
      this.#key = key;
      this.#shown.clear();
      this.#list.replaceChildren();
    }
    const nearBottom = this.#list.scrollHeight - this.#list.scrollTop - this.#list.clientHeight < 80;
    const keep = new Set(entries.map((e) => e.id));
    for (const [id, shown] of this.#shown) {
      if (!keep.has(id)) {
        shown.element.remove();
        this.#shown.delete(id);
      }
    }
    let previous = null;
    for (const entry of entries) {
      const drawn = draw(entry);
      let shown = this.#shown.get(entry.id);
      if (!shown || shown.signature !== drawn.signature) {
        const element = messageElement(entry, drawn);
        if (shown) replaceKeepingFocus(shown.element, element);
        shown = { signature: drawn.signature, element };
        this.#shown.set(entry.id, shown);
      }
      const expectedAt = previous ? previous.nextSibling : this.#list.firstChild;
      if (shown.element !== expectedAt) this.#list.insertBefore(shown.element, expectedAt);
      previous = shown.element;
    }
    if (entries.length === 0) this.#list.replaceChildren(h("li", { class: "empty" }, "Nothing here yet. Send a test alert, or say something to the app."));
    else this.#list.querySelector(":scope > .empty")?.remove();
    if (switched || nearBottom) this.#list.scrollTop = this.#list.scrollHeight;
  }
}

function messageElement(entry, drawn) {
  const classes = ["message", entry.fromApp ? "from-app" : "from-person", entry.onlyYou ? "only-you" : "", drawn.busy ? "busy" : ""];
  return h(
    "li",
    { class: classes.join(" ").trim(), "data-id": entry.id, tabindex: -1, "aria-busy": drawn.busy ? "true" : undefined },
    h("span", { class: "avatar", "aria-hidden": "true" }, initials(entry.author)),
    h(
      "div",
      { class: "message-main" },
      h(
        "p",
        { class: "meta" },
        h("span", { class: "author" }, entry.author),
        entry.fromApp ? h("span", { class: "tag" }, "App") : undefined,
        timeOf(entry.at),
        entry.edited ? h("span", { class: "edited" }, "Edited") : undefined,
        entry.onlyYou ? h("span", { class: "only-you-label" }, "Only visible to you") : undefined,
        entry.note ? h("span", { class: "context-note" }, `Reply to ${entry.note}`) : undefined,
      ),
      h("div", { class: "message-body" }, drawn.body()),
      drawn.note ? h("p", { class: "action-note", role: "alert" }, drawn.note) : undefined,
    ),
  );
}

function replaceKeepingFocus(old, replacement) {
  const hadFocus = old.contains(document.activeElement);
  old.replaceWith(replacement);
  if (hadFocus) replacement.focus({ preventScroll: true });
}

function initials(name) {
  const words = String(name).split(/\s+/).filter(Boolean);
  return (words.length > 1 ? words[0][0] + words[1][0] : (words[0] ?? "?").slice(0, 2)).toUpperCase();
}
