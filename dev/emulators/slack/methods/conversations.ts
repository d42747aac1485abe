import { bool, SlackApiError, str } from "../params";
import { NON_MARKETPLACE_HISTORY_LIMIT, rate } from "../rate-limits";
import type { Channel } from "../world";
import { messageJson, messageMetadata, resolveChannel } from "./chat";
import type { MethodContext, MethodDef } from "./method";

function channelJson(ctx: MethodContext, channel: Channel): Record<string, unknown> {
  if (channel.isIm) {
    return { id: channel.id, created: channel.created, is_im: true, is_org_shared: false, user: channel.imUser, is_open: true };
  }
  return {
    id: channel.id,
    name: channel.name,
    is_channel: !channel.isPrivate && !channel.isMpim,
    is_group: channel.isPrivate && !channel.isMpim,
    is_im: false,
    is_mpim: channel.isMpim,
    is_private: channel.isPrivate,
    is_archived: channel.archived,
    is_member: channel.botIsMember,
    created: channel.created,
    context_team_id: ctx.workspace.id,
  };
}

export const conversationsOpen: MethodDef = {
  scopes: ["im:write", "mpim:write", "channels:manage", "groups:write"],
  rate: rate.tier(3),
  handle(ctx, params) {
    const { world } = ctx.state;
    const users = (str(params, "users") ?? "")
      .split(",")
      .map((u) => u.trim())
      .filter(Boolean);
    const channelId = str(params, "channel");
    if (users.length === 0) {
      if (!channelId) throw new SlackApiError("users_list_not_supplied");
      const channel = world.channel(channelId);
      if (!channel || channel.teamId !== ctx.workspace.id || !(channel.isIm || channel.isMpim)) {
        throw new SlackApiError("channel_not_found");
      }
      return { no_op: true, already_open: true, channel: { id: channel.id } };
    }
    for (const id of users) {
      if (world.user(id)?.teamId !== ctx.workspace.id) throw new SlackApiError("user_not_found");
    }
    if (users.length > 8) throw new SlackApiError("too_many_users");
    const { channel, created } = users.length === 1 ? world.openIm(ctx.workspace.id, users[0]!) : world.openMpim(ctx.workspace.id, users);
    const body = bool(params, "return_im") ? channelJson(ctx, channel) : { id: channel.id };
    return created ? { channel: body } : { no_op: true, already_open: true, channel: body };
  },
};

export const conversationsInfo: MethodDef = {
  scopes: ["channels:read", "groups:read", "im:read", "mpim:read"],
  rate: rate.tier(3),
  handle(ctx, params) {
    return { channel: channelJson(ctx, resolveChannel(ctx, str(params, "channel"), false)) };
  },
};

export const conversationsList: MethodDef = {
  scopes: ["channels:read", "groups:read", "im:read", "mpim:read"],
  rate: rate.tier(2),
  handle(ctx, params) {
    const types = new Set((str(params, "types") ?? "public_channel").split(",").map((t) => t.trim()));
    const excludeArchived = bool(params, "exclude_archived");
    const channels = ctx.state.world.channelsOf(ctx.workspace.id).filter((c) => {
      if (excludeArchived && c.archived) return false;
      if (c.isIm) return types.has("im");
      if (c.isMpim) return types.has("mpim");
      if (c.isPrivate) return types.has("private_channel") && c.botIsMember;
      return types.has("public_channel");
    });
    return { channels: channels.map((c) => channelJson(ctx, c)), response_metadata: { next_cursor: "" } };
  },
};

/**
 * The channel's messages, newest first, between `oldest` and `latest` (exclusive), `limit` at a time (default
 * 100, at most 999; with the non-Marketplace limits default and at most 15) with `has_more`; `include_all_metadata`
 * adds each message's `metadata`. A page with more behind it carries `response_metadata.next_cursor`: passed back as
 * `cursor`, it gives the older messages that follow.
 */
export const conversationsHistory: MethodDef = {
  scopes: ["channels:history", "groups:history", "im:history", "mpim:history"],
  rate: rate.tier(3),
  handle(ctx, params) {
    const channel = resolveChannel(ctx, str(params, "channel"), false);
    if (!channel.isIm && !channel.botIsMember) throw new SlackApiError("not_in_channel");
    const oldest = str(params, "oldest") ?? "0";
    const latest = str(params, "latest");
    const cursor = str(params, "cursor");
    const olderThan = cursor ? cursorTs(cursor) : undefined;
    const [defaultLimit, maxLimit] =
      ctx.state.historyAccess === "non-marketplace" ? [NON_MARKETPLACE_HISTORY_LIMIT, NON_MARKETPLACE_HISTORY_LIMIT] : [100, 999];
    const limit = Math.min(maxLimit, Math.max(1, Number(str(params, "limit") ?? defaultLimit) || defaultLimit));
    const withMetadata = bool(params, "include_all_metadata");
    const matching = ctx.state.messages
      .list(channel.id)
      .filter(
        (m) =>
          !m.ephemeral &&
          Number(m.ts) > Number(oldest) &&
          (latest === undefined || Number(m.ts) < Number(latest)) &&
          (olderThan === undefined || Number(m.ts) < Number(olderThan)),
      )
      .reverse();
    const shown = matching.slice(0, limit);
    const page = shown.map((m) => {
      const metadata = withMetadata ? messageMetadata.get(m) : undefined;
      return { ...messageJson(ctx.state, ctx.workspace, m), ...(metadata ? { metadata } : {}) };
    });
    const hasMore = matching.length > limit;
    return {
      messages: page,
      has_more: hasMore,
      pin_count: 0,
      response_metadata: { next_cursor: hasMore ? nextCursor(shown.at(-1)!.ts) : "" },
    };
  },
};

/** Slack's history cursors read `next_ts:<ts>` once base64-decoded: the page after holds messages older than `ts`. */
function nextCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString("base64");
}

function cursorTs(cursor: string): string {
  const ts = /^next_ts:(\d+\.\d+)$/.exec(Buffer.from(cursor, "base64").toString("utf8"))?.[1];
  if (!ts) throw new SlackApiError("invalid_cursor");
  return ts;
}
