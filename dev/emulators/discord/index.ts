// A Discord emulator for dev and tests: signs interactions with its own Ed25519 key pair as Discord does,
// serves the REST subset the app uses (create/edit message, open a DM and post in it — 50007 where the user's DMs are
// closed to the bot —, register commands, start a thread from a message and post in it, and an answered interaction's
// webhook for 15 minutes: edit its original response, send a followup) with per-route bucket headers and 429s (route
// and global), injected failures (5xx, dropped connections, refused connections), gives up on an interaction after
// 3 s, and records calls. Components are checked as Discord checks them (50035 for one it would refuse), and a pick
// in a user select is sent as Discord sends it (component_type 5, the users and members resolved).
import { randomBytes } from "node:crypto";
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { componentErrors, findComponent } from "./components";
import { InteractionSigner } from "./signer";

export { InteractionSigner } from "./signer";

export interface DiscordUser {
  id: string;
  username: string;
  globalName: string;
  /** A bot or app account. */
  bot?: boolean;
}
export interface DiscordGuild {
  id: string;
  name: string;
}
export interface DiscordChannel {
  id: string;
  guildId?: string;
  name: string;
  /** 0 guild text, 1 DM, 11 public thread. */
  type: 0 | 1 | 11;
  recipientId?: string;
  /** A thread's channel: a thread started from a message has that message's id. */
  parentId?: string;
  /** A thread's state (thread_metadata): an archived thread is unarchived by a post, unless it is locked. */
  archived?: boolean;
  locked?: boolean;
  autoArchiveDuration?: number;
}
export interface DiscordMessage {
  id: string;
  channelId: string;
  content?: string;
  /** As posted (Create Message's `nonce`): with `enforce_nonce`, a second post with it answers this message. */
  nonce?: string | number;
  embeds: unknown[];
  components: unknown[];
  edits: number;
  /** Set when the message was the ephemeral answer to an interaction. */
  ephemeral?: boolean;
  /** An ephemeral message's one reader: the user who sent the interaction. */
  visibleTo?: string;
  /** Epoch milliseconds. */
  createdAt: number;
}
export interface RecordedCall {
  method: string;
  path: string;
  status: number;
  body?: unknown;
  /** Discord's JSON error code in the answer (50007, 10003, …), when it gave one. */
  code?: number;
}
export interface ThrottleSpec {
  /** "global": the 50 req/s account-wide limit (X-RateLimit-Global). Default "route". */
  scope?: "route" | "global";
  retryAfterSeconds: number;
  /** Only requests whose path contains this; default every request. */
  pathIncludes?: string;
}
export interface FailureSpec {
  /** An HTTP error answer (a 5xx), or "drop": the connection reset once the request has arrived, with no answer. */
  failure: { status: number } | "drop";
  /** Only requests whose path contains this; default every request. */
  pathIncludes?: string;
  /** Only requests with this method; default any. */
  method?: string;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** The request takes effect before it fails (an answer lost on the way back): the message is posted or edited all the same. */
  afterApplying?: boolean;
}
export interface InteractionAnswer {
  status: number;
  body?: { type: number; data?: Record<string, unknown> };
  /** Discord gave up: no answer within 3 s ("This interaction failed"); the token is invalidated. */
  timedOut?: boolean;
  /**
   * Discord refused the answer's message (components it would not take: 50035, the errors nested as in a REST
   * answer): nothing is shown but "This interaction failed", and the token is invalidated.
   */
  refused?: { code: number; errors: Record<string, unknown> };
}

/** Discord wants the initial response within 3 s, or it invalidates the token. */
export const INITIAL_RESPONSE_WITHIN_MS = 3_000;
/** An answered interaction's token works for the webhook routes (edit @original, followups) this long. */
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Discord checks an enforced nonce against the author's messages of "the past few minutes". */
export const NONCE_WINDOW_MS = 5 * 60_000;
/** A thread's `auto_archive_duration`: the minutes Discord accepts. */
export const AUTO_ARCHIVE_DURATIONS = [60, 1440, 4320, 10080] as const;
/** Discord's limit on a thread's name. */
export const THREAD_NAME_MAX = 100;

