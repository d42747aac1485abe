import type { Clock, TsGenerator } from "./clock";
import type { Faults } from "./faults";
import type { Interactions } from "./interactions";
import type { MessageStore } from "./messages";
import type { Params } from "./params";
import type { HistoryAccess, RateLimiter } from "./rate-limits";
import type { TokenStore } from "./tokens";
import type { World } from "./world";

export interface ApiCall {
  /** e.g. `chat.postMessage`. */
  method: string;
  teamId?: string;
  /** Parsed arguments without `token` (and without `client_secret`); JSON-encoded form fields stay strings. */
  params: Params;
  ok: boolean;
  error?: string;
  httpStatus: number;
  /** Emulator clock, ms. */
  at: number;
}

export interface ResponseUrlPost {
  responseUrlId: string;
  body: unknown;
  /** The HTTP status the emulator answered with. */
  status: number;
  at: number;
}

export interface OpenedView {
  id: string;
  teamId: string;
  userId: string;
  externalId?: string;
  hash: string;
  view: Record<string, unknown>;
  openedAt: number;
  updates: number;
}

export interface OAuthCode {
  clientId: string;
  teamId: string;
  userId: string;
  scopes: string[];
  redirectUri?: string;
  expiresAt: number;
  used: boolean;
}

/** Everything the HTTP handlers and the test-facing API share. */
export interface EmulatorState {
  url: string;
  readonly appId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly signingSecret: string;
  /** The deprecated verification token carried in payloads; constant per app, as on Slack. */
  readonly verificationToken: string;
  readonly clock: Clock;
  readonly ts: TsGenerator;
  readonly world: World;
  readonly tokens: TokenStore;
  readonly messages: MessageStore;
  readonly interactions: Interactions;
  readonly faults: Faults;
  readonly limiter: RateLimiter;
  /** The app's `conversations.history` limits: `non-marketplace` is Slack's lower ones (rate-limits.ts). */
  historyAccess: HistoryAccess;
  readonly views: OpenedView[];
  readonly calls: ApiCall[];
  readonly responses: ResponseUrlPost[];
  readonly oauthCodes: Map<string, OAuthCode>;
  authorize: { as?: { teamId: string; userId: string }; denied: boolean };
  readonly log: (line: string) => void;
}
