import { setTimeout as sleep } from "node:timers/promises";
import { isObject } from "./blocks";
import type { FaultSpec } from "./faults";
import { tokens as newToken } from "./ids";
import { authTest } from "./methods/auth";
import { chatDelete, chatPostEphemeral, chatPostMessage, chatUpdate } from "./methods/chat";
import { conversationsHistory, conversationsInfo, conversationsList, conversationsOpen } from "./methods/conversations";
import type { MethodDef } from "./methods/method";
import { usersInfo, usersLookupByEmail } from "./methods/users";
import { viewsOpen, viewsUpdate } from "./methods/views";
import { basicCredentials, oauthV2Access } from "./oauth";
import { SlackApiError, str, type Params } from "./params";
import { rate } from "./rate-limits";
import type { EmulatorState } from "./state";

export const METHODS: Readonly<Record<string, MethodDef>> = {
  "auth.test": authTest,
  "chat.postMessage": chatPostMessage,
  "chat.update": chatUpdate,
  "chat.postEphemeral": chatPostEphemeral,
  "chat.delete": chatDelete,
  "conversations.open": conversationsOpen,
  "conversations.info": conversationsInfo,
  "conversations.list": conversationsList,
  "conversations.history": conversationsHistory,
  "users.info": usersInfo,
  "users.lookupByEmail": usersLookupByEmail,
  "views.open": viewsOpen,
  "views.update": viewsUpdate,
};

export interface ApiRequest {
  method: string;
  params: Params;
  /** Raw `Authorization` header. */
  authorization?: string;
  /** JSON bodies must carry the token in the header; form bodies may also send a `token` field. */
  jsonBody: boolean;
  /** Set when the body could not be read (`invalid_json`, `invalid_form_data`, …). */
  parseError?: string;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Outcome = { status: number; body: Record<string, unknown> | string; headers?: Record<string, string> };

export async function handleApiCall(state: EmulatorState, request: ApiRequest): Promise<HttpAnswer> {
  const { method, params } = request;
  const bearer = request.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = bearer ?? (request.jsonBody ? undefined : str(params, "token"));
  const tokenTeam = state.tokens.teamOf(token);

  const outcome = await answer(state, request, token);
  const body = typeof outcome.body === "string" ? outcome.body : JSON.stringify(outcome.body);
  const json = typeof outcome.body === "string" ? undefined : outcome.body;
  const ok = json?.ok === true;
  const error = json?.error as string | undefined;
  // oauth.v2.access carries no bot token; its answer names the workspace.
  const teamId = tokenTeam ?? (isObject(json?.team) && typeof json.team.id === "string" ? json.team.id : undefined);

  const { token: _token, client_secret: _secret, ...logged } = params;
  state.calls.push({ method, teamId, params: logged, ok, ...(error ? { error } : {}), httpStatus: outcome.status, at: state.clock.now() });
  state.log(`${method} ${teamId ?? "-"} → ${outcome.status} ${ok ? "ok" : (error ?? "")}`);

  return {
    status: outcome.status,
    headers: {
      "content-type": typeof outcome.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8",
      "x-slack-req-id": newToken.requestId(),
      ...outcome.headers,
    },
    body,
  };
}

async function answer(state: EmulatorState, request: ApiRequest, token: string | undefined): Promise<Outcome> {
  const { method, params } = request;
  const fault = state.faults.take(method, str(params, "channel"));
  if (fault?.delayMs) await sleep(fault.delayMs);
  if (fault && (fault.error !== undefined || fault.httpStatus !== undefined)) return faultOutcome(fault);

  if (request.parseError) return failure(request.parseError);
  try {
    if (method === "oauth.v2.access") {
      return ok(oauthV2Access(state, params, basicCredentials(request.authorization)));
    }
    const def = METHODS[method];
    if (!def) return { status: 200, body: { ok: false, error: "unknown_method", req_method: method } };

    const auth = state.tokens.check(token);
    if (!auth.ok) return failure(auth.error);
    const workspace = state.world.requireWorkspace(auth.teamId);
    const scopeHeaders = {
      "x-oauth-scopes": auth.scopes.join(","),
      "x-accepted-oauth-scopes": (def.scopes ?? []).join(","),
    };
    if (def.scopes && !def.scopes.some((s) => auth.scopes.includes(s))) {
      return { ...failure("missing_scope", { needed: def.scopes.join(","), provided: auth.scopes.join(",") }), headers: scopeHeaders };
    }
    // Posting to a user id lands in the DM, so both spellings share the DM's per-channel budget.
    const channel = str(params, "channel");
    const channelKey = channel && /^[UW]/.test(channel) ? state.world.imId(workspace.id, channel) : channel;
    const lowerHistoryLimits = method === "conversations.history" && state.historyAccess === "non-marketplace";
    const retryAfter = lowerHistoryLimits
      ? state.limiter.check(rate.tier(1), method, workspace.id, channelKey, { always: true })
      : state.limiter.check(def.rate, method, workspace.id, channelKey);
    if (retryAfter !== undefined) return rateLimited(retryAfter);

    return { ...ok(def.handle({ state, workspace, scopes: auth.scopes }, params)), headers: scopeHeaders };
  } catch (error) {
    if (error instanceof SlackApiError) return failure(error.code, error.extra);
    throw error;
  }
}

const ok = (result: Record<string, unknown>): Outcome => ({ status: 200, body: { ok: true, ...result } });

const failure = (error: string, extra: Record<string, unknown> = {}): Outcome => ({
  status: 200,
  body: { ok: false, error, ...extra },
});

const rateLimited = (retryAfterSec: number | undefined): Outcome => ({
  status: 429,
  body: { ok: false, error: "ratelimited" },
  ...(retryAfterSec !== undefined ? { headers: { "retry-after": String(retryAfterSec) } } : {}),
});

function faultOutcome(fault: FaultSpec): Outcome {
  const retryHeader = fault.retryAfterSec !== undefined ? { "retry-after": String(fault.retryAfterSec) } : undefined;
  if (fault.httpStatus !== undefined) {
    return { status: fault.httpStatus, body: `upstream error ${fault.httpStatus}`, headers: retryHeader };
  }
  if (fault.error === "ratelimited") return rateLimited(fault.withoutRetryAfter ? undefined : (fault.retryAfterSec ?? 1));
  return { ...failure(fault.error!), headers: retryHeader };
}
