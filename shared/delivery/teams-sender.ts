import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { teamsCardAttachment } from "../cards/teams-card";
import { buildIssueView } from "../cards/view";
import type { CardCopy } from "../storage/cards";
import { TeamsInstallations, type TeamsInstallation } from "../storage/teams-installations";
import { ConnectorError, TeamsBudgetSpent, UntrustedServiceUrlError } from "../teams/connector";
import { bookTeamsCall, teamsConversationLimiter, teamsThrottleWaitSeconds } from "../teams/pacing";
import { openPersonalChat } from "../teams/personal-chat";
import { mayHaveLanded, retryDelay, type FailureVerdict } from "./retry-policy";
import { instances } from "../storage/instances";
import type { AppContext } from "../context";

export type SendOutcome = { kind: "sent"; copy: CardCopy } | FailureVerdict;

/** A post or an update waits this long at most for its slot in Teams' budgets (docs/pacing.md); a longer wait goes back through the queue. */
const MAX_IN_PROCESS_WAIT_MS = 2000;

const DEAD_CODES = new Set([
  "BotNotInConversationRoster",
  "ConversationBlockedByUser",
  "BotDisabledByAdmin",
  "MessageWritesBlocked",
  "ConversationNotFound",
]);

/**
 * Posts the issue's card to one Teams target and says where the copy lives, or why not. `throttles`: the 429s in a
 * row Teams answered this post with so far (carried by its retries): one more without Retry-After waits longer.
 */
export async function sendTeamsCard(
  sender: AppContext,
  issue: Issue,
  target: Extract<AlertTarget, { provider: "msteams" }>,
  targetKey: string,
  attempt: number,
  throttles = 0,
): Promise<SendOutcome> {
  const reference = await conversationFor(sender, target, attempt, throttles);
  if ("kind" in reference) return reference;
  // Rendered before the slot is taken: a storage read between the slot and the call would send it late.
  const attachment = teamsCardAttachment(buildIssueView(issue, { assignChoices: await sender.identities.people("msteams", reference.tenantId) }));
  return withConnector(
    sender,
    reference,
    attempt,
    "send",
    async () => {
      const posted = await sender.teams.send(reference.serviceUrl, reference.conversationId, {
        type: "message",
        summary: issue.title.slice(0, 200),
        attachments: [attachment],
      });
      return {
        kind: "sent",
        copy: {
          provider: "msteams",
          issueId: issue.id,
          serviceUrl: reference.serviceUrl,
          tenantId: reference.tenantId,
          conversationId: reference.conversationId,
          activityId: posted.id,
          targetKey,
          renderedVersion: issue.version,
          postedAt: new Date().toISOString(),
        },
      };
    },
    throttles,
  );
}

/** Re-renders an existing copy in place (PUT), paced and classified like a post (`throttles` as there). */
export async function updateTeamsCard(
  sender: AppContext,
  issue: Issue,
  copy: Extract<CardCopy, { provider: "msteams" }>,
  attempt: number,
  notice?: string,
  throttles = 0,
): Promise<{ kind: "updated" } | FailureVerdict> {
  const reference = { tenantId: copy.tenantId, conversationId: copy.conversationId, serviceUrl: copy.serviceUrl };
  const people = await sender.identities.people("msteams", copy.tenantId);
  const attachment = teamsCardAttachment(buildIssueView(issue, { assignChoices: people, notice }));
  return withConnector(
    sender,
    reference,
    attempt,
    "update",
    async () => {
      await sender.teams.update(copy.serviceUrl, copy.conversationId, copy.activityId, { type: "message", attachments: [attachment] });
      return { kind: "updated" as const };
    },
    throttles,
  );
}

/**
 * The share of this instance's 30-second budget for the conversation still unspent (1 = untouched): the card
 * refresh keeps a busy conversation's budget for first posts and for copies whose issue has stopped changing.
 */
export function teamsConversationHeadroom(conversationId: string): number {
  return teamsConversationLimiter.headroom(conversationId, 30_000);
}

/**
 * Makes `call` (one post or update, made without `CallPacing`) in a slot of its conversation's and tenant's budgets,
 * or says when to come back; its failure classified (`throttles`: see sendTeamsCard).
 */
