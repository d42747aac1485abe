import type { KeySet, SigningKey } from "./keys.js";
import { nowSeconds, signHs256, signRs256, unsigned, type JwtClaims, type JwtHeader } from "./jwt.js";

export const BOT_FRAMEWORK_ISSUER = "https://api.botframework.com";

export interface ChannelTokenOptions {
  /** The `serviceurl` claim; defaults to the emulator's serviceUrl. */
  serviceUrl?: string;
  /** Defaults to the bot's app id. */
  audience?: string;
  /** Defaults to `https://api.botframework.com`. */
  issuer?: string;
  /** Lifetime from now; default 3600. Negative gives an expired token (validators allow 300 s of skew). */
  expiresInSec?: number;
  /** `nbf` relative to now; default 0. Positive gives a token that is not valid yet. */
  notBeforeSec?: number;
  /** Default `trusted`. */
  key?: "trusted" | "notEndorsed" | "unpublished";
  /**
   * Default `RS256`. `HS256` is the key-confusion forgery: HMAC keyed with the trusted key's
   * public PEM under its kid. `none` is an unsecured JWS with an empty signature.
   */
  alg?: "RS256" | "HS256" | "none";
  /** Merged last, so it can also override or (with `undefined`) drop standard claims. */
  extraClaims?: JwtClaims;
}

export interface ChannelTokenDefaults {
  appId: string;
  serviceUrl: string;
}

/** Produces a token shaped like the ones Bot Framework attaches to channel → bot requests. */
export function signChannelToken(keys: KeySet, defaults: ChannelTokenDefaults, options: ChannelTokenOptions = {}): string {
  const now = nowSeconds();
  const claims = withoutUndefined({
    serviceurl: options.serviceUrl ?? defaults.serviceUrl,
    nbf: now + (options.notBeforeSec ?? 0),
    exp: now + (options.expiresInSec ?? 3600),
    iss: options.issuer ?? BOT_FRAMEWORK_ISSUER,
    aud: options.audience ?? defaults.appId,
    ...options.extraClaims,
  });

  const key: SigningKey = keys[options.key ?? "trusted"];
  const alg = options.alg ?? "RS256";
  switch (alg) {
    case "RS256":
      return signRs256(header("RS256", key), claims, key.privateKey);
    case "HS256": {
      const secret = Buffer.from(key.publicKey.export({ type: "spki", format: "pem" }));
      return signHs256({ alg: "HS256", kid: key.kid, typ: "JWT" }, claims, secret);
    }
    case "none":
      return unsigned({ alg: "none", kid: key.kid, typ: "JWT" }, claims);
  }
}

function header(alg: string, key: SigningKey): JwtHeader {
  return { alg, kid: key.kid, x5t: key.kid, typ: "JWT" };
}

function withoutUndefined(claims: JwtClaims): JwtClaims {
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}
