import { generateKeyPair, randomBytes, type KeyObject } from "node:crypto";
import { promisify } from "node:util";

const generateRsaKeyPair = promisify(generateKeyPair);

export interface SigningKey {
  /** Random per start, shaped like Microsoft's kids (a base64url SHA-1 certificate thumbprint, also used as `x5t`). */
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface EndorsedKey extends SigningKey {
  /** Channels this key may sign for: botframework-connector requires `activity.channelId` in this list. */
  endorsements: string[];
}

export interface KeySet {
  /** Published, endorsed for Teams: signs valid channel tokens. */
  trusted: EndorsedKey;
  /** Published, endorsed only for another channel. */
  notEndorsed: EndorsedKey;
  /** Never published: a forger's key with a plausible kid. */
  unpublished: SigningKey;
  /** Signs the access tokens the emulator's managed identity endpoint hands out (Entra ID's role). */
  accessTokenIssuer: SigningKey;
}

async function signingKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsaKeyPair("rsa", { modulusLength: 2048 });
  return { kid: randomBytes(20).toString("base64url"), privateKey, publicKey };
}

export async function generateKeySet(): Promise<KeySet> {
  const [trusted, notEndorsed, unpublished, accessTokenIssuer] = await Promise.all([signingKey(), signingKey(), signingKey(), signingKey()]);
  return {
    trusted: { ...trusted, endorsements: ["msteams", "emulator"] },
    notEndorsed: { ...notEndorsed, endorsements: ["slack"] },
    unpublished,
    accessTokenIssuer,
  };
}

/** The JWKS document in login.botframework.com's shape (minus `x5c`: there are no certificates here). */
export function jwksDocument(keys: EndorsedKey[]): { keys: Record<string, unknown>[] } {
  return {
    keys: keys.map((key) => {
      const { n, e } = key.publicKey.export({ format: "jwk" });
      return { kty: "RSA", use: "sig", kid: key.kid, x5t: key.kid, n, e, endorsements: key.endorsements };
    }),
  };
}
