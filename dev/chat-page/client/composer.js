// The box for talking to the app: an @mention in Teams channels, a plain message in a 1:1 chat,
// the slash command in Slack and Discord.
const TEAMS_HINT = "help · subscribe checkout warning · link · status";
const SLACK_HINT = "help · subscribe checkout · link · status";

export function setupComposer(form, send) {
  const input = form.elements.namedItem("say");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.disabled = true;
    try {
      if (await send(text)) input.value = "";
    } finally {
      input.disabled = false;
      input.focus();
    }
  });
}

/** `conversation` undefined: nothing selected. */
export function showComposer(form, prefix, conversation, { slashCommand, canAct }) {
  const input = form.elements.namedItem("say");
  const button = form.querySelector("button");
  const enabled = Boolean(conversation) && canAct;
  input.disabled = button.disabled = !enabled;
  if (!conversation) return;
  const slashed = conversation.ref.platform !== "teams";
  prefix.textContent = slashed ? slashCommand : conversation.kind === "personal" ? "" : "@Triage Relay";
  input.placeholder = slashed ? SLACK_HINT : TEAMS_HINT;
  input.setAttribute("aria-label", slashed ? `Slash command: ${slashCommand} …` : conversation.kind === "personal" ? "Message to Triage Relay" : "Message mentioning @Triage Relay");
}
