import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { withSlack, type AppContext, type SlackContext } from "../../context";
import { zodPath } from "../../http";
import { readVerifiedSlackBody, refused } from "../../slack/inbound";
import {
  blockActionsSchema,
  eventEnvelopeSchema,
  slashCommandSchema,
  type BlockActions,
  type EventEnvelope,
  type SlashCommand,
} from "../../slack/payloads";

export type ParsedSlackRequest<T> = { ok: true; payload: T } | { ok: false; response: HttpResponseInit };

type Reader<T> = (raw: string, context: InvocationContext) => ParsedSlackRequest<T>;

const readers = {
  /** A slash command's form. Slack checks the certificate of a command URL with a signed ssl_check request: acknowledged. */
  command: ((raw, context) => {
    const fields = Object.fromEntries(new URLSearchParams(raw));
    if (fields.ssl_check === "1") return { ok: false, response: { status: 200 } };
    const parsed = slashCommandSchema.safeParse(fields);
    if (!parsed.success) return { ok: false, response: refused(context, 400, `slash command malformed at ${zodPath(parsed.error)}`) };
    return { ok: true, payload: parsed.data };
  }) satisfies Reader<SlashCommand>,

  /** A click (`block_actions`) in the form's `payload` field; other interaction types are acknowledged and ignored. */
  interaction: ((raw, context) => {
    let json: unknown;
    try {
      json = JSON.parse(new URLSearchParams(raw).get("payload") ?? "");
    } catch {
      return { ok: false, response: refused(context, 400, "no JSON payload field") };
    }
    const kind = (json as { type?: unknown })?.type;
    if (kind !== "block_actions") {
      context.log(`Slack interaction of type ${String(kind).slice(0, 40)} ignored`);
      return { ok: false, response: { status: 200 } };
    }
    const parsed = blockActionsSchema.safeParse(json);
    if (!parsed.success) return { ok: false, response: refused(context, 400, `block_actions malformed at ${zodPath(parsed.error)}`) };
    return { ok: true, payload: parsed.data };
  }) satisfies Reader<BlockActions>,

  /** An Events API envelope (JSON). */
  event: ((raw, context) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, response: refused(context, 400, "body is not JSON") };
    }
    const parsed = eventEnvelopeSchema.safeParse(json);
    if (!parsed.success) return { ok: false, response: refused(context, 400, `event envelope malformed at ${zodPath(parsed.error)}`) };
    return { ok: true, payload: parsed.data };
  }) satisfies Reader<EventEnvelope>,
};

export type SlackRequestKind = keyof typeof readers;
type PayloadOf<K extends SlackRequestKind> = Extract<ReturnType<(typeof readers)[K]>, { ok: true }>["payload"];

/**
 * One Slack request to an endpoint: the body read once and its signature checked over exactly those bytes
 * (`readVerifiedSlackBody`), then parsed as `kind`. Anything else is answered here (401, 404, 413, 400, or
 * a plain 200 for what Slack sends that needs no work). On success, the context narrowed to Slack.
 */
export async function parseSlackRequest<K extends SlackRequestKind>(
  request: HttpRequest,
  ctx: AppContext,
  context: InvocationContext,
  kind: K,
): Promise<{ ok: true; payload: PayloadOf<K>; slack: SlackContext } | { ok: false; response: HttpResponseInit }> {
  const slack = withSlack(ctx);
  if (!slack) return { ok: false, response: refused(context, 404, "Slack is not configured on this app") };
  const body = await readVerifiedSlackBody(request, ctx.config, context);
  if (!body.ok) return body;
  const read = readers[kind](body.raw, context) as ParsedSlackRequest<PayloadOf<K>>;
  return read.ok ? { ...read, slack } : read;
}
