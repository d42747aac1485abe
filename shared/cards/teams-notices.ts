/** Small Adaptive Cards for the bot's own messages (welcome, help, answers). Version 1.5, like issue cards. */
export interface NoticeCard {
  type: "AdaptiveCard";
  $schema: string;
  version: "1.5";
  body: unknown[];
}

export function noticeCard(title: string, lines: string[], facts: { title: string; value: string }[] = []): NoticeCard {
  return {
    type: "AdaptiveCard",
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    version: "1.5",
    body: [
      { type: "TextBlock", text: title, weight: "Bolder", size: "Medium", wrap: true },
      ...lines.map((text) => ({ type: "TextBlock", text, wrap: true, spacing: "Small" })),
      ...(facts.length > 0 ? [{ type: "FactSet", facts }] : []),
    ],
  };
}

export function cardAttachment(content: unknown) {
  return { contentType: "application/vnd.microsoft.card.adaptive", content };
}