interface InteractionRecord {
  channelId: string;
  /** The message a component was on. */
  messageId?: string;
  /** The message the initial response created (type 4 or 5): `@original` from then on. */
  responseMessageId?: string;
  /** Who sent the interaction: an ephemeral answer is theirs alone. */
  userId?: string;
  issuedAt: number;
  /** Not answered in time: the token no longer works. */
  invalidated?: boolean;
}

export interface DiscordEmulatorOptions {
  port?: number;
  /** Requests per bucket window (per route and major parameter). Default 5 per 5 s, like channel messages. */
  bucketLimit?: number;
  bucketWindowMs?: number;
}

/** Snowflake-shaped ids (18 digits), increasing. */
let nextSnowflake = 1_100_000_000_000_000_000n;
export function snowflake(): string {
  nextSnowflake += BigInt(1 + Math.floor(Math.random() * 1000));
  return String(nextSnowflake);
}

export class DiscordEmulator {
  readonly signer = new InteractionSigner();
  readonly applicationId = snowflake();
  readonly botToken = `emulated.${randomBytes(24).toString("base64url")}`;
  readonly bot: DiscordUser = { id: this.applicationId, username: "triage-relay", globalName: "Triage Relay" };
  readonly guilds = new Map<string, DiscordGuild>();
  readonly channels = new Map<string, DiscordChannel>();
  readonly users = new Map<string, DiscordUser>();
  readonly calls: RecordedCall[] = [];
  /** Channels the bot can't see (403 Missing Access). */
  readonly noAccess = new Set<string>();
  /**
   * Channels where the bot lacks Create Public Threads and Send Messages in Threads (403 Missing Permissions to
   * start a thread from a message there, or to post in one of its threads). Its own posts there still go.
   */
  readonly noThreadPermission = new Set<string>();
  /**
   * Users whose DMs are closed to the bot (they turned off DMs from server members, or blocked it): the DM channel
   * opens, and a post in it is refused 403 50007 Cannot send messages to this user, as Discord does.
   */
  readonly closedDirectMessages = new Set<string>();
  commands: unknown[] = [];
  private readonly messagesByChannel = new Map<string, DiscordMessage[]>();
  /** Interaction token → where it came from and what its answer created (edits of `@original` go there). */
  private readonly interactions = new Map<string, InteractionRecord>();
  private readonly buckets = new Map<string, { used: number; resetAt: number; id: string }>();
  private readonly throttles: ThrottleSpec[] = [];
  private readonly failures: (FailureSpec & { left: number })[] = [];
  private readonly listeners = new Set<(message: DiscordMessage) => void>();
  private server?: ReturnType<typeof createServer>;
  private port = 0;
  apiUrl = "";

  constructor(private readonly options: DiscordEmulatorOptions = {}) {}

