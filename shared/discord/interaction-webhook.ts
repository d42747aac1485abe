import { setTimeout as sleep } from "node:timers/promises";
import type { DiscordRest, DiscordResult } from "./rest";

/** A late answer waits out a 429 or a failed attempt this many times before giving up (the token lives 15 minutes). */
const ATTEMPTS = 3;
const MAX_WAIT_SECONDS = 5;

/**
 * The webhook an interaction's token opens once it has been answered: `PATCH …/messages/@original` edits the
 * original response (after DEFERRED_UPDATE_MESSAGE, the message the component is on), `POST` sends a followup.
 * Works for 15 minutes after the interaction.
 */
export class InteractionWebhook {
  private readonly path: string;

  constructor(
    private readonly rest: DiscordRest,
    applicationId: string,
    token: string,
  ) {
    this.path = `/webhooks/${applicationId}/${encodeURIComponent(token)}`;
  }

  editOriginal(message: unknown): Promise<DiscordResult<unknown>> {
    return this.send("PATCH", `${this.path}/messages/@original`, message, true);
  }

  followup(message: unknown): Promise<DiscordResult<unknown>> {
    // Not re-sent after no answer: the first may have landed, and a second followup would show twice.
    return this.send("POST", this.path, message, false);
  }

  private async send(method: string, path: string, body: unknown, idempotent: boolean): Promise<DiscordResult<unknown>> {
    let result: DiscordResult<unknown> = { kind: "unanswered", error: undefined };
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      result = await this.rest.request(method, path, body);
      const retryable =
        result.kind === "throttled" || (result.kind === "unanswered" && idempotent) || (result.kind === "error" && result.status >= 500);
      if (!retryable || attempt === ATTEMPTS) return result;
      await sleep(1000 * Math.min(MAX_WAIT_SECONDS, result.kind === "throttled" ? result.retryAfterSeconds : attempt));
    }
    return result;
  }
}
