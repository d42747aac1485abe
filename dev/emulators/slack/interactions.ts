import type { Clock } from "./clock";
import { tokens } from "./ids";

/** trigger_ids expire 3 seconds after Slack sends them and can be exchanged once. */
export const TRIGGER_TTL_MS = 3_000;
/** A response_url accepts up to 5 posts within 30 minutes. */
export const RESPONSE_URL_MAX_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;

export type TriggerCheck = "ok" | "invalid" | "expired" | "exchanged";

interface Trigger {
  teamId: string;
  userId: string;
  issuedAt: number;
  used: boolean;
}

/** What a response_url points back at: the clicked message, or only a channel for slash commands. */
export interface ResponseTarget {
  teamId: string;
  channel: string;
  userId: string;
  messageTs?: string;
  /** Whether the source message is an ephemeral, which only a response_url can change. */
  ephemeralSource?: boolean;
}

export interface ResponseUrlState extends ResponseTarget {
  id: string;
  issuedAt: number;
  uses: number;
}

export class Interactions {
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, ResponseUrlState>();

  constructor(private readonly clock: Clock) {}

  issueTrigger(teamId: string, userId: string): string {
    const id = tokens.trigger();
    this.triggers.set(id, { teamId, userId, issuedAt: this.clock.now(), used: false });
    return id;
  }

  /** Checks a trigger_id and, when valid, marks it exchanged. */
  exchangeTrigger(triggerId: string, teamId: string): { result: TriggerCheck; userId?: string } {
    const trigger = this.triggers.get(triggerId);
    if (!trigger || trigger.teamId !== teamId) return { result: "invalid" };
    if (trigger.used) return { result: "exchanged" };
    if (this.clock.now() - trigger.issuedAt > TRIGGER_TTL_MS) return { result: "expired" };
    trigger.used = true;
    return { result: "ok", userId: trigger.userId };
  }

  issueResponseUrl(target: ResponseTarget): ResponseUrlState {
    const state: ResponseUrlState = { ...target, id: tokens.responseUrl(), issuedAt: this.clock.now(), uses: 0 };
    this.responseUrls.set(state.id, state);
    return state;
  }

  responseUrl(id: string): ResponseUrlState | undefined {
    return this.responseUrls.get(id);
  }
}
