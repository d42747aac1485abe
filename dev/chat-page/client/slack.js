// Slack message bodies: Block Kit drawn simply (sections, fields, context, actions with buttons, static
// selects and user menus, dividers, headers), mrkdwn when there are no blocks.
import { h } from "./dom.js";
import { slackMrkdwn } from "./markdown.js";

/**
 * `onAction(action, element)`: `action` as block_actions carries it; `element.url` for link buttons.
 * `users`: whom a user menu (`users_select`) offers, `{ id, name, bot? }`.
 */
export function slackBody(entry, { onAction, canAct, users = [] }) {
  const blocks = Array.isArray(entry.blocks) ? entry.blocks : [];
  if (blocks.length === 0) return [h("div", { class: "text" }, slackMrkdwn(entry.text ?? ""))];
  return blocks.map((block) => renderBlock(block, { onAction, canAct, users }));
}

function renderBlock(block, ctx) {
  switch (block?.type) {
    case "section":
      return h(
        "div",
        { class: "sk-section" },
        h("div", { class: "sk-section-main" }, block.text ? textObject(block.text) : undefined, fields(block.fields)),
        block.accessory ? h("div", { class: "sk-accessory" }, element(block.accessory, block.block_id, ctx)) : undefined,
      );
    case "context":
      return h(
        "div",
        { class: "sk-context" },
        (block.elements ?? []).map((item) => (item.type === "image" ? h("span", {}, `[${item.alt_text ?? "image"}]`) : textObject(item))),
      );
    case "actions":
      return h("div", { class: "sk-actions" }, (block.elements ?? []).map((item) => element(item, block.block_id, ctx)));
    case "header":
      return h("h3", { class: "sk-header" }, block.text?.text ?? "");
    case "divider":
      return h("hr", { class: "sk-divider" });
    case "image":
      return h("p", { class: "sk-context" }, `[image: ${block.alt_text ?? ""}]`);
    default:
      return h("p", { class: "problem" }, `A ${String(block?.type)} block, which this page doesn't draw.`);
  }
}

function fields(list) {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return h("div", { class: "sk-fields" }, list.map(textObject));
}

function textObject(object) {
  if (!object || typeof object.text !== "string") return undefined;
  return h("div", { class: "sk-text" }, object.type === "mrkdwn" ? slackMrkdwn(object.text) : object.text);
}

function element(item, blockId, ctx) {
  const base = { action_id: item.action_id, ...(blockId ? { block_id: blockId } : {}) };
  if (item.type === "button") {
    const style = item.style === "primary" || item.style === "danger" ? ` ${item.style}` : "";
    const label = item.text?.text ?? "";
    return h(
      "button",
      {
        type: "button",
        class: `sk-button${style}`,
        disabled: !ctx.canAct && !item.url,
        onclick: () => ctx.onAction({ ...base, ...(item.value !== undefined ? { value: item.value } : {}) }, item),
      },
      label,
      item.url ? h("span", { class: "visually-hidden" }, " (opens a new tab)") : undefined,
    );
  }
  if (item.type === "static_select" || item.type === "overflow") {
    return staticSelect(item, base, ctx);
  }
  if (item.type === "users_select") return usersSelect(item, base, ctx);
  return h("span", { class: "problem" }, `A ${String(item.type)} element, which this page doesn't draw.`);
}

function staticSelect(item, base, ctx) {
  const option = (o) => h("option", { value: o.value }, o.text?.text ?? o.value);
  const placeholder = item.placeholder?.text ?? "Choose…";
  const groups = Array.isArray(item.option_groups) ? item.option_groups : [];
  return h(
    "select",
    {
      class: "sk-select",
      "aria-label": placeholder,
      disabled: !ctx.canAct,
      onchange: (event) => {
        const value = event.target.value;
        if (value) ctx.onAction({ ...base, selected_option: { value } }, item);
      },
    },
    h("option", { value: "", selected: true, disabled: true }, placeholder),
    (item.options ?? []).map(option),
    groups.map((group) => h("optgroup", { label: group.label?.text ?? "" }, (group.options ?? []).map(option))),
  );
}

/** Slack's user menu: everyone in the workspace; `initial_user` shows chosen; a pick sends `selected_user`. */
function usersSelect(item, base, ctx) {
  const placeholder = item.placeholder?.text ?? "Select a user";
  const initial = typeof item.initial_user === "string" ? item.initial_user : "";
  const users = [...ctx.users];
  if (initial && !users.some((u) => u.id === initial)) users.unshift({ id: initial, name: initial });
  return h(
    "select",
    {
      class: "sk-select sk-users",
      "aria-label": placeholder,
      disabled: !ctx.canAct,
      onchange: (event) => {
        const value = event.target.value;
        if (value && value !== initial) ctx.onAction({ ...base, selected_user: value }, item);
      },
    },
    h("option", { value: "", selected: !initial, disabled: true }, placeholder),
    users.map((u) => h("option", { value: u.id, selected: u.id === initial }, u.bot ? `${u.name} (app)` : u.name)),
  );
}