  get publicKey(): string {
    return this.signer.publicKeyHex;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.route(req)
        .then((answer) => (answer === "drop" ? req.socket.resetAndDestroy() : reply(res, answer)))
        .catch((error: unknown) => reply(res, { status: 500, body: { message: String(error) } }));
    });
    await this.listen(this.options.port ?? 0);
    this.port = (this.server.address() as AddressInfo).port;
    this.apiUrl = `http://127.0.0.1:${this.port}/api/v10`;
    return this;
  }

  async stop(): Promise<void> {
    await this.closeListener();
  }

  /**
   * Discord unreachable: every new connection is refused (ECONNREFUSED, the request never sent) and open ones are
   * closed, until `acceptConnections`. Not per path: a connection is refused before any request is sent on it.
   */
  async refuseConnections(): Promise<void> {
    await this.closeListener();
    // A client sees its kept-alive connection closed only once its event loop has read the FIN; sending on it
    // before then fails as a reset (UND_ERR_SOCKET), not a refusal.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  /** Back after `refuseConnections`, on the same port. */
  async acceptConnections(): Promise<void> {
    if (!this.server?.listening) await this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, "127.0.0.1", () => {
        this.server!.off("error", reject);
        resolve();
      });
    });
  }

  private async closeListener(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  addGuild(name: string, channelNames: string[] = ["alerts"]): { guild: DiscordGuild; channels: DiscordChannel[] } {
    const guild = { id: snowflake(), name };
    this.guilds.set(guild.id, guild);
    const channels = channelNames.map((channelName) => this.addChannel(guild.id, channelName));
    return { guild, channels };
  }

  addChannel(guildId: string, name: string): DiscordChannel {
    const channel: DiscordChannel = { id: snowflake(), guildId, name, type: 0 };
    this.channels.set(channel.id, channel);
    return channel;
  }

  addUser(username: string, globalName = username): DiscordUser {
    const user = { id: snowflake(), username, globalName };
    this.users.set(user.id, user);
    return user;
  }

  /** A bot account (another app in the server): it can be picked in a user select, and is marked `bot` there. */
  addBot(username: string, globalName = username): DiscordUser {
    const bot = { id: snowflake(), username, globalName, bot: true };
    this.users.set(bot.id, bot);
    return bot;
  }

  messages(channelId: string): DiscordMessage[] {
    return this.messagesByChannel.get(channelId) ?? [];
  }

  message(channelId: string, messageId: string): DiscordMessage | undefined {
    return this.messages(channelId).find((m) => m.id === messageId);
  }

  /** A thread (its messages: `messages(threadId)`), or undefined: none started, or deleted. */
  thread(threadId: string): DiscordChannel | undefined {
    const channel = this.channels.get(threadId);
    return channel?.type === 11 ? channel : undefined;
  }

  /** A person starts a thread from a message in the client (Discord's "Create Thread" on it). */
  startThreadAsUser(input: { channelId: string; messageId: string; name: string }): DiscordChannel {
    const started = this.startThread(input.channelId, input.messageId, { name: input.name });
    if (started.status !== 201) throw new Error(`no thread: ${JSON.stringify(started.body)}`);
    return this.thread(input.messageId)!;
  }

  /** The thread archives itself (no activity for its auto_archive_duration) or a moderator archives it. */
  archiveThread(threadId: string): void {
    this.thread(threadId)!.archived = true;
  }

  /** A moderator locks the thread: only members with Manage Threads (not the bot) post in it or unarchive it. */
  lockThread(threadId: string): void {
    this.thread(threadId)!.locked = true;
  }

  /** A moderator deletes the thread, and its messages with it. */
  deleteThread(threadId: string): void {
    this.channels.delete(threadId);
    this.messagesByChannel.delete(threadId);
  }

  /** The next matching REST requests are answered 429 (one per call to this). */
  throttleNext(spec: ThrottleSpec): void {
    this.throttles.push(spec);
  }

  /** The next `times` (default 1) matching REST requests fail: a 5xx answer, or the connection dropped with no answer. */
  failNext(spec: FailureSpec): void {
    this.failures.push({ ...spec, left: spec.times ?? 1 });
  }

  // --- interactions (Discord → the app) ---

  ping(): Record<string, unknown> {
    return { id: snowflake(), application_id: this.applicationId, type: 1, token: randomBytes(16).toString("hex"), version: 1 };
  }

  /**
   * A click on a button (`customId`) or a choice in a string select (`values`) on a message the bot posted; when the
   * message's component with `customId` is a user select, `values` are the picked users' ids and the interaction
   * carries them resolved (`data.resolved.users`, and `members` in a server), as Discord sends a pick.
   */
  componentClick(input: { user: DiscordUser; channelId: string; messageId: string; customId: string; values?: string[] }): Record<string, unknown> {
    const channel = this.channels.get(input.channelId);
    const message = this.message(input.channelId, input.messageId);
    const component = message ? findComponent(message.components, input.customId) : undefined;
    const data =
      component?.type === 5
        ? this.userSelectData(component, input.customId, input.values ?? [], channel)
        : input.values
          ? { custom_id: input.customId, component_type: 3, values: input.values }
          : { custom_id: input.customId, component_type: 2 };
    return {
      ...this.interactionBase(input.user, channel),
      type: 3,
      message: message ? this.wireMessage(message) : { id: input.messageId, channel_id: input.channelId },
      data,
    };
  }

  /** A pick in a user select: only users Discord knows, as many as the select allows. */
  private userSelectData(select: Record<string, unknown>, customId: string, userIds: string[], channel: DiscordChannel | undefined) {
    const min = typeof select.min_values === "number" ? select.min_values : 1;
    const max = typeof select.max_values === "number" ? select.max_values : 1;
    if (userIds.length < min || userIds.length > max) throw new Error(`the user select takes ${min} to ${max} users, not ${userIds.length}`);
    const picked = userIds.map((id) => {
      const user = this.users.get(id);
      if (!user) throw new Error(`no Discord user ${id} to pick`);
      return user;
    });
    const inGuild = channel?.guildId !== undefined;
    return {
      custom_id: customId,
      component_type: 5,
      values: userIds,
      resolved: {
        users: Object.fromEntries(picked.map((user) => [user.id, wireUser(user)])),
        ...(inGuild
          ? {
              members: Object.fromEntries(
                picked.map((user) => [user.id, { nick: null, roles: [], joined_at: new Date().toISOString(), permissions: "0", flags: 0 }]),
              ),
            }
          : {}),
      },
    };
  }

  /** `/triage <subcommand> [options]`: options as name → value (string, or boolean for a boolean option), in order. */
  slashCommand(input: {
    user: DiscordUser;
    channelId: string;
    subcommand: string;
    options?: Record<string, string | boolean>;
  }): Record<string, unknown> {
    const channel = this.channels.get(input.channelId);
    return {
      ...this.interactionBase(input.user, channel),
      type: 2,
      data: {
        id: snowflake(),
        name: "triage",
        type: 1,
        options: [
          {
            name: input.subcommand,
            type: 1,
            // Option types as Discord sends them: 3 STRING, 5 BOOLEAN.
            options: Object.entries(input.options ?? {}).map(([name, value]) => ({ name, type: typeof value === "boolean" ? 5 : 3, value })),
          },
        ],
      },
    };
  }

  /**
   * Sends an interaction as Discord does (signed), and applies the answer as Discord would: type 7 edits the
   * clicked message, type 4 shows a (possibly ephemeral) reply, type 5 a "thinking…" reply to be edited, type 6
   * nothing yet (the app edits `@original` later). No answer within 3 s: Discord gives up and the token is
   * invalidated. `sign` overrides the headers for forgeries.
   */
  async sendInteraction(
    url: string,
    interaction: Record<string, unknown>,
    sign?: (body: string) => Record<string, string>,
  ): Promise<InteractionAnswer> {
    const body = JSON.stringify(interaction);
    const token = String(interaction.token);
    const message = interaction.message as { id?: string; channel_id?: string } | undefined;
    const sender = ((interaction.member as { user?: { id?: string } } | undefined)?.user ?? (interaction.user as { id?: string } | undefined))?.id;
    const record: InteractionRecord = {
      channelId: String(interaction.channel_id ?? ""),
      messageId: message?.id,
      userId: sender,
      issuedAt: Date.now(),
    };
    this.interactions.set(token, record);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(sign ? sign(body) : this.signer.headers(body)) },
        body,
        signal: AbortSignal.timeout(INITIAL_RESPONSE_WITHIN_MS),
      });
      text = await response.text();
    } catch (error) {
      if ((error as Error).name !== "TimeoutError") throw error;
      record.invalidated = true;
      return { status: 0, timedOut: true };
    }
    const answer: InteractionAnswer = { status: response.status, body: text ? JSON.parse(text) : undefined };
    const errors = answer.body?.data?.components != null ? componentErrors(answer.body.data.components) : undefined;
    if (errors) answer.refused = { code: 50035, errors };
    if (response.status === 200 && answer.body && !errors) this.applyAnswer(record, answer.body);
    else record.invalidated = true;
    return answer;
  }

  /** Makes an interaction's token as old as Discord's would be after `ms` (to try the 15-minute lifetime). */
  ageInteraction(token: string, ms: number): void {
    const record = this.interactions.get(token);
    if (record) record.issuedAt -= ms;
  }

  private applyAnswer(origin: InteractionRecord, answer: { type: number; data?: Record<string, unknown> }): void {
    const data = answer.data ?? {};
    const ephemeral = (Number(data.flags ?? 0) & 64) === 64 || undefined;
    if (answer.type === 7 && origin.messageId) {
      const message = this.message(origin.channelId, origin.messageId);
      if (message) this.edit(message, data);
    }
    if (answer.type === 4) {
      const created = this.store(origin.channelId, {
        content: data.content as string | undefined,
        embeds: (data.embeds as unknown[]) ?? [],
        components: (data.components as unknown[]) ?? [],
        ...(ephemeral ? { ephemeral, visibleTo: origin.userId } : {}),
      });
      origin.responseMessageId = created.id;
    }
    if (answer.type === 5) {
      const thinking = this.store(origin.channelId, {
        content: "Triage Relay is thinking…",
        embeds: [],
        components: [],
        ...(ephemeral ? { ephemeral, visibleTo: origin.userId } : {}),
      });
      origin.responseMessageId = thinking.id;
    }
  }

  /** The interaction a webhook route's token belongs to, while it works: answered in time, under 15 minutes old, this app's. */
  private liveInteraction(applicationId: string, token: string): InteractionRecord | undefined {
    const record = this.interactions.get(token);
    if (!record || record.invalidated || applicationId !== this.applicationId) return undefined;
    return Date.now() - record.issuedAt <= INTERACTION_TOKEN_LIFETIME_MS ? record : undefined;
  }

  private interactionBase(user: DiscordUser, channel: DiscordChannel | undefined): Record<string, unknown> {
    const inGuild = channel?.guildId !== undefined;
    return {
      id: snowflake(),
      application_id: this.applicationId,
      token: randomBytes(32).toString("base64url"),
      version: 1,
      channel_id: channel?.id,
      channel: channel ? { id: channel.id, type: channel.type, name: channel.name, ...(inGuild ? { guild_id: channel.guildId } : {}) } : undefined,
      ...(inGuild
        ? {
            guild_id: channel!.guildId,
            guild: { id: channel!.guildId, locale: "en-US", features: [] },
            member: {
              user: wireUser(user),
              roles: [],
              permissions: "2248473465835073",
              nick: null,
              joined_at: new Date().toISOString(),
              deaf: false,
              mute: false,
              flags: 0,
            },
          }
        : { user: wireUser(user) }),
      app_permissions: "2248473465835073",
      locale: "en-US",
      guild_locale: "en-US",
      entitlements: [],
      authorizing_integration_owners: inGuild ? { "0": channel!.guildId } : { "1": user.id },
      context: inGuild ? 0 : 1,
    };
  }

  private wireMessage(message: DiscordMessage): Record<string, unknown> {
    return {
      id: message.id,
      channel_id: message.channelId,
      type: 0,
      content: message.content ?? "",
      embeds: message.embeds,
      components: message.components,
      author: { id: this.bot.id, username: this.bot.username, global_name: this.bot.globalName, bot: true, discriminator: "0", avatar: null },
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: 0,
    };
  }

  /** Calls `listener` with a copy of each message as it is posted and after each edit; returns the unsubscribe. */
  onMessage(listener: (message: DiscordMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private store(channelId: string, input: Omit<DiscordMessage, "id" | "channelId" | "edits" | "createdAt">): DiscordMessage {
    const message: DiscordMessage = { id: snowflake(), channelId, edits: 0, createdAt: Date.now(), ...input };
    const list = this.messagesByChannel.get(channelId) ?? [];
    list.push(message);
    this.messagesByChannel.set(channelId, list);
    this.tell(message);
    return message;
  }

  private edit(message: DiscordMessage, data: Record<string, unknown>): void {
    if ("content" in data) message.content = data.content as string;
    if ("embeds" in data) message.embeds = (data.embeds as unknown[]) ?? [];
    if ("components" in data) message.components = (data.components as unknown[]) ?? [];
    message.edits++;
    this.tell(message);
  }

  private tell(message: DiscordMessage): void {
    for (const listener of this.listeners) listener(structuredClone(message));
  }

  // --- REST (the app → Discord) ---

  /** `"drop"`: reset the connection without answering. */
  private async route(req: IncomingMessage): Promise<Answer | "drop"> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const path = url.pathname.replace(/^\/api\/v10/, "");
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return this.record(req.method!, path, undefined, { status: 400, body: { code: 50109, message: "The request body contains invalid JSON." } });
    }
    const failure = this.takeFailure(req.method!, path);
    if (!failure) return this.answer(req, path, body);
    if (failure.afterApplying) this.answer(req, path, body, { recorded: false });
    if (failure.failure === "drop") {
      // Status 0 in the record: no answer was sent.
      this.record(req.method!, path, body, { status: 0 });
      return "drop";
    }
    const { status } = failure.failure;
    return this.record(req.method!, path, body, { status, body: { message: `${status}: ${STATUS_CODES[status] ?? "Server Error"}`, code: 0 } });
  }

  private takeFailure(method: string, path: string): FailureSpec | undefined {
    const index = this.failures.findIndex((f) => (!f.pathIncludes || path.includes(f.pathIncludes)) && (!f.method || f.method === method));
    if (index < 0) return undefined;
    const failure = this.failures[index]!;
    if (--failure.left === 0) this.failures.splice(index, 1);
    return failure;
  }

  private answer(req: IncomingMessage, path: string, body: Record<string, unknown>, { recorded = true } = {}): Answer {
    const record = (answer: Answer) => (recorded ? this.record(req.method!, path, body, answer) : answer);
    const isWebhook = path.startsWith("/webhooks/");
    if (!isWebhook && req.headers.authorization !== `Bot ${this.botToken}`) {
      return record({ status: 401, body: { code: 0, message: "401: Unauthorized" } });
    }
    const limited = this.rateLimit(req.method!, path);
    if (limited.status === 429) return record(limited);
    const answer = this.handle(req.method!, path, body);
    answer.headers = { ...limited.headers, ...answer.headers };
    return record(answer);
  }

  private record(method: string, path: string, body: unknown, answer: Answer): Answer {
    const code = typeof answer.body?.code === "number" && answer.body.code !== 0 ? answer.body.code : undefined;
    this.calls.push({ method, path, status: answer.status, body, ...(code !== undefined ? { code } : {}) });
    return answer;
  }

  /** Per-route buckets keyed by route and major parameter (channel, webhook), plus queued 429s. */
  private rateLimit(method: string, path: string): Answer {
    const throttle = this.throttles.findIndex((t) => !t.pathIncludes || path.includes(t.pathIncludes));
    if (throttle >= 0) {
      const spec = this.throttles.splice(throttle, 1)[0]!;
      const global = spec.scope === "global";
      return {
        status: 429,
        headers: {
          "retry-after": String(Math.ceil(spec.retryAfterSeconds)),
          "x-ratelimit-scope": global ? "global" : "user",
          ...(global ? { "x-ratelimit-global": "true" } : {}),
        },
        body: { message: "You are being rate limited.", retry_after: spec.retryAfterSeconds, global },
      };
    }
    // An interaction webhook's major parameter is the webhook id and token: each interaction has its own bucket.
    const major = /^\/channels\/\d+/.exec(path)?.[0] ?? /^\/webhooks\/\d+\/[^/]+/.exec(path)?.[0] ?? "";
    const template = path.replace(/\d{17,20}/g, ":id").replace(/\/webhooks\/:id\/[^/]+/, "/webhooks/:id/:token");
    const key = `${method} ${template} ${major}`;
    const limit = this.options.bucketLimit ?? 5;
    const windowMs = this.options.bucketWindowMs ?? 5000;
    const now = Date.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { used: 0, resetAt: now + windowMs, id: bucket?.id ?? randomBytes(16).toString("hex") };
      this.buckets.set(key, bucket);
    }
    const resetAfter = (bucket.resetAt - now) / 1000;
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-reset": String(bucket.resetAt / 1000),
      "x-ratelimit-reset-after": resetAfter.toFixed(3),
      "x-ratelimit-bucket": bucket.id,
    };
    if (bucket.used >= limit) {
      return {
        status: 429,
        headers: { ...headers, "x-ratelimit-remaining": "0", "retry-after": String(Math.ceil(resetAfter)), "x-ratelimit-scope": "user" },
        body: { message: "You are being rate limited.", retry_after: Number(resetAfter.toFixed(3)), global: false },
      };
    }
    bucket.used++;
    return { status: 200, headers: { ...headers, "x-ratelimit-remaining": String(limit - bucket.used) } };
  }

  /**
   * Start Thread from Message: a public thread in the message's channel, with the message's id; one per message
   * (160004 for a second, whoever started the first).
   */
  private startThread(channelId: string, messageId: string, body: Record<string, unknown>): Answer {
    const channel = this.channels.get(channelId);
    if (!channel) return unknown(10003, "Unknown Channel");
    if (this.noAccess.has(channel.id)) return { status: 403, body: { code: 50001, message: "Missing Access" } };
    if (channel.type !== 0) return { status: 400, body: { code: 50024, message: "Cannot execute action on this channel type" } };
    if (this.noThreadPermission.has(channel.id)) return missingPermissions();
    const name = typeof body.name === "string" ? body.name.trim() : "";
    const duration = body.auto_archive_duration;
    if (!name || name.length > THREAD_NAME_MAX) return invalidForm("name", `Must be between 1 and ${THREAD_NAME_MAX} in length.`);
    if (duration !== undefined && !(AUTO_ARCHIVE_DURATIONS as readonly unknown[]).includes(duration)) {
      return invalidForm("auto_archive_duration", `Value must be one of {${AUTO_ARCHIVE_DURATIONS.join(", ")}}.`);
    }
    if (!this.message(channel.id, messageId)) return unknown(10008, "Unknown Message");
    if (this.channels.has(messageId)) return { status: 400, body: { code: 160004, message: "A thread has already been created for this message" } };
    const thread: DiscordChannel = {
      id: messageId,
      guildId: channel.guildId,
      name,
      type: 11,
      parentId: channel.id,
      archived: false,
      locked: false,
      autoArchiveDuration: typeof duration === "number" ? duration : 4320,
    };
    this.channels.set(thread.id, thread);
    return { status: 201, body: wireChannel(thread) };
  }

  private handle(method: string, path: string, body: Record<string, unknown>): Answer {
    const componentsRefused = /\/messages|^\/webhooks\//.test(path) && body.components != null ? componentErrors(body.components) : undefined;
    if (componentsRefused) return { status: 400, body: { code: 50035, message: "Invalid Form Body", errors: componentsRefused } };
    let match: RegExpExecArray | null;
    if (method === "POST" && (match = /^\/channels\/(\d+)\/messages$/.exec(path))) {
      const channel = this.channels.get(match[1]!);
      if (!channel) return unknown(10003, "Unknown Channel");
      if (this.noAccess.has(channel.parentId ?? channel.id)) return { status: 403, body: { code: 50001, message: "Missing Access" } };
      if (channel.type === 11) {
        if (this.noThreadPermission.has(channel.parentId!)) return missingPermissions();
        // Sending unarchives an archived thread, unless a moderator locked it (docs: Threads, "Active & Archived").
        if (channel.locked) {
          return channel.archived
            ? { status: 403, body: { code: 50083, message: "Thread is archived" } }
            : { status: 403, body: { code: 160005, message: "Thread is locked" } };
        }
        channel.archived = false;
      }
      if (channel.type === 1 && this.closedDirectMessages.has(channel.recipientId!)) {
        return { status: 403, body: { code: 50007, message: "Cannot send messages to this user" } };
      }
      const nonce = typeof body.nonce === "string" || typeof body.nonce === "number" ? body.nonce : undefined;
      if (nonce !== undefined && body.enforce_nonce === true) {
        const earlier = this.messages(channel.id).find((m) => m.nonce === nonce && Date.now() - m.createdAt < NONCE_WINDOW_MS);
        if (earlier) return { status: 200, body: this.wireMessage(earlier) };
      }
      const message = this.store(channel.id, {
        content: body.content as string | undefined,
        embeds: (body.embeds as unknown[]) ?? [],
        components: (body.components as unknown[]) ?? [],
        ...(nonce !== undefined ? { nonce } : {}),
      });
      return { status: 200, body: this.wireMessage(message) };
    }
    if (method === "POST" && (match = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path))) {
      return this.startThread(match[1]!, match[2]!, body);
    }
    if (method === "PATCH" && (match = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      const channel = this.channels.get(match[1]!);
      if (!channel) return unknown(10003, "Unknown Channel");
      if (this.noAccess.has(channel.id)) return { status: 403, body: { code: 50001, message: "Missing Access" } };
      const message = this.message(channel.id, match[2]!);
      if (!message) return unknown(10008, "Unknown Message");
      this.edit(message, body);
      return { status: 200, body: this.wireMessage(message) };
    }
    if (method === "GET" && (match = /^\/channels\/(\d+)$/.exec(path))) {
      const channel = this.channels.get(match[1]!);
      if (!channel) return unknown(10003, "Unknown Channel");
      if (this.noAccess.has(channel.id)) return { status: 403, body: { code: 50001, message: "Missing Access" } };
      return { status: 200, body: wireChannel(channel) };
    }
    if (method === "POST" && path === "/users/@me/channels") {
      const recipient = this.users.get(String(body.recipient_id));
      if (!recipient) return { status: 400, body: { code: 50035, message: "Invalid Form Body" } };
      const existing = [...this.channels.values()].find((c) => c.type === 1 && c.recipientId === recipient.id);
      const channel = existing ?? { id: snowflake(), name: recipient.username, type: 1 as const, recipientId: recipient.id };
      this.channels.set(channel.id, channel);
      return { status: 200, body: { id: channel.id, type: 1, recipients: [{ id: recipient.id, username: recipient.username }] } };
    }
    if (method === "PUT" && (match = /^\/applications\/(\d+)\/commands$/.exec(path))) {
      if (match[1] !== this.applicationId) return { status: 403, body: { code: 50001, message: "Missing Access" } };
      this.commands = (Array.isArray(body) ? body : []) as unknown[];
      return { status: 200, body: this.commands as unknown as Record<string, unknown> };
    }
    if (method === "PATCH" && (match = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path))) {
      const origin = this.liveInteraction(match[1]!, match[2]!);
      const originalId = origin?.responseMessageId ?? origin?.messageId;
      const message = origin && originalId ? this.message(origin.channelId, originalId) : undefined;
      if (!message) return unknown(10015, "Unknown Webhook");
      this.edit(message, body);
      return { status: 200, body: this.wireMessage(message) };
    }
    if (method === "POST" && (match = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path))) {
      const origin = this.liveInteraction(match[1]!, match[2]!);
      if (!origin) return unknown(10015, "Unknown Webhook");
      const followup = this.store(origin.channelId, {
        content: body.content as string | undefined,
        embeds: (body.embeds as unknown[]) ?? [],
        components: (body.components as unknown[]) ?? [],
        ...((Number(body.flags ?? 0) & 64) === 64 ? { ephemeral: true, visibleTo: origin.userId } : {}),
      });
      return { status: 200, body: this.wireMessage(followup) };
    }
    return { status: 404, body: { code: 0, message: "404: Not Found" } };
  }
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

