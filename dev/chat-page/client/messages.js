// The message list. Polling redraws only messages whose content (or local state) changed, so an open
// show-card, a focused button or a half-chosen menu survive a poll that brings nothing new. A message's thread
// is drawn apart from it: a reply arriving redraws the thread, not the card above it.
import { h, timeOf } from "./dom.js";
import { slackMrkdwn } from "./markdown.js";
import { threadView } from "./threads.js";

export class MessageList {
  #list;
  #shown = new Map(); // entry id → { signature, element, threadSignature, latest }
  #key;
  /** Threads opened here, by conversation key and message id: they stay open as replies arrive. */
  #open = new Set();

  constructor(list) {
    this.#list = list;
  }

  /**
   * `draw(entry)` → { signature, body: () => Node[], note?: string, busy?: boolean }; body is only called to redraw.
   * Replies in a thread are drawn with it too. `platform`: how a thread is shown under its message.
   */
  show(key, entries, draw, platform) {
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
      shown.latest = { key, entry, draw, platform };
      this.#showThread(shown);
      const expectedAt = previous ? previous.nextSibling : this.#list.firstChild;
      if (shown.element !== expectedAt) this.#list.insertBefore(shown.element, expectedAt);
      previous = shown.element;
    }
    if (entries.length === 0) this.#list.replaceChildren(h("li", { class: "empty" }, "Nothing here yet. Send a test alert, or say something to the app."));
    else this.#list.querySelector(":scope > .empty")?.remove();
    if (switched || nearBottom) this.#list.scrollTop = this.#list.scrollHeight;
  }

  #showThread(shown) {
    const { key, entry, draw, platform } = shown.latest;
    const slot = shown.element.querySelector(":scope > .message-main > .thread-slot");
    const id = `${key}|${entry.id}`;
    const open = this.#open.has(id);
    const replies = entry.thread && open ? entry.thread.replies.map((reply) => ({ reply, drawn: draw(reply) })) : [];
    const signature = JSON.stringify([entry.thread ?? null, open, replies.map(({ drawn }) => drawn.signature)]);
    if (!slot || shown.threadSignature === signature) return;
    shown.threadSignature = signature;
    const hadFocus = slot.contains(document.activeElement);
    const toggle = () => {
      if (!this.#open.delete(id)) this.#open.add(id);
      this.#showThread(shown);
    };
    slot.replaceChildren(
      entry.thread
        ? threadView(platform, entry.thread, {
            open,
            replies: replies.map(({ reply, drawn }) => messageElement(reply, drawn, "reply")),
            onToggle: toggle,
          })
        : [],
    );
    if (hadFocus) slot.querySelector(".thread-toggle")?.focus({ preventScroll: true });
  }
}

function messageElement(entry, drawn, kind = "message") {
  const classes = [kind === "reply" ? "message reply" : "message", entry.fromApp ? "from-app" : "from-person", entry.onlyYou ? "only-you" : "", drawn.busy ? "busy" : ""];
  return h(
    "li",
    { class: classes.join(" ").replace(/\s+/g, " ").trim(), "data-id": entry.id, tabindex: -1, "aria-busy": drawn.busy ? "true" : undefined },
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
      entry.repliedToThread !== undefined
        ? h("p", { class: "replied-to-thread" }, "replied to a thread: ", h("span", { class: "replied-to-text" }, slackMrkdwn(entry.repliedToThread)))
        : undefined,
      h("div", { class: "message-body" }, drawn.body()),
      entry.alsoSentToChannel ? h("p", { class: "also-sent" }, "Also sent to the channel") : undefined,
      drawn.note ? h("p", { class: "action-note", role: "alert" }, drawn.note) : undefined,
      kind === "message" ? h("div", { class: "thread-slot" }) : undefined,
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
