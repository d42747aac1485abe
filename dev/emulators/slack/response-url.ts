import { setTimeout as sleep } from "node:timers/promises";
import { isObject } from "./blocks";
import { RESPONSE_URL_MAX_USES, RESPONSE_URL_TTL_MS, type ResponseUrlState } from "./interactions";
import { bool, readContent, SlackApiError, str } from "./params";
import type { EmulatorState } from "./state";
import type { HttpAnswer } from "./web-api";

/**
 * POST /response/<id>: what hooks.slack.com does with a response_url. Failures are short plain-text bodies
 * with a 4xx status (`used_url` / `expired_url` are 404s), successes `{"ok":true}`.
 */
export async function handleResponseUrlPost(state: EmulatorState, id: string, rawBody: string): Promise<HttpAnswer> {
  const target = state.interactions.responseUrl(id);
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    body = rawBody;
  }
  const answer = await respond(state, target, body);
  state.responses.push({ responseUrlId: id, body, status: answer.status, at: state.clock.now() });
  state.log(`response_url ${id.slice(0, 6)}… → ${answer.status} ${answer.body}`);
  return answer;
}

async function respond(state: EmulatorState, target: ResponseUrlState | undefined, body: unknown): Promise<HttpAnswer> {
  const fault = state.faults.take("response_url", target?.channel);
  if (fault?.delayMs) await sleep(fault.delayMs);
  if (fault?.httpStatus !== undefined) return text(fault.httpStatus, `upstream error ${fault.httpStatus}`);
  if (fault?.error !== undefined) return text(fault.error === "used_url" || fault.error === "expired_url" ? 404 : 400, fault.error);

  if (!target) return text(404, "no_service");
  if (state.clock.now() - target.issuedAt > RESPONSE_URL_TTL_MS) return text(404, "expired_url");
  if (target.uses >= RESPONSE_URL_MAX_USES) return text(404, "used_url");
  if (!isObject(body)) return text(400, "invalid_payload");

  try {
    apply(state, target, body);
  } catch (error) {
    if (error instanceof SlackApiError) return text(400, error.code);
    throw error;
  }
  target.uses += 1;
  return { status: 200, headers: { "content-type": "application/json; charset=utf-8" }, body: JSON.stringify({ ok: true }) };
}

function apply(state: EmulatorState, target: ResponseUrlState, body: Record<string, unknown>): void {
  const source = target.messageTs ? state.messages.find(target.channel, target.messageTs) : undefined;
  if (bool(body, "delete_original")) {
    if (source) state.messages.delete(source);
    return;
  }
  const content = readContent(body);
  if (bool(body, "replace_original") && source) {
    state.messages.replace(source, { text: content.text, blocks: content.blocks ?? [], attachments: content.attachments });
    return;
  }
  const workspace = state.world.requireWorkspace(target.teamId);
  // Slack's default response_type for a response_url is ephemeral.
  const inChannel = str(body, "response_type") === "in_channel";
  state.messages.post({
    channel: target.channel,
    teamId: target.teamId,
    user: workspace.botUserId,
    text: content.text,
    blocks: content.blocks,
    attachments: content.attachments,
    threadTs: str(body, "thread_ts"),
    ...(inChannel ? {} : { ephemeral: { user: target.userId } }),
  });
}

function text(status: number, body: string): HttpAnswer {
  return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body };
}
