import { randomBytes } from "node:crypto";
import { ActivityBuilder, type InvokeActionOptions, type MessageOptions } from "./activities.js";
import { signChannelToken, type ChannelTokenOptions } from "./channelTokens.js";
import { Connector } from "./connector.js";
import { handleControl } from "./control.js";
import { FaultBook, RateLimiter } from "./faults.js";
import { AccessTokenIssuer } from "./identity.js";
import { tamper, type JwtClaims } from "./jwt.js";
import { generateKeySet, type KeySet } from "./keys.js";
import { PATHS, startServer, type EmulatorServer } from "./server.js";
import { World, type NewUser } from "./world.js";
import type {
  Activity,
  BotResponse,
  ConversationRef,
  FaultSpec,
  RecordedCall,
  StoredMessage,
  TeamRef,
  TeamsChannel,
  TeamsConversation,
  TeamsTeam,
  TeamsUser,
} from "./types.js";

export interface TeamsEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The bot's MicrosoftAppId (for a UserAssignedMSI bot: the identity's client id). */
  appId: string;
  tenantId: string;
  /** Display name in `recipient` and in `<at>…</at>` mentions; default "Triage Relay". */
  botName?: string;
  /** Answer 429 past Teams' per-conversation limits (7/1 s, 8/2 s, 60/30 s sends) and its tenant's (50/1 s, every call). Default off. */
  enforceRateLimits?: boolean;
  /** Lifetime of managed identity tokens; default 86400 like Entra's. MSAL treats < 300 s as already expired. */
  accessTokenLifetimeSec?: number;
}

export interface PostOptions {
  /** A specific token; `null` sends no Authorization header. Default: a valid token for `activity.serviceUrl`. */
  token?: string | null;
  /** Teams abandons a bot after 10–15 s; post() throws after this long. Default 15000. */
  timeoutMs?: number;
}

export interface TeamsEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `${url}/teams/`, trailing slash included, like `https://smba.trafficmanager.net/amer/`. */
  readonly serviceUrl: string;
  /** For BOT_OPENID_METADATA_URL. */
  readonly openIdMetadataUrl: string;
  /** For IDENTITY_ENDPOINT. */
  readonly identityEndpoint: string;
  /** For IDENTITY_HEADER. */
  readonly identityHeader: string;
  readonly appId: string;
  readonly tenantId: string;
  /** `28:<appId>` */
  readonly botId: string;

  signChannelToken(options?: ChannelTokenOptions): Promise<string>;
  /** Edits payload claims and keeps the signature; default patch points `serviceurl` elsewhere. */
  tamper(token: string, claims?: JwtClaims): string;
  /** Sends an activity to the bot as the Teams channel does. */
  post(botEndpointUrl: string, activity: Activity, options?: PostOptions): Promise<BotResponse>;

  botAddedToTeam(options: { team: TeamRef; from?: TeamsUser | string }): Activity;
  botRemovedFromTeam(options: { team: TeamRef; from?: TeamsUser | string }): Activity;
  /**
   * The member leaves the team (member reads there then answer 404 MemberNotFoundInConversation): `teamMemberRemoved`.
   * `landsLater`: member reads still find them there until `landRemovals()`.
   */
  memberRemovedFromTeam(options: {
    team: TeamRef;
    user: TeamsUser | string;
    from?: TeamsUser | string;
    withObjectId?: boolean;
    landsLater?: boolean;
  }): Activity;
  /** Removals announced with `landsLater` now show in member reads. */
  landRemovals(): void;
  /** The user's account is deleted from the tenant: out of every team, one `teamMemberRemoved` per team with the bot. */
  userLeftOrganisation(options: { user: TeamsUser | string; withObjectId?: boolean }): Activity[];
  teamRenamed(options: { team: TeamRef; name: string; from?: TeamsUser | string }): Activity;
  teamDeleted(options: { team: TeamRef; from?: TeamsUser | string }): Activity;
  channelCreated(options: { channel: TeamsChannel; from?: TeamsUser | string }): Activity;
  channelRenamed(options: { channel: TeamsChannel; name: string; from?: TeamsUser | string }): Activity;
  personalInstall(options: { user: TeamsUser | string }): Activity;
  installationUpdate(options: { action: "add" | "remove" | "add-upgrade"; conversation: ConversationRef; from?: TeamsUser | string }): Activity;
  message(options: MessageOptions): Activity;
  invokeAction(options: InvokeActionOptions): Activity;

  addUser(user: NewUser): TeamsUser;
  /** The bot starts installed in the team; members by TeamsUser, Teams id, Entra object id or email. */
  addTeam(team: { name: string; members: (TeamsUser | string)[] }): TeamsTeam;
  addChannel(team: TeamRef, name: string): TeamsChannel;
  addGroupChat(chat: { members: (TeamsUser | string)[] }): TeamsConversation;
  /** The bot's 1:1 conversation with the user (the id createConversation returns). */
  personalConversation(user: TeamsUser | string): TeamsConversation;
  team(team: TeamRef): TeamsTeam;
  snapshot(): { users: TeamsUser[]; teams: TeamsTeam[]; conversations: TeamsConversation[] };

  /** Messages the bot posted, in order, as they are now (after updates). */
  messages(conversationId?: string): StoredMessage[];
  /** Called with a copy of every message the bot posts or updates, as it happens; returns the unsubscribe. */
  onMessage(listener: (message: StoredMessage) => void): () => void;
  /** The conversation is gone from Teams: sends, updates and member reads get 404 ConversationNotFound. */
  deleteConversation(conversation: ConversationRef): void;
  /** Every request to the serviceUrl and the managed identity endpoint, oldest first. */
  readonly calls: RecordedCall[];
  /** Requests to the managed identity endpoint since the last clearCalls(). */
  readonly tokenRequests: number;
  clearCalls(): void;

  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  /**
   * `retryAfter: false`: the 429s past the limits carry no Retry-After, as Teams' sometimes don't (notes/teams.md §3.2).
   * Default: they carry one.
   */
  enforceRateLimits(enabled: boolean, options?: { retryAfter?: boolean }): void;

  stop(): Promise<void>;
}

