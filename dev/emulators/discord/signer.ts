import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";

/** Discord's side of interaction signing: an Ed25519 key pair whose public half the app is configured with. */
export class InteractionSigner {
  private readonly privateKey: KeyObject;
  /** The public key as the developer portal shows it (DISCORD_PUBLIC_KEY): 64 hex characters. */
  readonly publicKeyHex: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    this.privateKey = privateKey;
    this.publicKeyHex = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex");
  }

  /** The two headers Discord sends: Ed25519 over the timestamp (Unix seconds) followed by the raw body. */
  headers(body: string, timestampSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
    const timestamp = String(timestampSeconds);
    return {
      "x-signature-ed25519": sign(null, Buffer.from(timestamp + body, "utf8"), this.privateKey).toString("hex"),
      "x-signature-timestamp": timestamp,
    };
  }
}