function unknown(code: number, message: string): Answer {
  return { status: 404, body: { code, message } };
}

function missingPermissions(): Answer {
  return { status: 403, body: { code: 50013, message: "Missing Permissions" } };
}

/** 50035 Invalid Form Body, with the field's error as Discord nests it. */
function invalidForm(field: string, message: string): Answer {
  return {
    status: 400,
    body: { code: 50035, message: "Invalid Form Body", errors: { [field]: { _errors: [{ code: "BASE_TYPE_BAD_LENGTH", message }] } } },
  };
}

/** A user as Discord's user object has it (`bot` only on bot accounts). */
function wireUser(user: DiscordUser): Record<string, unknown> {
  return { id: user.id, username: user.username, global_name: user.globalName, discriminator: "0", avatar: null, ...(user.bot ? { bot: true } : {}) };
}

/** A channel as Discord's channel object has it; a thread with its parent and thread_metadata. */
function wireChannel(channel: DiscordChannel): Record<string, unknown> {
  return {
    id: channel.id,
    type: channel.type,
    name: channel.name,
    ...(channel.guildId ? { guild_id: channel.guildId } : {}),
    ...(channel.type === 11
      ? {
          parent_id: channel.parentId,
          thread_metadata: {
            archived: channel.archived ?? false,
            locked: channel.locked ?? false,
            auto_archive_duration: channel.autoArchiveDuration,
            archive_timestamp: new Date().toISOString(),
          },
        }
      : {}),
  };
}

function reply(res: ServerResponse, answer: Answer): void {
  const text = answer.body === undefined ? "" : JSON.stringify(answer.body);
  res.writeHead(answer.status, { ...(text ? { "content-type": "application/json" } : {}), ...answer.headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function startDiscordEmulator(options: DiscordEmulatorOptions = {}): Promise<DiscordEmulator> {
  return new DiscordEmulator(options).start();
}
