import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The bearer token, or `?token=` for senders that cannot set headers (Azure Monitor action groups). */
export function presentedToken(authorization: string | null, query: URLSearchParams): string | undefined {
  const bearer = authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? query.get("token") ?? undefined;
}

/** Constant time in the token's content: every accepted token is compared, by digest, so lengths leak nothing. */
export function tokenAccepted(presented: string | undefined, accepted: readonly string[]): boolean {
  if (!presented) return false;
  const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();
  const given = digest(presented);
  let match = false;
  for (const token of accepted) match = timingSafeEqual(given, digest(token)) || match;
  return match;
}

/** `Sentry-Hook-Signature`: HMAC-SHA256 of the raw body with the integration's client secret, hex. */
export function sentrySignatureValid(rawBody: string, signature: string | null, clientSecret: string | undefined): boolean {
  if (!clientSecret || !signature || !/^[0-9a-fA-F]{64}$/.test(signature.trim())) return false;
  const expected = createHmac("sha256", clientSecret).update(rawBody, "utf8").digest();
  return timingSafeEqual(expected, Buffer.from(signature.trim(), "hex"));
}

export function sentrySignature(rawBody: string, clientSecret: string): string {
  return createHmac("sha256", clientSecret).update(rawBody, "utf8").digest("hex");
}
