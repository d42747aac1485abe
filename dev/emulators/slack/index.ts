import { systemClock, TsGenerator, type Clock } from "./clock";
import { Faults, type FaultSpec } from "./faults";
import { slackId, tokens as newToken } from "./ids";
import { Interactions } from "./interactions";
import { MessageStore, type StoredMessage } from "./messages";
import {
  PayloadBuilder,
  type AppMentionInput,
  type BlockActionsInput,
  type BlockActionsPayload,
  type EventCallbackInput,
  type SlashCommandInput,
} from "./payloads";
import { RateLimiter, type HistoryAccess } from "./rate-limits";
import { startServer } from "./server";
import { SlackSigner, type DeliveryOptions, type DeliveryResult, type EventDeliveryOptions, type SignatureHeaders, type SignOptions } from "./signer";
import type { ApiCall, EmulatorState, OpenedView, ResponseUrlPost } from "./state";
import { TokenStore } from "./tokens";
import { DEFAULT_BOT_SCOPES, World, type AddChannelInput, type AddUserInput } from "./world";

export { createManualClock, type Clock, type ManualClock } from "./clock";
export type { FaultSpec } from "./faults";
export { RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_MS, TRIGGER_TTL_MS } from "./interactions";
export type { StoredMessage } from "./messages";
export type { ActionInput, AppMentionInput, BlockActionsInput, BlockActionsPayload, EventCallbackInput, SlashCommandInput } from "./payloads";
export { NON_MARKETPLACE_HISTORY_LIMIT, POST_MESSAGE_BURST, TIER_PER_MINUTE, type HistoryAccess } from "./rate-limits";
export {
  ACK_DEADLINE_MS,
  signSlackRequest,
  SlackSigner,
  type DeliveryOptions,
  type DeliveryResult,
  type EventDeliveryOptions,
  type SignatureHeaders,
  type SignOptions,
} from "./signer";
export type { ApiCall, OpenedView, ResponseUrlPost } from "./state";
export { ROTATING_TOKEN_TTL_SEC } from "./tokens";
export { DEFAULT_BOT_SCOPES, type AddChannelInput, type AddUserInput } from "./world";

export interface SlackEmulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  signingSecret: string;
  /** OAuth client credentials; generated when absent (read them back from the emulator). */
  clientId?: string;
  clientSecret?: string;
  appId?: string;
  /** Default true. */
  enforceRateLimits?: boolean;
  /**
   * `non-marketplace`: Slack's lower `conversations.history` limits for a distributed app not on the Marketplace
   * (1 request per minute, `limit` at most 15), enforced even without `enforceRateLimits`. Default `standard`.
   */
  historyAccess?: HistoryAccess;
  /** Time for rate limits, trigger/response_url/token/code expiry. Signatures always use the wall clock. */
  clock?: Clock;
  /** Lifetime of rotating bot tokens (`expires_in`); default Slack's 43200 s (12 h). */
  rotatingTokenTtlSec?: number;
  /** One line per request handled, never with tokens. Default: silent. */
  log?: (line: string) => void;
}

export interface AddWorkspaceInput {
  id?: string;
  name: string;
  /** A fixed `xoxb-…` (or `xoxe.xoxb-…` with rotation); generated when absent. */
  botToken?: string;
  /** Token rotation: the bot token expires after 12 h and a refresh token is issued. */
  rotation?: boolean;
  /** Installed bot scopes; default `DEFAULT_BOT_SCOPES`. */
  scopes?: string[];
  botName?: string;
}

export interface WorkspaceHandle {
  teamId: string;
  name: string;
  botToken: string;
  botUserId: string;
  botId: string;
  /** Only with rotation. */
  refreshToken?: string;
}

export interface WorkspaceUser {
  id: string;
  name: string;
  realName: string;
  isBot: boolean;
}

export interface AddMessageInput {
  /** The author, a user of the workspace (the bot's own messages come from chat.postMessage). */
  user: string;
  text: string;
  blocks?: Record<string, unknown>[];
  threadTs?: string;
}

export interface SlackEmulator {
  readonly url: string;
  /** `${url}/api/`: give it to WebClient as `slackApiUrl`. */
  readonly apiUrl: string;
  readonly appId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  stop(): Promise<void>;

