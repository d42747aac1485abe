// A message's thread, under it, as each client shows it: Slack's "N replies" with the last reply's time, Teams'
// "N replies" under a channel post with who replied, Discord's box with the thread's name, its message count and
// its newest message. Each opens to the replies, oldest first, and closes again.
import { h, timeOf } from "./dom.js";
import { discordMarkdown } from "./markdown.js";

/**
 * `thread`: `{ replies, name? }` as the server sends it. `replies`: the replies drawn, when `open`.
 * `onToggle()`: opens or closes it.
 */
export function threadView(platform, thread, { open, replies, onToggle }) {
  const list = open ? h("ol", { class: "thread-replies", "aria-label": "Replies" }, replies) : undefined;
  const toggle = (...label) => h("button", { type: "button", class: "thread-toggle", "aria-expanded": String(open), onclick: onToggle }, ...label);
  const count = thread.replies.length;
  const last = thread.replies.at(-1);
  if (platform === "discord") {
    return h(
      "div",
      { class: "thread dc-thread" },
      toggle(h("span", { class: "dc-thread-name" }, thread.name ?? "Thread"), " ", h("span", { class: "dc-thread-count" }, `${count} ${count === 1 ? "Message" : "Messages"} ›`)),
      open ? undefined : h("p", { class: "dc-thread-latest" }, last ? [h("span", { class: "author" }, last.author), " ", discordMarkdown(last.text ?? "")] : "There are no recent messages in this thread."),
      list,
    );
  }
  const summary = platform === "slack" ? (last ? ["Last reply ", timeOf(last.at)] : []) : ["from ", [...new Set(thread.replies.map((r) => r.author))].join(", ")];
  return h(
    "div",
    { class: `thread ${platform}-thread` },
    h("p", { class: "thread-summary" }, toggle(`${count} ${count === 1 ? "reply" : "replies"}`), h("span", { class: "thread-last" }, summary)),
    list,
  );
}
