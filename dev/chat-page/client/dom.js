// Elements built from data, never from HTML strings: text always lands as text.

/** h("button", { class: "x", onclick }, "Label", child) */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(...children.flat(Infinity).filter((child) => child !== undefined && child !== null && child !== false));
  return element;
}

export function timeOf(at) {
  const date = new Date(at);
  return h("time", { datetime: date.toISOString() }, date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }));
}

/** Only web and mail links open; anything else (javascript:, data:) shows as its text. */
export function safeUrl(href) {
  try {
    const url = new URL(String(href));
    return ["http:", "https:", "mailto:"].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

export function openUrl(href) {
  const url = safeUrl(href);
  if (url) window.open(url, "_blank", "noopener,noreferrer");
  return url !== undefined;
}
