// The Bot Connector REST v3 subset the app uses, served under the emulator's serviceUrl.
import { messageWritesBlockedReply } from "./faults.js";
import { errorReply, isRecord, type Reply } from "./http.js";
import type { World } from "./world.js";
import type { ConnectorOperation, TeamsConversation, TeamsUser } from "./types.js";

export interface ConnectorRoute {
  operation: ConnectorOperation | "unknown";
  conversationId?: string;
  activityId?: string;
  memberId?: string;
}

/** Matches a path relative to the serviceUrl, e.g. `v3/conversations/a%3A1…/activities`. */
export function matchConnectorRoute(method: string, relativePath: string): ConnectorRoute {
  let segments: string[];
  try {
    segments = relativePath.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { operation: "unknown" };
  }
  const [version, collection, conversationId, resource, id, ...rest] = segments;
  if (version !== "v3" || collection !== "conversations" || rest.length > 0) return { operation: "unknown" };
  if (conversationId === undefined) return { operation: method === "POST" ? "createConversation" : "unknown" };

  const key = `${method} ${resource ?? ""}${id === undefined ? "" : "/:id"}`;
  const operation = (
    {
      "POST activities": "send",
      "POST activities/:id": "reply",
      "PUT activities/:id": "update",
      "GET members/:id": "getMember",
      "GET pagedmembers": "pagedMembers",
    } as Record<string, ConnectorOperation>
  )[key];
  if (!operation) return { operation: "unknown" };
  if (operation === "getMember") return { operation, conversationId, memberId: id };
  return { operation, conversationId, ...(id === undefined ? {} : { activityId: id }) };
}

export interface ConnectorRequest {
  body: unknown;
  query: URLSearchParams;
}

const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 500;

export class Connector {
  constructor(private readonly world: World) {}

