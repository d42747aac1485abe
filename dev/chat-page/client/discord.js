// Discord message bodies: content as Discord markdown, embeds (colour bar, linked title, description, fields,
// footer; title, description and field values as markdown too) and components (action rows of buttons, string
// selects and user selects), drawn simply.
import { h, safeUrl } from "./dom.js";
import { discordMarkdown } from "./markdown.js";

/** Discord's button styles: 1 primary, 2 secondary, 3 success, 4 danger, 5 link. */
const BUTTON_STYLE = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };

/**
 * `onAction({ custom_id, values? }, component)`: a click on a button, or a choice in a select.
 * `users`: whom a user select offers (the server's members, or the DM's recipient), `{ id, name, bot? }`.
 */
export function discordBody(entry, { onAction, canAct, users = [] }) {
  const embeds = Array.isArray(entry.embeds) ? entry.embeds : [];
  const rows = Array.isArray(entry.components) ? entry.components : [];
  return [
    entry.text ? h("div", { class: "text" }, discordMarkdown(entry.text)) : undefined,
    embeds.map(embed),
    rows.map((row) => h("div", { class: "dc-row" }, (row.components ?? []).map((component) => control(component, { onAction, canAct, users })))),
  ];
}

function embed(item) {
  const colour = Number.isInteger(item.color) ? `#${item.color.toString(16).padStart(6, "0")}` : "#1e1f22";
  const url = safeUrl(item.url);
  return h(
    "div",
    { class: "dc-embed", style: `border-left-color: ${colour}` },
    item.title ? h("p", { class: "dc-title" }, title(item.title, url)) : undefined,
    item.description ? h("div", { class: "dc-description" }, discordMarkdown(item.description)) : undefined,
    Array.isArray(item.fields) && item.fields.length
      ? h(
          "div",
          { class: "dc-fields" },
          item.fields.map((field) =>
            h("div", { class: field.inline ? "dc-field inline" : "dc-field" }, h("p", { class: "dc-field-name" }, field.name), h("div", {}, discordMarkdown(field.value))),
          ),
        )
      : undefined,
    item.footer?.text ? h("p", { class: "dc-footer" }, item.footer.text) : undefined,
  );
}

/** Discord shows no links inside an embed's title: the title itself is the link. */
function title(text, url) {
  const shown = discordMarkdown(text, { links: false });
  return url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, shown) : shown;
}

function control(component, { onAction, canAct, users }) {
  if (component.type === 2) {
    const style = BUTTON_STYLE[component.style] ?? "secondary";
    const url = component.style === 5 ? safeUrl(component.url) : undefined;
    if (url) return h("a", { class: "dc-button link", href: url, target: "_blank", rel: "noopener noreferrer" }, component.label ?? url);
    return h(
      "button",
      { type: "button", class: `dc-button ${style}`, disabled: !canAct || component.disabled, onclick: () => onAction({ custom_id: component.custom_id }, component) },
      component.label ?? "",
    );
  }
  if (component.type === 3) {
    const placeholder = component.placeholder ?? "Make a selection";
    return h(
      "select",
      {
        class: "dc-select",
        "aria-label": placeholder,
        disabled: !canAct || component.disabled,
        onchange: (event) => {
          const value = event.target.value;
          if (value) onAction({ custom_id: component.custom_id, values: [value] }, component);
        },
      },
      h("option", { value: "", selected: true, disabled: true }, placeholder),
      (component.options ?? []).map((option) => h("option", { value: option.value }, option.label ?? option.value)),
    );
  }
  if (component.type === 5) return userSelect(component, { onAction, canAct, users });
  return h("span", { class: "problem" }, `A type ${String(component.type)} component, which this page doesn't draw.`);
}

/** Discord's user select: the members, the `default_values` shown chosen; a pick sends `values: [userId]`. */
function userSelect(component, { onAction, canAct, users }) {
  const placeholder = component.placeholder ?? "Select a user";
  const chosen = (Array.isArray(component.default_values) ? component.default_values : []).find((value) => value?.type === "user")?.id ?? "";
  const members = [...users];
  if (chosen && !members.some((u) => u.id === chosen)) members.unshift({ id: chosen, name: chosen });
  return h(
    "select",
    {
      class: "dc-select dc-users",
      "aria-label": placeholder,
      disabled: !canAct || component.disabled,
      onchange: (event) => {
        const value = event.target.value;
        if (value && value !== chosen) onAction({ custom_id: component.custom_id, values: [value] }, component);
      },
    },
    h("option", { value: "", selected: !chosen, disabled: true }, placeholder),
    members.map((u) => h("option", { value: u.id, selected: u.id === chosen }, u.bot ? `${u.name} (app)` : u.name)),
  );
}