class Emulator implements TeamsEmulator {
  readonly serviceUrl: string;
  readonly openIdMetadataUrl: string;
  readonly identityEndpoint: string;
  readonly botId: string;
  private server: EmulatorServer | undefined;

  constructor(
    readonly url: string,
    readonly appId: string,
    readonly tenantId: string,
    readonly identityHeader: string,
    private readonly parts: {
      keys: KeySet;
      world: World;
      activities: ActivityBuilder;
      faults: FaultBook;
      limiter: RateLimiter;
      callLog: RecordedCall[];
    },
  ) {
    this.serviceUrl = `${url}${PATHS.serviceUrl}`;
    this.openIdMetadataUrl = `${url}${PATHS.openIdMetadata}`;
    this.identityEndpoint = `${url}${PATHS.managedIdentity}`;
    this.botId = `28:${appId}`;
  }

  attach(server: EmulatorServer): void {
    this.server = server;
  }

  async signChannelToken(options: ChannelTokenOptions = {}): Promise<string> {
    return signChannelToken(this.parts.keys, { appId: this.appId, serviceUrl: this.serviceUrl }, options);
  }

  tamper(token: string, claims: JwtClaims = { serviceurl: "https://attacker.example/" }): string {
    return tamper(token, claims);
  }

  async post(botEndpointUrl: string, activity: Activity, options: PostOptions = {}): Promise<BotResponse> {
    const serviceUrl = typeof activity.serviceUrl === "string" ? activity.serviceUrl : this.serviceUrl;
    const token = options.token === undefined ? await this.signChannelToken({ serviceUrl }) : options.token;
    const timeoutMs = options.timeoutMs ?? 15_000;
    let response: Response;
    try {
      response = await fetch(botEndpointUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          "user-agent": "Microsoft-SkypeBotApi (Microsoft-BotFramework/3.0)",
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(activity),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && error.name === "TimeoutError") {
        throw new Error(`The bot did not answer the ${activity.type} activity within ${timeoutMs} ms (Teams gives up after 10–15 s)`);
      }
      throw error;
    }
    const text = await response.text();
    return { status: response.status, body: parseOrUndefined(text), text };
  }

  botAddedToTeam: TeamsEmulator["botAddedToTeam"] = (options) => this.parts.activities.botAddedToTeam(options);
  botRemovedFromTeam: TeamsEmulator["botRemovedFromTeam"] = (options) => this.parts.activities.botRemovedFromTeam(options);
  memberRemovedFromTeam: TeamsEmulator["memberRemovedFromTeam"] = (options) => this.parts.activities.memberRemovedFromTeam(options);
  userLeftOrganisation: TeamsEmulator["userLeftOrganisation"] = (options) => this.parts.activities.userLeftOrganisation(options);
  teamRenamed: TeamsEmulator["teamRenamed"] = (options) => this.parts.activities.teamRenamed(options);
  teamDeleted: TeamsEmulator["teamDeleted"] = (options) => this.parts.activities.teamDeleted(options);
  channelCreated: TeamsEmulator["channelCreated"] = (options) => this.parts.activities.channelCreated(options);
  channelRenamed: TeamsEmulator["channelRenamed"] = (options) => this.parts.activities.channelRenamed(options);
  personalInstall: TeamsEmulator["personalInstall"] = (options) => this.parts.activities.personalInstall(options);
  installationUpdate: TeamsEmulator["installationUpdate"] = (options) => this.parts.activities.installationUpdate(options);
  message: TeamsEmulator["message"] = (options) => this.parts.activities.message(options);
  invokeAction: TeamsEmulator["invokeAction"] = (options) => this.parts.activities.invokeAction(options);

