// Discord message bodies: content as markdown, embeds (colour bar, linked title, description, fields,
// footer) and components (action rows of buttons and string selects), drawn simply.
import { h, safeUrl } from "./dom.js";
import { teamsMarkdown } from "./markdown.js";

/** Discord's button styles: 1 primary, 2 secondary, 3 success, 4 danger, 5 link. */
const BUTTON_STYLE = { 1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link" };

/** `onAction({ custom_id, values? }, component)`: a click on a button, or a choice in a select. */
export function discordBody(entry, { onAction, canAct }) {
  const embeds = Array.isArray(entry.embeds) ? entry.embeds : [];
  const rows = Array.isArray(entry.components) ? entry.components : [];
  return [
    entry.text ? h("div", { class: "text" }, teamsMarkdown(entry.text)) : undefined,
    embeds.map(embed),
    rows.map((row) => h("div", { class: "dc-row" }, (row.components ?? []).map((component) => control(component, { onAction, canAct })))),
  ];
}

function embed(item) {
  const colour = Number.isInteger(item.color) ? `#${item.color.toString(16).padStart(6, "0")}` : "#1e1f22";
  const url = safeUrl(item.url);
  return h(
    "div",
    { class: "dc-embed", style: `border-left-color: ${colour}` },
    item.title ? h("p", { class: "dc-title" }, url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, item.title) : item.title) : undefined,
    item.description ? h("div", { class: "dc-description" }, teamsMarkdown(item.description)) : undefined,
    Array.isArray(item.fields) && item.fields.length
      ? h(
          "div",
          { class: "dc-fields" },
          item.fields.map((field) =>
            h("div", { class: field.inline ? "dc-field inline" : "dc-field" }, h("p", { class: "dc-field-name" }, field.name), h("div", {}, teamsMarkdown(field.value))),
          ),
        )
      : undefined,
    item.footer?.text ? h("p", { class: "dc-footer" }, item.footer.text) : undefined,
  );
}

function control(component, { onAction, canAct }) {
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
  return h("span", { class: "problem" }, `A type ${String(component.type)} component, which this page doesn't draw.`);
}