  addWorkspace(input: AddWorkspaceInput): WorkspaceHandle;
  addChannel(teamId: string, input: AddChannelInput): { id: string; name: string };
  addUser(teamId: string, input: AddUserInput): { id: string; name: string };
  /** A message posted by someone else (e.g. to check `cant_update_message`). */
  addMessage(channel: string, input: AddMessageInput): StoredMessage;
  /** Everyone a user menu (`users_select`) offers in the workspace: its people and its bots. */
  users(teamId: string): WorkspaceUser[];

  /** Uninstall / `tokens_revoked`: every token of the workspace answers `token_revoked`. */
  revokeTokens(teamId: string): void;
  /** The token answers `token_expired` from now on. */
  expireToken(token: string): void;
  /** Lifetime (`expires_in`) of rotating tokens issued from now on. */
  setRotatingTokenTtl(seconds: number): void;
  setAuthorizeAs(installer: { teamId: string; userId: string }): void;
  setAuthorizeDenied(denied: boolean): void;

  /** Messages in `ts` order, ephemerals included (with `ephemeral.user`); copies. */
  messages(channel?: string): StoredMessage[];
  message(channel: string, ts: string): StoredMessage | undefined;
  /** Called with a copy of every message posted or edited, as it happens; returns the unsubscribe. */
  onMessage(listener: (message: StoredMessage) => void): () => void;
  views(): OpenedView[];

  injectError(fault: FaultSpec): void;
  clearFaults(): void;
  /** Switches the app's `conversations.history` limits (see `historyAccess`) from now on. */
  setHistoryAccess(access: HistoryAccess): void;

  readonly calls: readonly ApiCall[];
  callsTo(method: string): ApiCall[];
  clearCalls(): void;
  readonly responses: readonly ResponseUrlPost[];

  signature(body: string, opts?: SignOptions): SignatureHeaders;
  sendInteraction(targetUrl: string, payload: unknown, opts?: DeliveryOptions): Promise<DeliveryResult>;
  sendCommand(targetUrl: string, fields: Record<string, string>, opts?: DeliveryOptions): Promise<DeliveryResult>;
  sendEvent(targetUrl: string, envelope: unknown, opts?: EventDeliveryOptions): Promise<DeliveryResult>;
  sendUrlVerification(targetUrl: string, opts?: DeliveryOptions): Promise<DeliveryResult & { challenge: string }>;

  blockActions(input: BlockActionsInput): BlockActionsPayload;
  slashCommand(input: SlashCommandInput): Record<string, string>;
  eventCallback(input: EventCallbackInput): Record<string, unknown>;
  /** Someone mentions the app in a channel: their message is posted, and the `app_mention` envelope to send is returned. */
  appMention(input: AppMentionInput): Record<string, unknown>;
}

