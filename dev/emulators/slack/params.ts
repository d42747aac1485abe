import { BLOCK_LIMITS, readBlocks, type Block } from "./blocks";

/** Arguments of a Web API call: form fields (all strings) or a JSON body (any JSON). */
export type Params = Record<string, unknown>;

/** An `{ok: false}` answer; `extra` fields (e.g. `needed`, `response_metadata`) are merged into the body. */
export class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

export function str(params: Params, key: string): string | undefined {
  const value = params[key];
  if (typeof value === "number") return String(value);
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Form bodies carry booleans as "true"/"false" (that is how @slack/web-api encodes them) or "1"/"0". */
export function bool(params: Params, key: string): boolean {
  const value = params[key];
  return value === true || value === 1 || value === "true" || value === "1";
}

/** A JSON argument: JSON-encoded inside a form field, or inline in a JSON body. */
export function jsonArg(params: Params, key: string): unknown {
  const value = params[key];
  if (typeof value !== "string") return value;
  if (value === "") return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new SlackApiError("invalid_arguments", {
      response_metadata: { messages: [`[ERROR] invalid JSON in \`${key}\``] },
    });
  }
}

export interface MessageContent {
  text: string;
  blocks: Block[] | undefined;
  attachments: unknown[] | undefined;
}

/** The text/blocks/attachments of a message, validated as chat.postMessage and response_url do. */
export function readContent(params: Params): MessageContent {
  const blocks = readBlocks(params.blocks);
  if (!blocks.ok) {
    const extra = blocks.errors ? { errors: blocks.errors, response_metadata: { messages: blocks.errors.map((e) => `[ERROR] ${e}`) } } : {};
    throw new SlackApiError(blocks.error, extra);
  }
  const attachments = jsonArg(params, "attachments");
  if (attachments !== undefined && !Array.isArray(attachments)) throw new SlackApiError("invalid_attachments");
  const text = str(params, "text") ?? "";
  if (text.length > BLOCK_LIMITS.messageTextLength) throw new SlackApiError("msg_too_long");
  if (text === "" && !blocks.blocks?.length && !attachments?.length) throw new SlackApiError("no_text");
  return { text, blocks: blocks.blocks, attachments: attachments as unknown[] | undefined };
}
