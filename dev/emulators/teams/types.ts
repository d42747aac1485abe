export type ConnectorOperation = "createConversation" | "send" | "reply" | "update" | "getMember" | "pagedMembers";

/**
 * `token` is the managed identity endpoint; `openIdMetadata` and `jwks` are login.botframework.com's
 * documents (faults only: they are not recorded in `calls`); `unknown` is any other path under the serviceUrl.
 */
export type Operation = ConnectorOperation | "token" | "openIdMetadata" | "jwks" | "unknown";

export interface RecordedCall {
  method: string;
  /** Path and query as received (still URL-encoded). The Authorization header is never kept. */
  path: string;
  operation: Operation;
  /** Decoded, exactly as addressed (a channel id may carry `;messageid=`). */
  conversationId?: string;
  activityId?: string;
  body?: unknown;
  status: number;
  /** Epoch milliseconds when the request arrived. */
  at: number;
}

export type FaultStatus = 200 | 401 | 403 | 404 | 412 | 429 | 500 | 502 | 503 | 504;

export interface FaultSpec {
  /** Unset: any operation. */
  operation?: Operation;
  /** Unset: any conversation. Matched with or without `;messageid=`. */
  conversationId?: string;
  /** 200 with `delayMs` only slows the real answer down. */
  status: FaultStatus;
  /** Close the connection without answering (what a refused or reset connection looks like to the client); `status` is then unused. */
  disconnect?: boolean;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSec?: number;
  /** Error code in the body, e.g. BotNotInConversationRoster, ConversationNotFound, MessageWritesBlocked. */
  code?: string;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Only every n-th matching request fails (the others pass untouched): throttling on a share of calls. */
  every?: number;
  delayMs?: number;
}

export interface TeamsUser {
  /** The Teams user id, `29:…`. */
  id: string;
  aadObjectId: string;
  email: string;
  userPrincipalName: string;
  name: string;
  givenName?: string;
  surname?: string;
  tenantId: string;
}

export type ConversationType = "personal" | "channel" | "groupChat";

export interface TeamsConversation {
  id: string;
  type: ConversationType;
  tenantId: string;
  /** Channels only. */
  teamId?: string;
  /** Channel name; the General channel has none, like in Teams' channel list. */
  name?: string;
}

export interface TeamsChannel {
  id: string;
  teamId: string;
  name?: string;
}

export interface TeamsTeam {
  /** Equals the General channel's conversation id. */
  teamId: string;
  name: string;
  aadGroupId: string;
  generalChannelId: string;
  channels: TeamsChannel[];
}

/** A conversation id, or anything that carries one (a channel, a conversation, a team's General channel). */
export type ConversationRef = string | { id: string } | { generalChannelId: string };
export type TeamRef = string | { teamId: string };

export interface StoredMessage {
  /** The conversation without `;messageid=`. */
  conversationId: string;
  activityId: string;
  /** Channel thread root when the message is a reply in a thread. */
  threadId?: string;
  /** The activity as the bot last sent it, with `id` set. */
  activity: Record<string, unknown>;
  /** How many times the bot updated it (PUT). */
  updates: number;
}

/** Minimal Bot Framework activity shape, loose on purpose: tests also send malformed ones. */
export type Activity = Record<string, unknown> & { type: string; serviceUrl?: string };

export interface BotResponse {
  status: number;
  /** Parsed JSON, or `undefined` when the body is empty or not JSON. */
  body: unknown;
  text: string;
}
