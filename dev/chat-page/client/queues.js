// The Queues view: every queue's length and its poison queue's, each poison message with its reason,
// and a button to put one back on its queue (what `npm run queues` does in a terminal).
import { get, post } from "./api.js";
import { h } from "./dom.js";

export function setupQueues(button, dialog) {
  const body = dialog.querySelector(".queues-body");
  const status = dialog.querySelector(".queues-status");
  const refresh = async () => {
    try {
      const { queues } = await get("/api/queues");
      body.replaceChildren(renderQueues(queues, requeue));
    } catch (error) {
      status.textContent = `Couldn't read the queues: ${error.message}`;
    }
  };
  const requeue = async (queue, messageId) => {
    status.textContent = "";
    try {
      status.textContent = (await post("/api/queues/requeue", { queue, messageId })).message;
    } catch (error) {
      status.textContent = error.message;
    }
    await refresh();
  };
  button.addEventListener("click", async () => {
    status.textContent = "";
    dialog.showModal();
    await refresh();
  });
  dialog.querySelector(".queues-refresh").addEventListener("click", refresh);
  dialog.querySelector(".queues-close").addEventListener("click", () => dialog.close());
}

function renderQueues(queues, requeue) {
  const count = (n) => (n === undefined || n === null ? "not created yet" : String(n));
  return h(
    "div",
    {},
    h(
      "table",
      { class: "queues-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Queue"), h("th", { scope: "col" }, "Waiting"), h("th", { scope: "col" }, "Poison queue"), h("th", { scope: "col" }, "Set aside"))),
      h(
        "tbody",
        {},
        queues.map((q) => h("tr", {}, h("th", { scope: "row" }, q.name), h("td", {}, count(q.length)), h("td", {}, q.poisonName), h("td", {}, count(q.poisonLength)))),
      ),
    ),
    queues
      .filter((q) => q.poison.length > 0)
      .map((q) =>
        h(
          "section",
          { class: "poison", "aria-label": q.poisonName },
          h("h3", {}, q.poisonName),
          h(
            "ul",
            {},
            q.poison.map((m) =>
              h(
                "li",
                { class: "poison-message" },
                h("p", { class: "poison-reason" }, m.reason),
                h("p", { class: "poison-meta" }, `${m.id} · tried ${m.dequeueCount}×${m.insertedOn ? ` · ${new Date(m.insertedOn).toISOString()}` : ""}`),
                h("button", { type: "button", class: "secondary", onclick: () => requeue(q.poisonName, m.id) }, "Re-queue"),
              ),
            ),
          ),
        ),
      ),
  );
}
