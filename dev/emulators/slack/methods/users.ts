import { SlackApiError, str } from "../params";
import { rate } from "../rate-limits";
import type { User } from "../world";
import type { MethodContext, MethodDef } from "./method";

/** A user object; the email and its confirmation are only visible to tokens with `users:read.email`, as on Slack. */
function userJson(ctx: MethodContext, user: User): Record<string, unknown> {
  const canSeeEmail = ctx.scopes.includes("users:read.email");
  const showEmail = user.email !== undefined && canSeeEmail;
  return {
    id: user.id,
    team_id: user.teamId,
    name: user.name,
    deleted: false,
    real_name: user.realName,
    is_admin: false,
    is_owner: false,
    is_bot: user.isBot,
    is_app_user: false,
    ...(canSeeEmail && !user.isBot ? { is_email_confirmed: user.emailVerified } : {}),
    profile: {
      ...(user.isBot ? { bot_id: ctx.workspace.botUserId === user.id ? ctx.workspace.botId : `B${user.id.slice(1)}` } : {}),
      real_name: user.realName,
      display_name: user.displayName,
      ...(showEmail ? { email: user.email } : {}),
      team: user.teamId,
    },
  };
}

export const usersInfo: MethodDef = {
  scopes: ["users:read"],
  rate: rate.tier(4),
  handle(ctx, params) {
    const id = str(params, "user");
    const user = id ? ctx.state.world.user(id) : undefined;
    if (!user || user.teamId !== ctx.workspace.id) throw new SlackApiError("user_not_found");
    return { user: userJson(ctx, user) };
  },
};

export const usersLookupByEmail: MethodDef = {
  scopes: ["users:read.email"],
  rate: rate.tier(3),
  handle(ctx, params) {
    const email = str(params, "email");
    const user = email ? ctx.state.world.userByEmail(ctx.workspace.id, email) : undefined;
    if (!user) throw new SlackApiError("users_not_found");
    return { user: userJson(ctx, user) };
  },
};
