// Reads Slack messages as a person would: their text, and the options their menus offer.

type Json = Record<string, unknown>;

export function blocksText(blocks: unknown): string {
  const texts: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const item = node as Json;
    if ((item.type === "mrkdwn" || item.type === "plain_text") && typeof item.text === "string") texts.push(item.text);
    for (const [key, value] of Object.entries(item)) if (key !== "elements" || item.type !== "actions") visit(value);
  };
  visit(blocks);
  return texts.join("\n");
}

/** The buttons and menu options of the actions block, by their visible label. */
export function controls(blocks: unknown): { actionId: string; label: string; value?: string; kind: "button" | "option" }[] {
  const found: { actionId: string; label: string; value?: string; kind: "button" | "option" }[] = [];
  for (const block of (blocks as Json[]) ?? []) {
    if (block.type !== "actions") continue;
    for (const element of (block.elements as Json[]) ?? []) {
      const actionId = String(element.action_id);
      if (element.type === "button")
        found.push({ actionId, label: String((element.text as Json).text), value: element.value as string, kind: "button" });
      for (const option of (element.options as Json[]) ?? []) {
        found.push({ actionId, label: String((option.text as Json).text), value: String(option.value), kind: "option" });
      }
    }
  }
  return found;
}

export function control(blocks: unknown, label: string) {
  const match = controls(blocks).find((c) => c.label === label);
  if (!match)
    throw new Error(
      `no "${label}" on the message; it has: ${controls(blocks)
        .map((c) => c.label)
        .join(", ")}`,
    );
  return match;
}

/** The emulator's blockActions input for clicking a button or choosing a menu option. */
export function click(blocks: unknown, label: string) {
  const c = control(blocks, label);
  return c.kind === "button" ? { action_id: c.actionId } : { action_id: c.actionId, selected_option: { value: c.value! } };
}
