// Reads cards the way a person would: the text they show and the buttons they offer.

export interface FoundAction {
  title: string;
  verb?: string;
  data: unknown;
  /** The Action.Submit fallback's data, for clients where Action.Execute doesn't work. */
  fallbackData?: unknown;
}

type Json = Record<string, unknown>;

/** Every Action.Execute in the card, including those inside show-card menus. */
export function executeActions(card: unknown): FoundAction[] {
  const found: FoundAction[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const item = node as Json;
    if (item.type === "Action.Execute") {
      const fallback = item.fallback as Json | undefined;
      found.push({ title: String(item.title), verb: item.verb as string, data: item.data, fallbackData: fallback?.data });
    }
    Object.values(item).forEach(visit);
  };
  visit(card);
  return found;
}

export function action(card: unknown, title: string | RegExp): FoundAction {
  const match = executeActions(card).find((a) => (typeof title === "string" ? a.title === title : title.test(a.title)));
  if (!match)
    throw new Error(
      `no button "${title}" on the card; it has: ${executeActions(card)
        .map((a) => a.title)
        .join(", ")}`,
    );
  return match;
}

/** All the text a card shows, joined: what someone reading it would see. */
export function cardText(card: unknown): string {
  const texts: string[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== "object") return;
    const item = node as Json;
    if (item.type === "TextBlock" && typeof item.text === "string") texts.push(item.text);
    if (item.type === "FactSet" && Array.isArray(item.facts)) {
      for (const fact of item.facts as Json[]) texts.push(`${fact.title}: ${fact.value}`);
    }
    for (const [key, value] of Object.entries(item)) if (key !== "actions") visit(value);
  };
  visit(card);
  return texts.join("\n");
}

/** The Adaptive Card inside a Teams message activity. */
export function cardOf(activity: Record<string, unknown>): unknown {
  const attachments = activity.attachments as { contentType: string; content: unknown }[] | undefined;
  return attachments?.find((a) => a.contentType === "application/vnd.microsoft.card.adaptive")?.content;
}
