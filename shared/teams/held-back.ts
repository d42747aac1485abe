import { z } from "zod";
import type { AppContext } from "../context";
import { QUEUES, type StorageClients } from "../storage/clients";
import { ConnectorError, TeamsBudgetSpent, UntrustedServiceUrlError, type OutgoingActivity } from "./connector";
import { teamsThrottleWaitSeconds } from "./pacing";
import { sendToPersonalChat, type ChatRef } from "./personal-chat";

// A Teams message the app owes someone (a command's reply, a welcome card, a private notice, a link prompt) that the
// app's own pacing held back (no slot in the tenant's or the conversation's budget within its wait: Teams never saw
// it) is not dropped: it goes on the `member-sync` queue, visible again when a slot is free, and is sent then, paced
// like every other call. It is given up only when Teams says the conversation is gone or closed to the bot (403/404).
// A message that was held back was not sent, so sending it later makes no double.

const chatSchema = z.object({ serviceUrl: z.url(), conversationId: z.string().min(1) });

/** A `member-sync` message: a Teams message held back by the app's pacing, to send once a slot is free. */
export const heldBackMessageSchema = z.object({
  kind: z.literal("held-back-message"),
  tenantId: z.string().min(1),
  serviceUrl: z.url(),
  to: z.discriminatedUnion("kind", [
    /** Where it was asked for: a channel (thread), a group chat, a 1:1 chat. */
    z.object({ kind: z.literal("conversation"), conversationId: z.string().min(1) }),
    /** One person, privately: in `chat` when given, else their 1:1 chat with the bot (opened when needed). */
    z.object({
      kind: z.literal("person"),
      aadObjectId: z.string().min(1),
      teamsUserId: z.string().min(1).optional(),
      name: z.string().optional(),
      chat: chatSchema.optional(),
    }),
  ]),
  message: z.discriminatedUnion("kind", [
    /** Our own words or card, as they were to go. */
    z.object({
      kind: z.literal("activity"),
      activity: z.looseObject({
        type: z.literal("message"),
        text: z.string().optional(),
        summary: z.string().optional(),
        attachments: z.array(z.object({ contentType: z.string(), content: z.unknown() })).optional(),
      }),
    }),
    /** A link to link their account: made when it is sent (a queue message never carries a link token). */
    z.object({ kind: z.literal("link-prompt"), why: z.string() }),
  ]),
  /** Sends that failed (not held back, not throttled) so far: each one waits longer. */
  failures: z.number().int().positive().optional(),
  /** Teams' 429s without Retry-After in a row: each one waits longer. */
  throttles: z.number().int().positive().optional(),
});
export type HeldBackMessage = z.infer<typeof heldBackMessageSchema>;
export type HeldBackPerson = Extract<HeldBackMessage["to"], { kind: "person" }>;
export type HeldBackContent = HeldBackMessage["message"];

/** What a held-back message waits for its slot when it is sent again: nobody waits for an answer. */
export const HELD_BACK_SEND_WAIT_MS = 5_000;
/** Sends that fail (a 5xx, no answer, a 400) are tried this often, backing off up to 5 minutes: about 2 hours in all. */
const MAX_FAILURES = 30;
const BACKOFF_CAP_SECONDS = 300;

/**
 * Puts a held-back message on the queue, visible again in `retryInSeconds` (when its slot is free). False when storage
 * refused it (logged): the caller says it wasn't sent.
 */
export async function queueHeldBack(
  deps: { storage: StorageClients; log: (line: string) => void },
  message: Omit<HeldBackMessage, "kind">,
  retryInSeconds: number,
): Promise<boolean> {
  const delaySeconds = Math.max(1, Math.ceil(retryInSeconds));
  try {
    await deps.storage.send(QUEUES.memberSync, { kind: "held-back-message", ...message } satisfies HeldBackMessage, { delaySeconds });
    deps.log(`Teams: ${describeHeldBack(message)} held back by the app's pacing: queued, sent in ${delaySeconds}s`);
    return true;
  } catch (error) {
    deps.log(`Teams: ${describeHeldBack(message)} held back by the app's pacing, and could not be queued: ${(error as Error).name}`);
    return false;
  }
}

/** A queued held-back message's activity, for one that is our own words or card. */
export function heldBackActivity(activity: OutgoingActivity): HeldBackContent {
  return { kind: "activity", activity: activity as Extract<HeldBackContent, { kind: "activity" }>["activity"] };
}

/**
 * One queued held-back message: sent (its calls paced like any other), or queued again: when a slot is free if
 * pacing holds it back again, when Teams says if throttled, after a backoff if the send failed. Given up when Teams
 * says the conversation is gone or closed to the bot, when its service URL is not trusted, or after MAX_FAILURES
 * failed sends. `linkPrompt` makes a link prompt for the chat it goes to (a fresh link, made now). Says what happened,
 * never what the message says.
 */