export async function withConnector<T>(
  sender: AppContext,
  reference: Pick<TeamsInstallation, "tenantId" | "conversationId" | "serviceUrl">,
  attempt: number,
  operation: "send" | "update",
  call: () => Promise<T>,
  throttles = 0,
): Promise<T | FailureVerdict> {
  await instances(sender.storage).current();
  const slot = await bookTeamsCall(reference, MAX_IN_PROCESS_WAIT_MS);
  if (!slot.ok) return paced(slot.retryInSeconds);
  try {
    return await call();
  } catch (error) {
    const verdict = classify(error, attempt, operation, throttles);
    if (verdict.kind === "retry" && verdict.throttledByPlatform) instances(sender.storage).recount();
    if (verdict.kind === "dead-installation") {
      await new TeamsInstallations(sender.storage).deactivate(reference.tenantId, reference.conversationId, verdict.reason, {
        gone: error instanceof ConnectorError && error.status === 404,
      });
    }
    return verdict;
  }
}

function paced(retryInSeconds: number): FailureVerdict {
  return { kind: "retry", delaySeconds: retryInSeconds, reason: "paced: Teams rate limit", throttled: true };
}

/**
 * Teams' guidance: retry 429 (Retry-After), 412, 502, 503, 504 with backoff. On a post, 403/404 mean the bot
 * can't post in that conversation any more. On an update, a 404 usually means only that message is gone
 * (deleted, retention): that copy is dead, the conversation is not — unless the code says so. A 429 without
 * Retry-After waits longer the more of them came in a row (`throttles` before this one: teamsThrottleWaitSeconds).
 */
export function classify(error: unknown, attempt: number, operation: "send" | "update" = "send", throttles = 0): FailureVerdict {
  if (error instanceof UntrustedServiceUrlError) return { kind: "dead", reason: error.message };
  if (error instanceof TeamsBudgetSpent) return paced(error.retryAfterSec ?? 1);
  if (error instanceof ConnectorError) {
    const reason = `HTTP ${error.status}${error.code ? ` ${error.code}` : ""}`;
    if (error.status === 429) {
      const delaySeconds = error.retryAfterSec === undefined ? teamsThrottleWaitSeconds(throttles + 1) : retryDelay(attempt, error.retryAfterSec);
      return { kind: "retry", delaySeconds, reason, throttled: true, throttledByPlatform: true };
    }
    if (error.status === 412 || error.status >= 500) return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason };
    if (error.code && DEAD_CODES.has(error.code)) return { kind: "dead-installation", reason };
    if (error.status === 403 || error.status === 404) return { kind: operation === "send" ? "dead-installation" : "dead", reason };
    // Anything else (401, 400, 413…) is retried within the attempts: only Teams saying the conversation or message
    // is gone makes a copy dead (a dead copy is replaced by a new card on the issue's next alert).
    return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason };
  }
  // Network failure or timeout: the service may or may not have seen the request.
  return {
    kind: "retry",
    delaySeconds: retryDelay(attempt, undefined),
    reason: (error as Error).name ?? "network error",
    ...(isUnanswered(error) ? { ambiguous: true } : {}),
  };
}

/** The request left and no answer came (timeout, connection lost); not a failure before sending (e.g. the token). */
function isUnanswered(error: unknown): boolean {
  const e = error as Error;
  const httpFailure = e.name === "TimeoutError" || e.name === "AbortError" || (e instanceof TypeError && e.message === "fetch failed");
  return httpFailure && mayHaveLanded(error);
}

/** The target's conversation, or the verdict when there is none to post to (dead) or it could not be read now (retry). */
export async function conversationFor(
  sender: AppContext,
  target: Extract<AlertTarget, { provider: "msteams" }>,
  attempt: number,
  throttles = 0,
): Promise<TeamsInstallation | Exclude<FailureVerdict, { kind: "dead-installation" }>> {
  let reference: TeamsInstallation | string;
  try {
    reference = await resolveTarget(sender, target);
  } catch (error) {
    const verdict = classify(error, attempt, "send", throttles);
    return verdict.kind === "dead-installation" ? { kind: "dead", reason: verdict.reason } : verdict;
  }
  return typeof reference === "string" ? { kind: "dead", reason: reference } : reference;
}

