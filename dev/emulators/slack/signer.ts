import { createHmac, randomBytes } from "node:crypto";
import { tokens } from "./ids";

/** Slack gives up on a request URL after 3 seconds (the ack deadline). */
export const ACK_DEADLINE_MS = 3_000;

export interface SignOptions {
  /** Unix seconds; default now (wall clock, because the receiving app checks it against its own clock). */
  timestamp?: number | string;
  /** Sign with another secret (a wrong-secret test). */
  secret?: string;
  /** Signature version; Slack only uses `v0`. */
  version?: string;
}

export interface SignatureHeaders {
  "x-slack-request-timestamp": string;
  "x-slack-signature": string;
}

/** `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`). */
export function signSlackRequest(signingSecret: string, body: string, opts: SignOptions = {}): SignatureHeaders {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const version = opts.version ?? "v0";
  const hmac = createHmac("sha256", opts.secret ?? signingSecret)
    .update(`${version}:${timestamp}:${body}`)
    .digest("hex");
  return { "x-slack-request-timestamp": timestamp, "x-slack-signature": `${version}=${hmac}` };
}

export interface DeliveryOptions extends SignOptions {
  /** Extra or replacement headers; `null` removes one (e.g. drop the signature). */
  headers?: Record<string, string | null>;
  /** Send exactly this body instead of the encoded one (it is what gets signed unless `signedBody` is set). */
  rawBody?: string;
  /** Sign this instead of the body sent (a tampered-body test). */
  signedBody?: string;
  /** Abort like Slack after this long; default 3000 ms. A cold app may need more on its first request. */
  timeoutMs?: number;
}

export interface EventDeliveryOptions extends DeliveryOptions {
  /** `X-Slack-Retry-Num`: Slack counts retries from 1. */
  retryNum?: number;
  /** `X-Slack-Retry-Reason`, e.g. `http_timeout`, `http_error`. */
  retryReason?: string;
}

export interface DeliveryResult {
  /** 0 when Slack would have given up (`timedOut`). */
  status: number;
  headers: Record<string, string>;
  text: string;
  json?: unknown;
  elapsedMs: number;
  timedOut: boolean;
}

/** Sends requests to an app's request URLs exactly as Slack does: signed, with Slack's encodings. */
export class SlackSigner {
  constructor(private readonly signingSecret: string) {}

  signature(body: string, opts?: SignOptions): SignatureHeaders {
    return signSlackRequest(this.signingSecret, body, opts);
  }

  /** Interactivity (block_actions, view_submission, …): a form with a single `payload` JSON field. */
  sendInteraction(targetUrl: string, payload: unknown, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.deliver(targetUrl, body, "application/x-www-form-urlencoded", opts);
  }

  /** Slash commands: plain form fields. */
  sendCommand(targetUrl: string, fields: Record<string, string>, opts: DeliveryOptions = {}): Promise<DeliveryResult> {
    return this.deliver(targetUrl, new URLSearchParams(fields).toString(), "application/x-www-form-urlencoded", opts);
  }

  /** Events API: a JSON envelope; retries carry `X-Slack-Retry-Num` / `X-Slack-Retry-Reason`. */
  sendEvent(targetUrl: string, envelope: unknown, opts: EventDeliveryOptions = {}): Promise<DeliveryResult> {
    const retryHeaders: Record<string, string> = {};
    if (opts.retryNum !== undefined) retryHeaders["x-slack-retry-num"] = String(opts.retryNum);
    if (opts.retryReason !== undefined) retryHeaders["x-slack-retry-reason"] = opts.retryReason;
    return this.deliver(targetUrl, JSON.stringify(envelope), "application/json", opts, retryHeaders);
  }

  /** The challenge Slack sends when a Request URL is saved; answer it with the `challenge` value. */
  async sendUrlVerification(targetUrl: string, opts: DeliveryOptions = {}): Promise<DeliveryResult & { challenge: string }> {
    const challenge = randomBytes(24).toString("base64url");
    const body = { token: tokens.verification(), challenge, type: "url_verification" };
    return { ...(await this.deliver(targetUrl, JSON.stringify(body), "application/json", opts)), challenge };
  }

  private async deliver(
    targetUrl: string,
    encodedBody: string,
    contentType: string,
    opts: DeliveryOptions,
    extraHeaders: Record<string, string> = {},
  ): Promise<DeliveryResult> {
    const body = opts.rawBody ?? encodedBody;
    const headers: Record<string, string> = {
      "content-type": contentType,
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      accept: "application/json,*/*",
      ...this.signature(opts.signedBody ?? body, opts),
      ...extraHeaders,
    };
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (value === null) delete headers[name.toLowerCase()];
      else headers[name.toLowerCase()] = value;
    }

    const started = performance.now();
    try {
      const response = await fetch(targetUrl, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(opts.timeoutMs ?? ACK_DEADLINE_MS),
      });
      const text = await response.text();
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        text,
        json: parseJson(text),
        elapsedMs: performance.now() - started,
        timedOut: false,
      };
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") {
        return { status: 0, headers: {}, text: "", elapsedMs: performance.now() - started, timedOut: true };
      }
      throw error;
    }
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
