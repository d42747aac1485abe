import { tokens } from "./ids";

/** Block Kit limits that Slack enforces on messages (https://docs.slack.dev/reference/block-kit). */
export const BLOCK_LIMITS = {
  blocksPerMessage: 50,
  blockIdLength: 255,
  actionIdLength: 255,
  buttonValueLength: 2000,
  sectionTextLength: 3000,
  messageTextLength: 40_000,
} as const;

export type Block = Record<string, unknown>;

export type BlocksResult =
  | { ok: true; blocks: Block[] | undefined }
  | { ok: false; error: "invalid_blocks_format" | "invalid_blocks"; errors?: string[] };

/**
 * Reads a `blocks` argument as Slack does: a JSON-encoded string (form bodies) or an array (JSON bodies).
 * Blocks without a `block_id` get a random 5-character one, as Slack assigns, so interaction payloads
 * built from stored messages carry the same ids the real platform would.
 */
export function readBlocks(raw: unknown): BlocksResult {
  if (raw === undefined || raw === null || raw === "") return { ok: true, blocks: undefined };
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, error: "invalid_blocks_format" };
    }
  }
  if (!Array.isArray(value)) return { ok: false, error: "invalid_blocks_format" };

  const problems = validate(value);
  if (problems.length > 0) return { ok: false, error: "invalid_blocks", errors: problems };
  const blocks = (structuredClone(value) as Block[]).map((block) =>
    typeof block.block_id === "string" ? block : { ...block, block_id: tokens.blockId() },
  );
  return { ok: true, blocks };
}

function validate(blocks: unknown[]): string[] {
  const problems: string[] = [];
  const problem = (message: string, pointer: string) => problems.push(`${message} [json-pointer:${pointer}]`);
  if (blocks.length > BLOCK_LIMITS.blocksPerMessage) {
    problem(`no more than ${BLOCK_LIMITS.blocksPerMessage} items allowed`, "/blocks");
  }
  const seenBlockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `/blocks/${i}`;
    if (!isObject(block) || typeof block.type !== "string") {
      problem("missing required field: type", at);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== "string" || block.block_id.length > BLOCK_LIMITS.blockIdLength) {
        problem(`must be a string of at most ${BLOCK_LIMITS.blockIdLength} characters`, `${at}/block_id`);
      } else if (seenBlockIds.has(block.block_id)) {
        problem("duplicate block_id", `${at}/block_id`);
      } else {
        seenBlockIds.add(block.block_id);
      }
    }
    const text = isObject(block.text) ? block.text.text : undefined;
    if (block.type === "section" && typeof text === "string" && text.length > BLOCK_LIMITS.sectionTextLength) {
      problem(`must be less than ${BLOCK_LIMITS.sectionTextLength + 1} characters`, `${at}/text/text`);
    }
    const elements = [
      ...(Array.isArray(block.elements) ? block.elements.map((e, j) => [e, `${at}/elements/${j}`] as const) : []),
      ...(block.accessory !== undefined ? [[block.accessory, `${at}/accessory`] as const] : []),
    ];
    for (const [element, pointer] of elements) {
      if (!isObject(element)) continue;
      if (typeof element.action_id === "string" && element.action_id.length > BLOCK_LIMITS.actionIdLength) {
        problem(`must be less than ${BLOCK_LIMITS.actionIdLength + 1} characters`, `${pointer}/action_id`);
      }
      if (typeof element.value === "string" && element.value.length > BLOCK_LIMITS.buttonValueLength) {
        problem(`must be less than ${BLOCK_LIMITS.buttonValueLength + 1} characters`, `${pointer}/value`);
      }
    }
  });
  return problems;
}

/** Every interactive element of a message, with the id of the block that holds it. */
export function interactiveElements(blocks: Block[]): { blockId: string; element: Record<string, unknown> }[] {
  const found: { blockId: string; element: Record<string, unknown> }[] = [];
  for (const block of blocks) {
    const blockId = typeof block.block_id === "string" ? block.block_id : "";
    const candidates = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const element of candidates) {
      if (isObject(element) && typeof element.action_id === "string") found.push({ blockId, element });
    }
  }
  return found;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
