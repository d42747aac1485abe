import { randomInt } from "node:crypto";
import { readBlocks, isObject } from "../blocks";
import { slackId } from "../ids";
import { jsonArg, SlackApiError, str, type Params } from "../params";
import { rate } from "../rate-limits";
import type { OpenedView } from "../state";
import type { MethodContext, MethodDef } from "./method";

function invalidArgument(message: string): SlackApiError {
  return new SlackApiError("invalid_arguments", { response_metadata: { messages: [message] } });
}

function readView(params: Params): Record<string, unknown> {
  const view = jsonArg(params, "view");
  if (!isObject(view)) throw invalidArgument("missing required field: view");
  if (view.type !== "modal" && view.type !== "home") throw invalidArgument("must be one of modal, home [json-pointer:/view/type]");
  const blocks = readBlocks(view.blocks ?? []);
  if (!blocks.ok) throw new SlackApiError(blocks.error, blocks.errors ? { errors: blocks.errors } : {});
  return { ...view, blocks: blocks.blocks ?? [] };
}

function viewJson(ctx: MethodContext, opened: OpenedView): Record<string, unknown> {
  return {
    id: opened.id,
    team_id: opened.teamId,
    callback_id: "",
    private_metadata: "",
    external_id: opened.externalId ?? "",
    state: { values: {} },
    clear_on_close: false,
    notify_on_close: false,
    ...opened.view,
    hash: opened.hash,
    root_view_id: opened.id,
    previous_view_id: null,
    app_id: ctx.state.appId,
    bot_id: ctx.workspace.botId,
  };
}

const newHash = () => `${Math.floor(Date.now() / 1000)}.${randomInt(1e8, 1e9)}`;

export const viewsOpen: MethodDef = {
  rate: rate.tier(4),
  handle(ctx, params) {
    const triggerId = str(params, "trigger_id");
    const view = readView(params);
    const exchange = triggerId ? ctx.state.interactions.exchangeTrigger(triggerId, ctx.workspace.id) : { result: "invalid" as const };
    if (exchange.result === "invalid") throw invalidArgument("invalid `trigger_id`");
    if (exchange.result === "expired") throw new SlackApiError("expired_trigger_id");
    if (exchange.result === "exchanged") throw new SlackApiError("trigger_exchanged");
    const externalId = typeof view.external_id === "string" && view.external_id ? view.external_id : undefined;
    if (externalId && ctx.state.views.some((v) => v.teamId === ctx.workspace.id && v.externalId === externalId)) {
      throw new SlackApiError("duplicate_external_id");
    }
    const opened: OpenedView = {
      id: slackId("V"),
      teamId: ctx.workspace.id,
      userId: exchange.userId!,
      externalId,
      hash: newHash(),
      view,
      openedAt: ctx.state.clock.now(),
      updates: 0,
    };
    ctx.state.views.push(opened);
    return { view: viewJson(ctx, opened) };
  },
};

export const viewsUpdate: MethodDef = {
  rate: rate.tier(4),
  handle(ctx, params) {
    const viewId = str(params, "view_id");
    const externalId = str(params, "external_id");
    const opened = ctx.state.views.find(
      (v) => v.teamId === ctx.workspace.id && (viewId ? v.id === viewId : externalId !== undefined && v.externalId === externalId),
    );
    if (!opened) throw new SlackApiError("not_found");
    const hash = str(params, "hash");
    if (hash !== undefined && hash !== opened.hash) throw new SlackApiError("hash_conflict");
    opened.view = readView(params);
    opened.hash = newHash();
    opened.updates += 1;
    return { view: viewJson(ctx, opened) };
  },
};