async function resolveTarget(sender: AppContext, target: Extract<AlertTarget, { provider: "msteams" }>): Promise<TeamsInstallation | string> {
  const installations = new TeamsInstallations(sender.storage);
  if ("conversationId" in target) {
    const reference = await installations.findConversation(target.conversationId);
    if (!reference) return "the bot has no record of this conversation: add the bot to the team or chat first";
    if (!reference.active) return `the bot is no longer in this conversation (${reference.inactiveReason ?? "inactive"})`;
    return reference;
  }
  const identities = sender.identities;
  const candidates = target.aadObjectId
    ? [] // object ids are resolved through the tenant's personal installations below
    : await identities.findByEmail(target.userEmail!, "msteams");
  for (const identity of candidates) {
    const reference = await personalConversation(sender, identity.scope, identity.chatUserId, identity.teamsUserId);
    if (reference) return reference;
  }
  if (target.aadObjectId) {
    for (const tenantId of sender.config.bot.allowedTenants) {
      const reference = await personalConversation(sender, tenantId, target.aadObjectId, undefined);
      if (reference) return reference;
    }
  }
  // The reason is stored and logged: it names the kind of target, never the person.
  const who = target.userEmail ? "with this email" : "with this object id";
  return `no Teams user ${who} is known to the bot: they need the app installed, or to share a team with it`;
}

/** The user's 1:1 chat with the bot: stored, or created through the tenant's service URL. */
async function personalConversation(
  sender: AppContext,
  tenantId: string,
  aadObjectId: string,
  teamsUserId: string | undefined,
): Promise<TeamsInstallation | undefined> {
  const installations = new TeamsInstallations(sender.storage);
  const existing = await installations.findPersonal(tenantId, aadObjectId);
  if (existing?.active) return existing;
  const anchor = await installations.anyInTenant(tenantId);
  if (!anchor) return undefined;
  return openPersonalChat(sender, { tenantId, aadObjectId, teamsUserId, serviceUrl: anchor.serviceUrl });
}

// ---- The conversation around the card: thread lines and personal notices (workflows/thread-lines.ts).

/**
 * Posts a reply under a card in a Teams channel: to the channel's conversation id with `;messageid=<the card's
 * activity id>` (notes/teams.md). Paced on the channel's budget and classified like the card's own updates: a
 * 404 means that card (its thread) is gone, not the channel.
 */
export async function replyInTeamsThread(
  sender: AppContext,
  copy: Extract<CardCopy, { provider: "msteams" }>,
  reply: { text: string; entities: unknown[] },
  attempt: number,
): Promise<{ kind: "sent" } | FailureVerdict> {
  const reference = { tenantId: copy.tenantId, conversationId: copy.conversationId, serviceUrl: copy.serviceUrl };
  return withConnector(sender, reference, attempt, "update", async () => {
    const thread = `${copy.conversationId};messageid=${copy.activityId}`;
    await sender.teams.send(copy.serviceUrl, thread, {
      type: "message",
      text: reply.text,
      ...(reply.entities.length ? { entities: reply.entities } : {}),
    });
    return { kind: "sent" as const };
  });
}

export type NoticeOutcome = { kind: "sent"; copy?: CardCopy } | FailureVerdict;

/**
 * Sends a person a message in their 1:1 chat with the bot: `text`, and with `withCard` the issue's live card
 * under it (then a copy that refreshes like the others).
 */
export async function sendTeamsPersonalNotice(
  sender: AppContext,
  issue: Issue,
  userEmail: string,
  targetKey: string,
  notice: { text: string; withCard: boolean },
  attempt: number,
): Promise<NoticeOutcome> {
  const chat = await conversationFor(sender, { provider: "msteams", userEmail }, attempt);
  if ("kind" in chat) return chat;
  const attachments = notice.withCard
    ? [teamsCardAttachment(buildIssueView(issue, { assignChoices: await sender.identities.people("msteams", chat.tenantId), notice: notice.text }))]
    : [];
  return withConnector(sender, chat, attempt, "send", async () => {
    const posted = await sender.teams.send(chat.serviceUrl, chat.conversationId, {
      type: "message",
      text: escapeTeamsText(notice.text),
      summary: notice.text.slice(0, 200),
      ...(attachments.length ? { attachments } : {}),
    });
    if (!notice.withCard) return { kind: "sent" as const };
    const copy: CardCopy = {
      provider: "msteams",
      issueId: issue.id,
      serviceUrl: chat.serviceUrl,
      tenantId: chat.tenantId,
      conversationId: chat.conversationId,
      activityId: posted.id,
      targetKey,
      renderedVersion: issue.version,
      postedAt: new Date().toISOString(),
    };
    return { kind: "sent" as const, copy };
  });
}

/** Teams takes `<…>` in message text for markup and drops it. */
function escapeTeamsText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