  handle(route: ConnectorRoute, request: ConnectorRequest): Reply {
    const { operation, conversationId } = route;
    if (operation === "createConversation") return this.createConversation(request.body);
    if (operation === "unknown" || conversationId === undefined) {
      return errorReply(404, "NotFound", "No such Bot Connector operation.");
    }

    if (!this.world.hasConversation(conversationId)) {
      return errorReply(404, "ConversationNotFound", `Conversation ${conversationId} not found.`);
    }
    const conversation = this.world.conversation(conversationId);
    if (!this.world.botInstalled(conversation.id)) {
      return conversation.type === "personal"
        ? messageWritesBlockedReply()
        : errorReply(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.");
    }

    switch (operation) {
      case "send":
        return this.post(conversation, conversationId, request.body, undefined);
      case "reply":
        return this.post(conversation, conversationId, request.body, route.activityId);
      case "update":
        return this.update(conversation, route.activityId ?? "", request.body);
      case "getMember":
        return this.getMember(conversation, route.memberId ?? "");
      case "pagedMembers":
        return this.pagedMembers(conversation, request.query);
    }
  }

  private createConversation(body: unknown): Reply {
    if (!isRecord(body)) return badArgument("Expected ConversationParameters");
    const channelData = isRecord(body.channelData) ? body.channelData : {};
    const tenantId = typeof body.tenantId === "string" ? body.tenantId : (recordAt(channelData, "tenant")?.id as unknown);
    if (tenantId !== this.world.tenantId) return badArgument("A tenant id of this tenant is required (tenantId or channelData.tenant.id)");

    if (body.isGroup === true) return this.createChannelThread(channelData, body.activity);

    const members = Array.isArray(body.members) ? body.members : [];
    const memberId = isRecord(members[0]) ? members[0].id : undefined;
    if (members.length !== 1 || typeof memberId !== "string") {
      return badArgument("Bots can only create 1:1 conversations: pass exactly one member");
    }
    // Proactive 1:1 accepts the Teams id or the Entra object id, never a UPN or email.
    const user = this.world.findUser(memberId);
    if (!user || (user.id !== memberId && user.aadObjectId.toLowerCase() !== memberId.toLowerCase())) {
      return badArgument(`Member ${memberId} not found in tenant`);
    }
    const conversation = this.world.personalConversation(user);
    if (body.activity === undefined) return { status: 201, body: { id: conversation.id } };
    const posted = this.post(conversation, conversation.id, body.activity, undefined);
    if (posted.status !== 201 || !isRecord(posted.body)) return posted;
    return { status: 201, body: { id: conversation.id, activityId: posted.body.id } };
  }

  /** `isGroup: true` with `channelData.channel.id` starts a new thread in that channel. */
  private createChannelThread(channelData: Record<string, unknown>, activity: unknown): Reply {
    const channelId = recordAt(channelData, "channel")?.id;
    if (typeof channelId !== "string" || !this.world.hasConversation(channelId)) {
      return badArgument("Bots cannot create group chats; isGroup needs channelData.channel.id of a channel");
    }
    const channel = this.world.conversation(channelId);
    if (channel.type !== "channel") return badArgument("Bots cannot create group chats");
    if (!this.world.botInstalled(channel.id)) {
      return errorReply(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.");
    }
    const posted = this.post(channel, channel.id, activity, undefined);
    if (posted.status !== 201 || !isRecord(posted.body)) return posted;
    const activityId = String(posted.body.id);
    return { status: 201, body: { id: `${channel.id};messageid=${activityId}`, activityId } };
  }

  private post(conversation: TeamsConversation, addressedId: string, body: unknown, replyToId: string | undefined): Reply {
    if (!isActivity(body)) return badArgument("Activity with a string 'type' expected");
    const activityId = this.world.nextActivityId();
    this.world.addMessage({
      conversationId: conversation.id,
      activityId,
      ...withThread(this.threadOf(conversation, addressedId, replyToId)),
      activity: { ...body, ...(replyToId !== undefined && body.replyToId === undefined ? { replyToId } : {}), id: activityId },
      updates: 0,
    });
    return { status: 201, body: { id: activityId } };
  }

  private update(conversation: TeamsConversation, activityId: string, body: unknown): Reply {
    const message = this.world.message(conversation.id, activityId);
    if (!message) return errorReply(404, "NotFound", `Activity ${activityId} not found in conversation.`);
    if (!isActivity(body)) return badArgument("Activity with a string 'type' expected");
    message.activity = { ...body, id: activityId };
    message.updates += 1;
    this.world.messageChanged(message);
    return { status: 200, body: { id: activityId } };
  }

  private getMember(conversation: TeamsConversation, memberId: string): Reply {
    const member = this.world.findMember(conversation.id, memberId);
    if (!member) return errorReply(404, "MemberNotFoundInConversation", "The member was not found in the conversation.");
    return { status: 200, body: teamsChannelAccount(member) };
  }

  private pagedMembers(conversation: TeamsConversation, query: URLSearchParams): Reply {
    const pageSize = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(query.get("pageSize")) || DEFAULT_PAGE_SIZE));
    const token = query.get("continuationToken");
    const offset = token ? decodeContinuation(token) : 0;
    if (offset === undefined) return badArgument("Invalid continuationToken");

    const all = this.world.members(conversation.id);
    const page = all.slice(offset, offset + pageSize);
    const next = offset + page.length;
    return {
      status: 200,
      body: { members: page.map(teamsChannelAccount), ...(next < all.length ? { continuationToken: encodeContinuation(next) } : {}) },
    };
  }

  /** Thread of a channel message: from `;messageid=`, else the replied-to message's thread, else a new root. */
  private threadOf(conversation: TeamsConversation, addressedId: string, replyToId: string | undefined): string | undefined {
    if (conversation.type !== "channel") return undefined;
    const addressedThread = /;messageid=(\d+)/.exec(addressedId)?.[1];
    if (addressedThread) return addressedThread;
    if (replyToId === undefined) return undefined;
    return this.world.message(conversation.id, replyToId)?.threadId ?? replyToId;
  }
}

export function teamsChannelAccount(user: TeamsUser): Record<string, unknown> {
  return {
    id: user.id,
    name: user.name,
    aadObjectId: user.aadObjectId,
    ...(user.givenName ? { givenName: user.givenName } : {}),
    ...(user.surname ? { surname: user.surname } : {}),
    email: user.email,
    userPrincipalName: user.userPrincipalName,
    tenantId: user.tenantId,
    userRole: "user",
  };
}

const badArgument = (message: string): Reply => errorReply(400, "BadArgument", message);

const isActivity = (body: unknown): body is Record<string, unknown> & { type: string } => isRecord(body) && typeof body.type === "string";

function recordAt(record: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = record[key];
  return isRecord(value) ? value : undefined;
}

const withThread = (threadId: string | undefined): { threadId?: string } => (threadId === undefined ? {} : { threadId });

const encodeContinuation = (offset: number): string => Buffer.from(`members:${offset}`).toString("base64url");

function decodeContinuation(token: string): number | undefined {
  const match = /^members:(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  return match ? Number(match[1]) : undefined;
}
