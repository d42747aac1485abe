// Slack request verification on a realistic body: a block_actions click carrying the message it was
// clicked on, form-encoded as Slack sends it, signed by the Slack emulator's (independent) signer.
import { buildIssueView } from "../shared/cards/view";
import { renderSlackMessage } from "../shared/cards/slack-message";
import { verifySlackRequest } from "../shared/slack/verify-request";
import { signSlackRequest } from "../dev/emulators/slack";
import { anIssue } from "../test/fixtures/issues";
import { people } from "./cards";
import { measureCalls, type MicroResult } from "./micro";

const SECRET = "bench-signing-secret-0123456789abcdef";

export interface VerifyRow {
  body: string;
  bodyBytes: number;
  result: MicroResult;
}

export function measureSlackVerify(progress: (line: string) => void): VerifyRow[] {
  const bodies = [
    { body: "3 KiB form body (the typical size)", rawBody: clickBody({ withMessage: false, padTo: 3 * 1024 }) },
    { body: "a click on our typical card (the payload carries the message)", rawBody: clickBody({ withMessage: true }) },
    { body: "64 KiB (the largest body accepted)", rawBody: clickBody({ withMessage: true, padTo: 64 * 1024 }) },
  ];
  const rows = bodies.map(({ body, rawBody }) => ({ body, bodyBytes: Buffer.byteLength(rawBody), result: verifyTimes(rawBody) }));
  progress("slack verify: done");
  return rows;
}

function verifyTimes(rawBody: string): MicroResult {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = signSlackRequest(SECRET, rawBody, { timestamp });
  const request = {
    signingSecret: SECRET,
    rawBody,
    timestampHeader: headers["x-slack-request-timestamp"],
    signatureHeader: headers["x-slack-signature"],
    nowMs: timestamp * 1000,
  };
  if (!verifySlackRequest(request).ok) throw new Error("the benchmark's signed request does not verify");
  return measureCalls(() => verifySlackRequest(request));
}

/** `payload=<block_actions JSON>`, padded inside `state` (a field Slack really sends) up to `padTo` bytes. */
function clickBody(options: { withMessage: boolean; padTo?: number }): string {
  const message = renderSlackMessage(buildIssueView(anIssue(), { assignChoices: people(3) }));
  const payload = {
    type: "block_actions",
    user: { id: "U0BENCH001", username: "ana", name: "ana", team_id: "T0BENCH01" },
    api_app_id: "A0BENCH01",
    token: "verification-token",
    container: { type: "message", message_ts: "1763740000.000100", channel_id: "C0BENCH01", is_ephemeral: false },
    trigger_id: "1234567890.1234567890.abcdef",
    team: { id: "T0BENCH01", domain: "contoso" },
    channel: { id: "C0BENCH01", name: "alerts" },
    message: { type: "message", ts: "1763740000.000100", text: message.text, blocks: options.withMessage ? message.blocks : [] },
    response_url: "https://hooks.slack.com/actions/T0BENCH01/1234567890/abcdefghijklmnop",
    actions: [{ action_id: "triage.resolve", block_id: "triage:issue-1", type: "button", value: "resolve", action_ts: "1763740001.000200" }],
    state: { values: {}, padding: "" },
  };
  const encode = () => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const shortfall = (options.padTo ?? 0) - encode().length;
  if (shortfall > 0) payload.state.padding = "x".repeat(shortfall);
  return encode();
}