export async function startSlackEmulator(opts: SlackEmulatorOptions): Promise<SlackEmulator> {
  const clock = opts.clock ?? systemClock;
  const ts = new TsGenerator(clock);
  const state: EmulatorState = {
    url: "",
    appId: opts.appId ?? slackId("A"),
    clientId: opts.clientId ?? newToken.clientId(),
    clientSecret: opts.clientSecret ?? newToken.clientSecret(),
    signingSecret: opts.signingSecret,
    verificationToken: newToken.verification(),
    clock,
    ts,
    world: new World(),
    tokens: new TokenStore(clock),
    messages: new MessageStore(ts),
    interactions: new Interactions(clock),
    faults: new Faults(),
    limiter: new RateLimiter(clock, opts.enforceRateLimits ?? true),
    historyAccess: opts.historyAccess ?? "standard",
    views: [],
    calls: [],
    responses: [],
    oauthCodes: new Map(),
    authorize: { denied: false },
    log: opts.log ?? (() => {}),
  };
  if (opts.rotatingTokenTtlSec !== undefined) state.tokens.setRotatingTokenTtl(opts.rotatingTokenTtlSec);
  const server = await startServer(state, opts.port ?? 0, opts.host ?? "127.0.0.1");
  state.url = server.url;
  const signer = new SlackSigner(opts.signingSecret);
  const payloads = new PayloadBuilder(state);
  const { world } = state;

  return {
    url: server.url,
    apiUrl: `${server.url}/api/`,
    appId: state.appId,
    clientId: state.clientId,
    clientSecret: state.clientSecret,
    stop: () => server.close(),

    addWorkspace(input) {
      const rotation = input.rotation ?? false;
      const scopes = [...(input.scopes ?? DEFAULT_BOT_SCOPES)];
      const workspace = world.addWorkspace({ id: input.id, name: input.name, botName: input.botName, rotation });
      let botToken: string;
      let refreshToken: string | undefined;
      if (input.botToken) {
        if (!/^(xoxb-|xoxe\.xoxb-)/.test(input.botToken)) throw new Error("botToken must be a bot token (xoxb-…)");
        state.tokens.register(input.botToken, workspace.id, scopes, rotation);
        botToken = input.botToken;
        if (rotation) refreshToken = state.tokens.issueRefreshToken(workspace.id, scopes);
      } else {
        const issued = state.tokens.issue(workspace.id, scopes, rotation);
        botToken = issued.accessToken;
        refreshToken = issued.refreshToken;
      }
      return {
        teamId: workspace.id,
        name: workspace.name,
        botToken,
        botUserId: workspace.botUserId,
        botId: workspace.botId,
        ...(refreshToken ? { refreshToken } : {}),
      };
    },
    addChannel: (teamId, input) => {
      const channel = world.addChannel(teamId, input);
      return { id: channel.id, name: channel.name };
    },
    addUser: (teamId, input) => {
      const user = world.addUser(teamId, input);
      return { id: user.id, name: user.name };
    },
    users: (teamId) =>
      world.usersOf(world.requireWorkspace(teamId).id).map((u) => ({ id: u.id, name: u.name, realName: u.realName, isBot: u.isBot })),
    addMessage(channelId, input) {
      const channel = world.channel(channelId);
      if (!channel) throw new Error(`no channel ${channelId}`);
      if (world.user(input.user)?.teamId !== channel.teamId) throw new Error(`no user ${input.user} in ${channel.teamId}`);
      const message = state.messages.post({ channel: channel.id, teamId: channel.teamId, ...input });
      return structuredClone(message);
    },

    revokeTokens: (teamId) => state.tokens.revokeTeam(world.requireWorkspace(teamId).id),
    expireToken: (token) => state.tokens.expire(token),
    setRotatingTokenTtl: (seconds) => state.tokens.setRotatingTokenTtl(seconds),
    setAuthorizeAs(installer) {
      if (world.user(installer.userId)?.teamId !== world.requireWorkspace(installer.teamId).id) {
        throw new Error(`no user ${installer.userId} in ${installer.teamId}`);
      }
      state.authorize.as = { ...installer };
    },
    setAuthorizeDenied: (denied) => {
      state.authorize.denied = denied;
    },

    messages: (channel) => structuredClone(state.messages.list(channel)),
    message: (channel, ts) => {
      const found = state.messages.find(channel, ts);
      return found && structuredClone(found);
    },
    onMessage: (listener) => state.messages.onChange(listener),
    views: () => structuredClone(state.views),

    injectError: (fault) => state.faults.inject(fault),
    clearFaults: () => state.faults.clear(),
    setHistoryAccess: (access) => {
      state.historyAccess = access;
    },

    get calls() {
      return state.calls;
    },
    callsTo: (method) => state.calls.filter((c) => c.method === method),
    clearCalls: () => {
      state.calls.length = 0;
    },
    get responses() {
      return state.responses;
    },

    signature: (body, signOpts) => signer.signature(body, signOpts),
    sendInteraction: (targetUrl, payload, deliveryOpts) => signer.sendInteraction(targetUrl, payload, deliveryOpts),
    sendCommand: (targetUrl, fields, deliveryOpts) => signer.sendCommand(targetUrl, fields, deliveryOpts),
    sendEvent: (targetUrl, envelope, deliveryOpts) => signer.sendEvent(targetUrl, envelope, deliveryOpts),
    sendUrlVerification: (targetUrl, deliveryOpts) => signer.sendUrlVerification(targetUrl, deliveryOpts),

    blockActions: (input) => payloads.blockActions(input),
    slashCommand: (input) => payloads.slashCommand(input),
    eventCallback: (input) => payloads.eventCallback(input),
    appMention: (input) => payloads.appMention(input),
  };
}