export async function sendHeldBackMessage(
  deps: Pick<AppContext, "config" | "storage" | "teams" | "log">,
  message: HeldBackMessage,
  linkPrompt: (prompt: { tenantId: string; to: HeldBackPerson; why: string }, chat: ChatRef) => Promise<OutgoingActivity>,
): Promise<string> {
  const what = describeHeldBack(message);
  const { message: content, to: recipient } = message;
  const build = async (chat: ChatRef): Promise<OutgoingActivity> => {
    if (content.kind === "activity") return content.activity as OutgoingActivity;
    // A link prompt is only ever queued for a person (sendTeamsLinkPrompt).
    if (recipient.kind !== "person") throw new Error("a link prompt queued for a conversation");
    return linkPrompt({ tenantId: message.tenantId, to: recipient, why: content.why }, chat);
  };
  const { kind: _kind, ...queued } = message;
  const again = async (delaySeconds: number, next: Omit<HeldBackMessage, "kind">, why: string) => {
    await deps.storage.send(QUEUES.memberSync, { kind: "held-back-message", ...next } satisfies HeldBackMessage, {
      delaySeconds: Math.max(1, Math.ceil(delaySeconds)),
    });
    return `Teams: ${what} ${why}: queued again, sent in ${Math.max(1, Math.ceil(delaySeconds))}s`;
  };
  const failedOnce = (detail: string) => {
    const failures = (message.failures ?? 0) + 1;
    if (failures >= MAX_FAILURES) return Promise.resolve(`Teams: ${what} given up after ${failures} failed sends (${detail})`);
    const { throttles: _inARow, ...rest } = queued;
    return again(backoffSeconds(failures), { ...rest, failures }, `not sent (${detail})`);
  };

  if (message.to.kind === "conversation") {
    try {
      await deps.teams.send(
        message.serviceUrl,
        message.to.conversationId,
        await build({ serviceUrl: message.serviceUrl, conversationId: message.to.conversationId }),
        {
          tenantId: message.tenantId,
          waitMs: HELD_BACK_SEND_WAIT_MS,
        },
      );
      return `Teams: ${what} held back earlier is sent`;
    } catch (error) {
      if (error instanceof TeamsBudgetSpent) return again(error.retryAfterSec ?? 1, queued, "held back again by the app's pacing");
      if (error instanceof UntrustedServiceUrlError) return `Teams: ${what} given up: ${error.message}`;
      if (error instanceof ConnectorError) {
        if (error.status === 403 || error.status === 404)
          return `Teams: ${what} given up: the conversation is gone or closed to the bot (${describe(error)})`;
        if (error.status === 429) {
          const throttles = (message.throttles ?? 0) + 1;
          const wait = error.retryAfterSec === undefined ? teamsThrottleWaitSeconds(throttles) : error.retryAfterSec;
          return again(wait, { ...queued, throttles }, "throttled by Teams");
        }
        return failedOnce(describe(error));
      }
      return failedOnce((error as Error).name ?? "no answer from Teams");
    }
  }

  const to = message.to;
  const person = { tenantId: message.tenantId, aadObjectId: to.aadObjectId, teamsUserId: to.teamsUserId, serviceUrl: message.serviceUrl };
  const result = await sendToPersonalChat(deps, person, build, to.chat, { waitMs: HELD_BACK_SEND_WAIT_MS });
  if (result.sent) return `Teams: ${what} held back earlier is sent${result.replaced ? " (in a new 1:1 chat: the one on record was gone)" : ""}`;
  switch (result.problem) {
    case "held-back":
      return again(result.retryInSeconds, queued, "held back again by the app's pacing");
    case "gone":
    case "blocked":
      return `Teams: ${what} given up: the 1:1 chat is ${result.problem} (${result.detail})`;
    case "failed":
      return failedOnce(result.detail);
  }
}

/** Names a held-back message by what it is and where it goes, never by what it says or whom. */
function describeHeldBack(message: Omit<HeldBackMessage, "kind">): string {
  const what = message.message.kind === "link-prompt" ? "a link prompt" : "a message";
  return message.to.kind === "conversation" ? `${what} to a conversation` : `${what} to a person's 1:1 chat`;
}

/** Exponential backoff with jitter: 2 s, 4 s, 8 s, … at most 5 minutes, 10 % either way. */
function backoffSeconds(failures: number): number {
  const base = Math.min(BACKOFF_CAP_SECONDS, 2 ** failures);
  return Math.max(1, Math.round(base * (0.9 + 0.2 * Math.random())));
}

function describe(error: ConnectorError): string {
  return `HTTP ${error.status}${error.code ? ` ${error.code}` : ""}`;
}
