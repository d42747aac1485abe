import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { Config } from "../config";
import { BodyTooLargeError, readBody } from "../http";
import { verifySlackRequest } from "./verify-request";

/** Slack's own payloads are small; anything larger is not from Slack. */
const MAX_SLACK_BODY_BYTES = 64 * 1024;

export type VerifiedBody = { ok: true; raw: string } | { ok: false; response: HttpResponseInit };

/** Reads the raw body once and checks Slack's signature over exactly those bytes, before any parsing. */
export async function readVerifiedSlackBody(request: HttpRequest, config: Config, context: InvocationContext): Promise<VerifiedBody> {
  if (!config.slack) return { ok: false, response: refused(context, 404, "Slack is not configured on this app") };
  let raw: string;
  try {
    raw = await readBody(request, MAX_SLACK_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return { ok: false, response: refused(context, 413, "body too large") };
    throw error;
  }
  const verdict = verifySlackRequest({
    signingSecret: config.slack.signingSecret,
    rawBody: raw,
    timestampHeader: request.headers.get("x-slack-request-timestamp"),
    signatureHeader: request.headers.get("x-slack-signature"),
  });
  if (!verdict.ok) return { ok: false, response: refused(context, 401, verdict.reason) };
  return { ok: true, raw };
}

export function refused(context: InvocationContext, status: number, reason: string): HttpResponseInit {
  context.warn(`Slack request refused (${status}): ${reason}`);
  return { status };
}
