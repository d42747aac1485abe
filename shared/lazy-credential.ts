import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";

type IdentityModule = typeof import("@azure/identity");

/**
 * A credential whose `@azure/identity` (~0.1 s to load) is loaded on the first token request rather
 * than when an instance starts: many invocations (Slack, connection-string storage) never need one.
 */
export function lazyCredential(create: (identity: IdentityModule) => TokenCredential): TokenCredential {
  let credential: Promise<TokenCredential> | undefined;
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= import("@azure/identity").then(create);
      return (await credential).getToken(scopes, options);
    },
  };
}
