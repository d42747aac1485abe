import { hkdfSync } from "node:crypto";

export type KeyPurpose = "link-token" | "link-session" | "slack-install-state";

/**
 * One secret setting (LINK_SIGNING_KEY), a separate key per use: a token made for one purpose can
 * never verify as another (HKDF-SHA256, purpose as the info string).
 */
export function deriveKey(master: Uint8Array, purpose: KeyPurpose): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", master, new Uint8Array(0), `triage-relay:${purpose}`, 32));
}
