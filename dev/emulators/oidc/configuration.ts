import { generateKeyPair, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import type { Adapter, ClientMetadata, Configuration, interactionPolicy } from "oidc-provider";
import { messagePage } from "./pages";
import type { Directory } from "./people";

export interface ClientInput {
  clientId: string;
  /** Confidential client (client_secret_basic or client_secret_post); without one a public client (none). */
  clientSecret?: string;
  redirectUris: string[];
}

export const SCOPES = ["openid", "email", "profile"];

/**
 * Fields only Microsoft Entra ID publishes in its discovery document (as at
 * login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration): apps tell Entra apart by them.
 */
export const ENTRA_DISCOVERY = {
  cloud_instance_name: "microsoftonline.com",
  cloud_graph_host_name: "graph.windows.net",
  msgraph_host: "graph.microsoft.com",
  tenant_region_scope: null,
};

export async function providerConfiguration(
  clients: readonly ClientInput[],
  directory: Directory,
  policy: typeof interactionPolicy,
  options: { adapter: (model: string) => Adapter; entra: boolean },
): Promise<Configuration> {
  return {
    adapter: options.adapter,
    clients: clients.map(clientMetadata),
    jwks: { keys: [await signingKey()] },
    async findAccount(_ctx, sub) {
      const person = directory.bySub(sub);
      if (!person) return undefined;
      return { accountId: person.sub, claims: async () => ({ ...person.claims }) };
    },
    scopes: SCOPES,
    // Entra's claim names: oid and tid (the stable identity), xms_edov (the tenant owns the email's domain).
    claims: { openid: ["sub"], email: ["email", "email_verified", "xms_edov"], profile: ["name", "preferred_username", "oid", "tid"] },
    ...(options.entra ? { discovery: ENTRA_DISCOVERY } : {}),
    // Entra puts the profile claims in the ID token too; oidc-provider's default keeps them for userinfo.
    conformIdTokenClaims: false,
    responseTypes: ["code"],
    pkce: { required: () => true },
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "none"],
    interactions: { policy: withSelectAccount(policy) },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
    },
    // Explicit values keep oidc-provider from printing a notice for each default it falls back to.
    ttl: { AccessToken: 3600, AuthorizationCode: 600, IdToken: 3600, Interaction: 3600, Session: 86_400, Grant: 86_400 },
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = messagePage(
        "Sign-in error",
        Object.entries(out).map(([key, value]) => `${key}: ${value}`),
      );
    },
  };
}

export function clientMetadata(client: ClientInput): ClientMetadata {
  return {
    client_id: client.clientId,
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    redirect_uris: client.redirectUris,
    response_types: ["code"],
    grant_types: ["authorization_code"],
    // A confidential client may use client_secret_post as well: oidc-provider accepts either secret method.
    token_endpoint_auth_method: client.clientSecret ? "client_secret_basic" : "none",
  };
}

/** The app sends Entra's `prompt=select_account`: show the account picker even to a signed-in browser. */
function withSelectAccount({ Prompt, base }: typeof interactionPolicy) {
  const policy = base();
  policy.add(new Prompt({ name: "select_account", requestable: true }), 0);
  return policy;
}

/** RS256, fresh on every start: tokens from a previous run don't verify. */
async function signingKey(): Promise<Record<string, unknown>> {
  const { privateKey } = await promisify(generateKeyPair)("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: randomUUID(), alg: "RS256", use: "sig" };
}
