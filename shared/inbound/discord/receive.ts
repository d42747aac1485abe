import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { KeyObject } from "node:crypto";
import type { Config } from "../../config";
import { discordPublicKey, verifyDiscordRequest } from "../../discord/verify-interaction";
import { parseJsonObject, readBodyWithin } from "../../http";

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
  const raw = await readBodyWithin(request, MAX_INTERACTION_BYTES);
  if (raw === undefined) return refuse(context, 413, "body too large");
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
  const parsed = parseJsonObject(raw);
  if ("problem" in parsed) return refuse(context, 400, parsed.problem === "not JSON" ? "body is not JSON" : "body is not an interaction");
  return { ok: true, json: parsed.json };
}

function refuse(context: InvocationContext, status: number, reason: string): ReceivedInteraction {
  context.warn(`Discord request refused (${status}): ${reason}`);
  return { ok: false, response: { status } };
}
