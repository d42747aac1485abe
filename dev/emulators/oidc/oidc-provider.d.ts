// oidc-provider ships no types (and @types/oidc-provider describes v8): just what this emulator uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface AdapterPayload {
    [key: string]: unknown;
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
  }

  /** One per model (Session, Interaction, AuthorizationCode, Grant, …). */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Account {
    accountId: string;
    claims(use: "id_token" | "userinfo", scope: string): Promise<Record<string, unknown>>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris: string[];
    response_types?: string[];
    grant_types?: string[];
    token_endpoint_auth_method?: string;
  }

  /** The subset of Koa's context that error pages write to. */
  export interface RenderContext {
    type: string;
    body: unknown;
  }

  export interface Configuration {
    adapter?: (model: string) => Adapter;
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    findAccount?: (ctx: unknown, sub: string) => Promise<Account | undefined>;
    claims?: Record<string, string[]>;
    /** Extra fields for the discovery document. */
    discovery?: Record<string, unknown>;
    scopes?: string[];
    responseTypes?: string[];
    pkce?: { required?: (ctx: unknown, client: unknown) => boolean };
    clientAuthMethods?: string[];
    conformIdTokenClaims?: boolean;
    features?: Record<string, { enabled: boolean }>;
    interactions?: { policy?: Prompt[] };
    ttl?: Record<string, number>;
    renderError?: (ctx: RenderContext, out: Record<string, string>, error: Error) => Promise<void>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: {
      name: "login" | "consent" | (string & {});
      reasons: string[];
      details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    };
    params: { client_id: string; scope?: string; login_hint?: string } & Record<string, unknown>;
    session?: { accountId: string; uid: string };
    grantId?: string;
  }

  export type InteractionResult =
    | { select_account?: Record<string, never>; login?: { accountId: string }; consent?: { grantId: string } }
    | { error: string; error_description?: string };

  export interface Grant {
    readonly accountId: string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  }

  export interface GrantModel {
    new (init: { accountId: string; clientId: string }): Grant;
    find(id: string): Promise<Grant | undefined>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: GrantModel;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: "server_error", listener: (ctx: unknown, error: Error) => void): this;
  }

  export interface Prompt {
    readonly name: string;
  }

  export const interactionPolicy: {
    Prompt: new (init: { name: string; requestable?: boolean }) => Prompt;
    /** The default policy: login, then consent. */
    base(): Prompt[] & { add(prompt: Prompt, index?: number): void };
  };

  export const errors: {
    /** Missing or expired interaction cookie/session. */
    SessionNotFound: new (
      ...args: never[]
    ) => Error;
  };

  export default Provider;
}
