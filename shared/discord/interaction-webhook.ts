import { setTimeout as sleep } from "node:timers/promises";
import type { DiscordRest, DiscordResult } from "./rest";
import { requestNeverSent } from "../http";

/**
 * A late answer's tries, and the redraws before them, are over this long after the first starts: the token lives 15
 * minutes, but the click's work is open until they end (its clicked copy is recorded once the edit's outcome is known,
 * if the instance lives that long), and a clicked copy whose edit never went through is redrawn by the card refresh.
 */
export const RETRY_BUDGET_MS = 15_000;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 4_000;

export type WebhookFailure = Exclude<DiscordResult<unknown>, { kind: "ok" }>;

export interface EditOptions {
  /**
   * The body for each try after a failed one, drawn when it goes: a late try carries the state as it is by then,
   * never the older one the first try drew (which may meanwhile have been replaced by a newer one).
   */
  redraw?: () => Promise<unknown>;
}

export interface InteractionWebhookOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The backoff's jitter, in [0, 1). */
  random?: () => number;
}

/**
 * The webhook an interaction's token opens once it has been answered: `PATCH …/messages/@original` edits the
 * original response (after DEFERRED_UPDATE_MESSAGE, the message the component is on), `POST` sends a followup.
 * Works for 15 minutes after the interaction. A transient failure is tried again with a short backoff (`retryWaitMs`),
 * everything over within RETRY_BUDGET_MS: a try still unanswered then is given up, and a redraw not done by then ends
 * the tries; an edit tried again can be drawn afresh (`EditOptions.redraw`).
 */
export class InteractionWebhook {
  private readonly path: string;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly rest: DiscordRest,
    applicationId: string,
    token: string,
    options: InteractionWebhookOptions = {},
  ) {
    this.path = `/webhooks/${applicationId}/${encodeURIComponent(token)}`;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
    this.random = options.random ?? Math.random;
  }

  editOriginal(message: unknown, { redraw }: EditOptions = {}): Promise<DiscordResult<unknown>> {
    return this.send("PATCH", `${this.path}/messages/@original`, message, { idempotent: true, redraw });
  }

  followup(message: unknown): Promise<DiscordResult<unknown>> {
    return this.send("POST", this.path, message, { idempotent: false });
  }

  private async send(
    method: string,
    path: string,
    first: unknown,
    { idempotent, redraw }: { idempotent: boolean } & EditOptions,
  ): Promise<DiscordResult<unknown>> {
    const started = this.now();
    const timeLeft = () => started + RETRY_BUDGET_MS - this.now();
    let body = first;
    for (let failedAttempts = 1; ; failedAttempts++) {
      const result = await this.rest.request(method, path, body, { timeoutMs: timeLeft() });
      if (result.kind === "ok") return result;
      const wait = retryWaitMs(result, { idempotent, failedAttempts, elapsedMs: this.now() - started }, this.random);
      if (wait === undefined) return result;
      await this.sleep(wait);
      if (redraw) {
        const drawn = await settledWithin(redraw(), timeLeft());
        if (!drawn.settled || timeLeft() <= 0) return result;
        body = drawn.value;
      }
    }
  }
}

/** What `work` settled with, if it did within `ms` (a rejection is thrown); else `{ settled: false }`. */
async function settledWithin<T>(work: Promise<T>, ms: number): Promise<{ settled: true; value: T } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ settled: false }>((resolve) => (timer = setTimeout(() => resolve({ settled: false }), Math.max(0, ms))));
  try {
    return await Promise.race([work.then((value) => ({ settled: true as const, value })), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long to wait before trying a failed interaction-webhook request again; `undefined` when the failure is
 * final. An edit (idempotent) is tried again after any transient failure. A followup is a new message each time
 * (Execute Webhook takes no nonce), so it is sent again only when Discord can't have posted it: the connection
 * was never made, a 429, or a 502 (Discord documents 502 as "no gateway available to process your request,
 * wait a bit and retry"); after any other 5xx, a reset or a timeout it may have been posted, and would show twice.
 * Other 4xx (404 Unknown Webhook: the token expired) are final.
 */
export function retryWaitMs(
  failure: WebhookFailure,
  request: { idempotent: boolean; failedAttempts: number; elapsedMs: number },
  random: () => number = Math.random,
): number | undefined {
  if (!worthRetrying(failure, request.idempotent)) return undefined;
  const wait =
    failure.kind === "throttled" ? Math.max(FIRST_BACKOFF_MS / 2, failure.retryAfterSeconds * 1000) : backoffMs(request.failedAttempts, random);
  return request.elapsedMs + wait < RETRY_BUDGET_MS ? wait : undefined;
}

function worthRetrying(failure: WebhookFailure, idempotent: boolean): boolean {
  const transient = failure.kind !== "error" || failure.status >= 500;
  return transient && (idempotent || !mayHaveBeenApplied(failure));
}

/**
 * Whether Discord may have carried out a request that failed: it was sent and got no answer, or a 5xx other than
 * 502 (documented as "no gateway available to process your request"). A 429, a 4xx or a connection never made
 * changed nothing.
 */
export function mayHaveBeenApplied(failure: WebhookFailure): boolean {
  switch (failure.kind) {
    case "throttled":
      return false;
    case "unanswered":
      return !requestNeverSent(failure.error);
    case "error":
      return failure.status >= 500 && failure.status !== 502;
  }
}

/** Exponential from FIRST_BACKOFF_MS, capped at MAX_BACKOFF_MS; the upper half jittered. */
function backoffMs(failedAttempts: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failedAttempts - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
