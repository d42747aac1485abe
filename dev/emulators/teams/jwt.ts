// Compact JWS on node:crypto. The emulator must also make tokens no honest library will
// (HS256 keyed with an RSA public key, `alg: none`, payloads edited after signing), so one
// small encoder serves valid and forged tokens alike.
import { createHmac, sign, verify, type KeyObject } from "node:crypto";

export interface JwtHeader {
  alg: string;
  kid?: string;
  x5t?: string;
  typ?: string;
}

export type JwtClaims = Record<string, unknown>;

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  signingInput: string;
  signature: Buffer;
}

const encodePart = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

function encode(header: JwtHeader, claims: JwtClaims, signer: (signingInput: string) => Buffer): string {
  const signingInput = `${encodePart(header)}.${encodePart(claims)}`;
  return `${signingInput}.${signer(signingInput).toString("base64url")}`;
}

export function signRs256(header: JwtHeader, claims: JwtClaims, privateKey: KeyObject): string {
  return encode(header, claims, (input) => sign("sha256", Buffer.from(input), privateKey));
}

export function signHs256(header: JwtHeader, claims: JwtClaims, secret: Buffer): string {
  return encode(header, claims, (input) => createHmac("sha256", secret).update(input).digest());
}

/** An unsecured JWS (`alg: none`): empty signature part, trailing dot kept. */
export function unsigned(header: JwtHeader, claims: JwtClaims): string {
  return encode(header, claims, () => Buffer.alloc(0));
}

export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [header, claims, signature] = parts as [string, string, string];
  try {
    return {
      header: JSON.parse(Buffer.from(header, "base64url").toString("utf8")) as JwtHeader,
      claims: JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as JwtClaims,
      signingInput: `${header}.${claims}`,
      signature: Buffer.from(signature, "base64url"),
    };
  } catch {
    return undefined;
  }
}

/** Returns the claims when `token` is an RS256 JWS signed by `publicKey`; checks nothing else. */
export function verifyRs256(token: string, publicKey: KeyObject): JwtClaims | undefined {
  const jwt = decodeJwt(token);
  if (!jwt || jwt.header.alg !== "RS256") return undefined;
  return verify("sha256", Buffer.from(jwt.signingInput), publicKey, jwt.signature) ? jwt.claims : undefined;
}

/** Replaces claims in the payload and keeps the original header and signature. */
export function tamper(token: string, patch: JwtClaims): string {
  const [header, claims, signature] = token.split(".");
  if (header === undefined || claims === undefined || signature === undefined) throw new Error("Not a JWS compact token");
  const edited = { ...(JSON.parse(Buffer.from(claims, "base64url").toString("utf8")) as JwtClaims), ...patch };
  return `${header}.${encodePart(edited)}.${signature}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