  addUser(user: NewUser): TeamsUser {
    return this.parts.world.addUser(user);
  }

  addTeam(team: { name: string; members: (TeamsUser | string)[] }): TeamsTeam {
    return this.parts.world.addTeam(team);
  }

  addChannel(team: TeamRef, name: string): TeamsChannel {
    return this.parts.world.addChannel(team, name);
  }

  addGroupChat(chat: { members: (TeamsUser | string)[] }): TeamsConversation {
    return this.parts.world.addGroupChat(chat);
  }

  personalConversation(user: TeamsUser | string): TeamsConversation {
    return this.parts.world.personalConversation(user);
  }

  team(team: TeamRef): TeamsTeam {
    return this.parts.world.team(team);
  }

  snapshot(): { users: TeamsUser[]; teams: TeamsTeam[]; conversations: TeamsConversation[] } {
    const { world } = this.parts;
    return { users: world.allUsers(), teams: world.allTeams(), conversations: world.allConversations() };
  }

  messages(conversationId?: string): StoredMessage[] {
    return this.parts.world.messages(conversationId);
  }

  onMessage(listener: (message: StoredMessage) => void): () => void {
    return this.parts.world.onMessage(listener);
  }

  deleteConversation(conversation: ConversationRef): void {
    this.parts.world.deleteConversation(conversation);
  }

  landRemovals(): void {
    this.parts.world.landRemovals();
  }

  get calls(): RecordedCall[] {
    return structuredClone(this.parts.callLog);
  }

  get tokenRequests(): number {
    return this.parts.callLog.filter((call) => call.operation === "token").length;
  }

  clearCalls(): void {
    this.parts.callLog.length = 0;
  }

  injectFault(fault: FaultSpec): void {
    this.parts.faults.inject(fault);
  }

  clearFaults(): void {
    this.parts.faults.clear();
  }

  enforceRateLimits(enabled: boolean, options: { retryAfter?: boolean } = {}): void {
    this.parts.limiter.enabled = enabled;
    this.parts.limiter.sendsRetryAfter = options.retryAfter ?? true;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}

export async function startTeamsEmulator(options: TeamsEmulatorOptions): Promise<TeamsEmulator> {
  if (!options.appId || !options.tenantId) throw new Error("startTeamsEmulator needs appId and tenantId");
  const host = options.host ?? "127.0.0.1";
  const keys = await generateKeySet();
  const world = new World(options.appId, options.tenantId);
  const faults = new FaultBook();
  const limiter = new RateLimiter();
  limiter.enabled = options.enforceRateLimits ?? false;
  const callLog: RecordedCall[] = [];
  const identityHeader = randomBytes(32).toString("hex");
  const issuer = new AccessTokenIssuer(keys.accessTokenIssuer, options.appId, options.tenantId, options.accessTokenLifetimeSec ?? 86_400);

  // The control API needs the emulator, which needs the server's URL: bind it late.
  let emulator: Emulator | undefined;
  const server = await startServer(
    {
      appId: options.appId,
      identityHeader,
      keys,
      issuer,
      connector: new Connector(world),
      faults,
      limiter,
      calls: callLog,
      control: async (req, url, body) => {
        if (!emulator) throw new Error("Emulator is still starting");
        return handleControl(emulator, req, url, body);
      },
    },
    options.port ?? 0,
    host,
  );

  const botName = options.botName ?? "Triage Relay";
  const serviceUrl = `${server.url}${PATHS.serviceUrl}`;
  emulator = new Emulator(server.url, options.appId, options.tenantId, identityHeader, {
    keys,
    world,
    activities: new ActivityBuilder({ appId: options.appId, botName, serviceUrl, world }),
    faults,
    limiter,
    callLog,
  });
  emulator.attach(server);
  return emulator;
}

function parseOrUndefined(text: string): unknown {
  try {
    return text === "" ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}
