import type { StoredMessage } from "../messages";
import { bool, jsonArg, readContent, SlackApiError, str, type Params } from "../params";
import { rate } from "../rate-limits";
import type { EmulatorState } from "../state";
import type { Channel, Workspace } from "../world";
import type { MethodContext, MethodDef } from "./method";

const WRITE = ["chat:write"];

/**
 * Resolves a `channel` argument the way chat.postMessage does: a conversation id, a `#name`, or a user id
 * (which posts to the app's DM with that user). Private conversations the bot is not in look nonexistent.
 */
export function resolveChannel(ctx: MethodContext, value: string | undefined, allowUserId: boolean): Channel {
  const { world } = ctx.state;
  const teamId = ctx.workspace.id;
  if (!value) throw new SlackApiError("channel_not_found");
  if (/^[UW][A-Z0-9]+$/.test(value)) {
    const user = world.user(value);
    if (!allowUserId || !user || user.teamId !== teamId) throw new SlackApiError("channel_not_found");
    return world.openIm(teamId, user.id).channel;
  }
  const channel = world.channel(value) ?? world.channelByName(teamId, value);
  if (!channel || channel.teamId !== teamId) throw new SlackApiError("channel_not_found");
  if (channel.isPrivate && !channel.botIsMember) throw new SlackApiError("channel_not_found");
  return channel;
}

function assertCanPost(ctx: MethodContext, channel: Channel): void {
  if (channel.archived) throw new SlackApiError("is_archived");
  if (!channel.botIsMember && !ctx.scopes.includes("chat:write.public")) throw new SlackApiError("not_in_channel");
}

/** `metadata` given to chat.postMessage (`{event_type, event_payload}`), returned by conversations.history. */
export const messageMetadata = new WeakMap<StoredMessage, { event_type: string; event_payload: Record<string, unknown> }>();

function readMetadata(params: Params): { event_type: string; event_payload: Record<string, unknown> } | undefined {
  const value = jsonArg(params, "metadata") as { event_type?: unknown; event_payload?: unknown } | undefined;
  if (value === undefined) return undefined;
  if (typeof value?.event_type !== "string" || typeof value.event_payload !== "object" || value.event_payload === null) {
    throw new SlackApiError("invalid_metadata_format");
  }
  return { event_type: value.event_type, event_payload: value.event_payload as Record<string, unknown> };
}

/** A stored message as the Web API returns it. */
export function messageJson(state: EmulatorState, workspace: Workspace, message: StoredMessage): Record<string, unknown> {
  const fromBot = message.user === workspace.botUserId;
  return {
    type: "message",
    ...(message.replyBroadcast ? { subtype: "thread_broadcast" } : {}),
    ...(fromBot ? { bot_id: workspace.botId, app_id: state.appId } : {}),
    text: message.text,
    user: message.user,
    ts: message.ts,
    team: message.teamId,
    ...(message.blocks.length ? { blocks: message.blocks } : {}),
    ...(message.attachments ? { attachments: message.attachments } : {}),
    ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
    ...(fromBot
      ? {
          bot_profile: {
            id: workspace.botId,
            app_id: state.appId,
            name: workspace.botName,
            team_id: workspace.id,
            deleted: false,
          },
        }
      : {}),
  };
}

function findOwnMessage(ctx: MethodContext, params: Params, notMine: string): { channel: Channel; message: StoredMessage } {
  const channel = resolveChannel(ctx, str(params, "channel"), false);
  const ts = str(params, "ts");
  const message = ts ? ctx.state.messages.find(channel.id, ts) : undefined;
  // Ephemerals are not addressable through the Web API; only their response_url can change them.
  if (!message || message.ephemeral) throw new SlackApiError("message_not_found");
  if (message.user !== ctx.workspace.botUserId) throw new SlackApiError(notMine);
  return { channel, message };
}

export const chatPostMessage: MethodDef = {
  scopes: WRITE,
  rate: rate.perChannel,
  handle(ctx, params) {
    const channel = resolveChannel(ctx, str(params, "channel"), true);
    assertCanPost(ctx, channel);
    const content = readContent(params);
    const metadata = readMetadata(params);
    const message = ctx.state.messages.post({
      channel: channel.id,
      teamId: ctx.workspace.id,
      user: ctx.workspace.botUserId,
      text: content.text,
      blocks: content.blocks,
      attachments: content.attachments,
      threadTs: str(params, "thread_ts"),
      replyBroadcast: bool(params, "reply_broadcast"),
    });
    if (metadata) messageMetadata.set(message, metadata);
    return { channel: channel.id, ts: message.ts, message: messageJson(ctx.state, ctx.workspace, message) };
  },
};

export const chatUpdate: MethodDef = {
  scopes: WRITE,
  rate: rate.tier(3),
  handle(ctx, params) {
    const { channel, message } = findOwnMessage(ctx, params, "cant_update_message");
    if (channel.archived) throw new SlackApiError("is_inactive");
    const content = readContent(params);
    // Without `blocks` the old blocks are dropped; without `text` the old fallback text stays.
    ctx.state.messages.replace(message, {
      text: str(params, "text") !== undefined ? content.text : message.text,
      blocks: content.blocks ?? [],
      attachments: content.attachments,
    });
    return {
      channel: channel.id,
      ts: message.ts,
      text: message.text,
      message: messageJson(ctx.state, ctx.workspace, message),
    };
  },
};

export const chatPostEphemeral: MethodDef = {
  scopes: WRITE,
  // The Slack notes put chat.postEphemeral in tier 3 with chat.update; the stricter reading is the safer one here.
  rate: rate.tier(3),
  handle(ctx, params) {
    const channel = resolveChannel(ctx, str(params, "channel"), false);
    assertCanPost(ctx, channel);
    const userId = str(params, "user");
    const user = userId ? ctx.state.world.user(userId) : undefined;
    if (!user || user.teamId !== ctx.workspace.id) throw new SlackApiError("user_not_found");
    if (!ctx.state.world.isMember(channel, user.id)) throw new SlackApiError("user_not_in_channel");
    const content = readContent(params);
    const metadata = readMetadata(params);
    const message = ctx.state.messages.post({
      channel: channel.id,
      teamId: ctx.workspace.id,
      user: ctx.workspace.botUserId,
      text: content.text,
      blocks: content.blocks,
      attachments: content.attachments,
      threadTs: str(params, "thread_ts"),
      ephemeral: { user: user.id },
    });
    return { message_ts: message.ts };
  },
};

export const chatDelete: MethodDef = {
  scopes: WRITE,
  rate: rate.tier(3),
  handle(ctx, params) {
    const { channel, message } = findOwnMessage(ctx, params, "cant_delete_message");
    ctx.state.messages.delete(message);
    return { channel: channel.id, ts: message.ts };
  },
};
