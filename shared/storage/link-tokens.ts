import { randomUUID } from "node:crypto";
import { EncryptJWT, errors, jwtDecrypt } from "jose";
import { TABLES, type StorageClients } from "./clients";
import { createIfAbsent, isNotFound } from "./table";
import type { ChatProvider } from "./identities";

export const LINK_TOKEN_LIFETIME_SECONDS = 15 * 60;
const AUDIENCE = "triage-relay/link";

/** Where to say "You're linked" once the sign-in is done. */
export type LinkConfirmation =
  | { kind: "teams"; serviceUrl: string; conversationId: string }
  | { kind: "slack"; responseUrl?: string; userId: string }
  | { kind: "discord"; userId: string };

/** Who is asking to be linked, as the chat platform vouched for them when the link was made. */
export interface LinkRequest {
  provider: ChatProvider;
  /** Teams tenant id or Slack team id. */
  scope: string;
  chatUserId: string;
  teamsUserId?: string;
  /** How the chat shows this user, for the confirmation page ("Link the Teams user Ana Lima…"). */
  chatUserName?: string;
  confirm: LinkConfirmation;
}

export type LinkTokenCheck = { ok: true; request: LinkRequest; tokenId: string } | { ok: false; problem: "expired" | "invalid" | "used" };

/**
 * A short-lived link for one chat user; it names where to confirm and works once. Encrypted as well as
 * authenticated (JWE, A256GCM): it rides in a URL (browser history, request logs) and carries a Slack
 * response_url, which must not be readable there.
 */
export async function issueLinkToken(key: Uint8Array, request: LinkRequest, now = new Date()): Promise<string> {
  return new EncryptJWT({ link: request })
    .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
    .setAudience(AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt(Math.floor(now.getTime() / 1000))
    .setExpirationTime(Math.floor(now.getTime() / 1000) + LINK_TOKEN_LIFETIME_SECONDS)
    .encrypt(key);
}

export async function verifyLinkToken(key: Uint8Array, token: string, storage: StorageClients): Promise<LinkTokenCheck> {
  let payload;
  try {
    ({ payload } = await jwtDecrypt(token, key, {
      audience: AUDIENCE,
      keyManagementAlgorithms: ["dir"],
      contentEncryptionAlgorithms: ["A256GCM"],
      clockTolerance: 0,
    }));
  } catch (error) {
    return { ok: false, problem: error instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
  const request = payload.link as LinkRequest | undefined;
  if (!request || !payload.jti || !isLinkRequest(request)) return { ok: false, problem: "invalid" };
  if (await wasUsed(storage, payload.jti)) return { ok: false, problem: "used" };
  return { ok: true, request, tokenId: payload.jti };
}

/** Marks the token used; false when someone used it first (the one-time check that counts). */
export async function consumeLinkToken(storage: StorageClients, tokenId: string): Promise<boolean> {
  const table = await storage.table(TABLES.linkTokens);
  return createIfAbsent(table, { partitionKey: tokenId, rowKey: "-", usedAt: new Date().toISOString() });
}

async function wasUsed(storage: StorageClients, tokenId: string): Promise<boolean> {
  const table = await storage.table(TABLES.linkTokens);
  try {
    await table.getEntity(tokenId, "-");
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

function isLinkRequest(value: LinkRequest): boolean {
  return (
    (value.provider === "msteams" || value.provider === "slack" || value.provider === "discord") &&
    typeof value.scope === "string" &&
    typeof value.chatUserId === "string" &&
    typeof value.confirm === "object" &&
    value.confirm !== null
  );
}
