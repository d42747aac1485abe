import { ADAPTIVE_CARD_CONTENT_TYPE } from "../cards/teams-card";

// The answers an invoke (`adaptiveCard/action`) may carry, typed after microsoft/teams.ts
// `AdaptiveCardActionResponse`: a card that replaces the clicked one for the clicker, a message, or an error.

export type InvokeResponseBody =
  | { statusCode: 200; type: typeof ADAPTIVE_CARD_CONTENT_TYPE; value: unknown }
  | { statusCode: 200; type: "application/vnd.microsoft.activity.message"; value: string }
  | { statusCode: number; type: "application/vnd.microsoft.error"; value: { code: string; message: string } };

/** What the HTTP adapter answers: a status and, for invokes, the invoke response body. */
export interface BotReply {
  status: number;
  body?: InvokeResponseBody;
}

export const OK: BotReply = { status: 200 };

export function cardReply(card: unknown): BotReply {
  return { status: 200, body: { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: card } };
}

export function messageReply(text: string): BotReply {
  return { status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.activity.message", value: text } };
}

export function errorReply(statusCode: number, code: string, message: string): BotReply {
  return { status: statusCode, body: { statusCode, type: "application/vnd.microsoft.error", value: { code, message } } };
}
