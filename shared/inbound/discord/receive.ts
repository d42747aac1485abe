import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { KeyObject } from "node:crypto";
import type { Config } from "../../config";
import { discordPublicKey, verifyDiscordRequest } from "../../discord/verify-interaction";
import { BodyTooLargeError, readBody } from "../../http";

/** Interactions are small JSON documents; anything larger is not from Discord. */
const MAX_INTERACTION_BYTES = 64 * 1024;

export type ReceivedInteraction = { ok: true; json: Record<string, unknown> } | { ok: false; response: HttpResponseInit };

let keyCache: { hex: string; key: KeyObject } | undefined;

/**
 * An interaction Discord sent: within the size limit and signed over exactly the bytes received (Ed25519,
 * timestamp within five minutes) before anything is parsed. A bad or missing signature is 401 with no body.
 */
export async function receiveDiscordInteraction(request: HttpRequest, config: Config, context: InvocationContext): Promise<ReceivedInteraction> {
  if (!config.discord) return refuse(context, 404, "Discord is not configured on this app");
  let raw: string;
  try {
    raw = await readBody(request, MAX_INTERACTION_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return refuse(context, 413, "body too large");
    throw error;
  }
  if (keyCache?.hex !== config.discord.publicKey) {
    // Checked at start-up (config), so it parses.
    keyCache = { hex: config.discord.publicKey, key: discordPublicKey(config.discord.publicKey)! };
  }
  const verdict = verifyDiscordRequest({
    publicKey: keyCache.key,
    rawBody: raw,
    signatureHeader: request.headers.get("x-signature-ed25519"),
    timestampHeader: request.headers.get("x-signature-timestamp"),
  });
  if (!verdict.ok) return refuse(context, 401, verdict.reason);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return refuse(context, 400, "body is not JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return refuse(context, 400, "body is not an interaction");
  return { ok: true, json: json as Record<string, unknown> };
}

function refuse(context: InvocationContext, status: number, reason: string): ReceivedInteraction {
  context.warn(`Discord request refused (${status}): ${reason}`);
  return { ok: false, response: { status } };
}
