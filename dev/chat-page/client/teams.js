// Teams message bodies: text, and Adaptive Cards drawn by Microsoft's own renderer (adaptivecards.js).
import { h } from "./dom.js";
import { teamsMarkdown, teamsMarkdownHtml } from "./markdown.js";

const AC = window.AdaptiveCards;

AC.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = teamsMarkdownHtml(text);
  result.didProcess = true;
};

const hostConfig = new AC.HostConfig({
  fontFamily: "'Segoe UI', system-ui, -apple-system, sans-serif",
  supportsInteractivity: true,
  spacing: { small: 4, default: 8, medium: 16, large: 24, extraLarge: 32, padding: 16 },
  separator: { lineThickness: 1, lineColor: "#e0e0e0" },
  fontSizes: { small: 12, default: 14, medium: 16, large: 20, extraLarge: 24 },
  actions: {
    maxActions: 6,
    spacing: "default",
    buttonSpacing: 8,
    showCard: { actionMode: "inline", inlineTopMargin: 12 },
    actionsOrientation: "horizontal",
    actionAlignment: "left",
  },
});

/** Teams mobile can't run Action.Execute: without it registered, the renderer takes each action's fallback. */
const mobileActions = (() => {
  const registry = new AC.CardObjectRegistry();
  AC.GlobalRegistry.populateWithDefaultActions(registry);
  registry.unregister("Action.Execute");
  return registry;
})();

/**
 * `onAction(action)` gets `{ type: "Action.Execute", verb, data, id }`, `{ type: "Action.Submit", data }`
 * or `{ type: "Action.OpenUrl", url }`; Action.ShowCard is handled by the renderer.
 */
export function teamsBody(entry, { cards, mobile, onAction }) {
  return [
    entry.text ? h("div", { class: "text" }, teamsMarkdown(entry.text)) : undefined,
    ...cards.map((card) => h("div", { class: "card" }, renderCard(card, mobile, onAction))),
  ];
}

function renderCard(json, mobile, onAction) {
  const card = new AC.AdaptiveCard();
  card.hostConfig = hostConfig;
  card.onExecuteAction = (action) => onAction(describe(action));
  const context = new AC.SerializationContext();
  if (mobile) context.setActionRegistry(mobileActions);
  try {
    card.parse(json, context);
    const rendered = card.render();
    if (rendered) return rendered;
  } catch (error) {
    console.error("Adaptive Card not rendered", error);
  }
  return h("p", { class: "problem" }, "This card can't be rendered.");
}

function describe(action) {
  const type = action.getJsonTypeName();
  if (type === "Action.Execute") return { type, verb: action.verb, data: action.data ?? {}, id: action.id };
  if (type === "Action.Submit") return { type, data: action.data ?? {} };
  if (type === "Action.OpenUrl") return { type, url: action.url };
  return { type };
}
