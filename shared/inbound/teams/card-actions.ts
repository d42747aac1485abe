import { cardActionPayloadSchema, toIssueAction, type CardActionPayload } from "../../cards/card-action";
import { renderIssueCard } from "../../cards/render-issue-card";
import { cardAttachment, noticeCard } from "../../cards/teams-notices";
import type { Actor, Issue } from "../../domain/issue";
import { ProfileReadUnavailable } from "../../identity/auto-link";
import { CardRepository } from "../../storage/cards";
import { IssueRepository } from "../../storage/issues";
import { clickNotice, runCardClick, type CardClick, type NotApplied } from "../../workflows/card-click";
import { actOnIssueInTurn } from "../../workflows/issue-actions";
import { baseConversationId, tenantOf, type TeamsActivity } from "../../teams/activity";
import type { AppContext } from "../../context";
import { cardReply, errorReply, OK, type BotReply } from "../../teams/invoke-replies";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor, promptToLink, tellPrivately } from "./people";

// A click on a card: Action.Execute (answered in the same response) or its Action.Submit fallback.

export async function onExecuteAction(ctx: AppContext, received: TeamsActivity): Promise<BotReply> {
  const activity = await withSenderObjectId(ctx, received);
  const value = activity.value as { action?: { verb?: unknown; data?: { payload?: unknown } } } | undefined;
  const parsed = cardActionPayloadSchema.safeParse(value?.action?.data?.payload);
  if (!parsed.success) {
    ctx.log(`Teams: card action refused: unknown or malformed action (verb ${String(value?.action?.verb).slice(0, 40)})`);
    return errorReply(400, "BadRequest", "That button isn't one this app knows. The card may be from an older version: ask for a new one.");
  }
  const result = await applyCardAction(ctx, activity, parsed.data);
  try {
    // The invoke answer is shown to the clicker only, so it can carry their notice. Every copy, this one
    // included for everyone else, is updated by the card refresh the change announces.
    const card = result.issue ? await issueCard(ctx, activity, result.issue, result.notice) : noticeCard("Issue not found", [result.notice ?? ""]);
    return cardReply(card);
  } finally {
    afterAnswer(ctx, result.announce);
  }
}

/** The Action.Submit fallback (Teams mobile): same change, then the clicked card is updated in place for everyone. */
export async function onSubmitAction(ctx: AppContext, received: TeamsActivity): Promise<BotReply> {
  const activity = await withSenderObjectId(ctx, received);
  const parsed = cardActionPayloadSchema.safeParse((activity.value as { payload?: unknown }).payload);
  if (!parsed.success) {
    ctx.log("Teams: submitted card data refused: unknown or malformed action");
    await tellPrivately(ctx, activity, "That button isn't one this app knows. The card may be from an older version.");
    return OK;
  }
  const result = await applyCardAction(ctx, activity, parsed.data);
  let marking: (() => Promise<void>) | undefined;
  try {
    if (result.issue && activity.replyToId) {
      const conversationId = baseConversationId(activity);
      const { issue } = result;
      const activityId = activity.replyToId;
      try {
        // Everyone sees this card: it shows the state, and a notice meant for the clicker goes to them alone.
        const card = await issueCard(ctx, activity, issue);
        await ctx.teams.update(activity.serviceUrl, conversationId, activityId, { type: "message", attachments: [cardAttachment(card)] });
        marking = () =>
          markCopyRendered(ctx, parsed.data.issueId, tenantOf(activity)!, activity.serviceUrl, conversationId, activityId, issue.version);
      } catch (error) {
        ctx.log(`Teams: could not update the clicked card: ${(error as Error).message}`);
      }
    }
    if (result.notice) await tellPrivately(ctx, activity, result.notice);
    return OK;
  } finally {
    // Marked first, so the card refresh the announcement queues spends no update on the copy just updated.
    afterAnswer(ctx, async () => {
      try {
        await marking?.();
      } finally {
        await result.announce();
      }
    });
  }
}

/**
 * Work the clicker doesn't wait for, started once the answer is on its way (after this turn of the event loop,
 * which hands the reply to the host). Failures are logged: the change stays in the issue's outbox and is
 * announced by the next toucher of the issue, and the card refresh updates a copy not marked rendered.
 */
function afterAnswer(ctx: AppContext, work: () => Promise<unknown>): void {
  setImmediate(() => void work().catch((error: Error) => ctx.log(`Teams: work after the answer failed: ${error.name}: ${error.message}`)));
}

interface CardActionResult {
  /** The issue as it now stands (absent when it doesn't exist). */
  issue?: Issue;
  /** What the clicker should be told, when it isn't simply the new state. */
  notice?: string;
  /** What the change must announce, sent once the clicker has the answer (`actOnIssueInTurn`). */
  announce: () => Promise<void>;
}

const nothingToAnnounce = () => Promise.resolve();

/** The click flow for a Teams click: translation in (activity → `CardClick` and its steps) and out (result → what the clicker sees). */
async function applyCardAction(ctx: AppContext, activity: TeamsActivity, payload: CardActionPayload): Promise<CardActionResult> {
  const tenantId = tenantOf(activity)!;
  const click: CardClick = { provider: "msteams", scope: tenantId, issueId: payload.issueId, requested: payload.action };
  const result = await runCardClick(click, {
    identify: () => identifyClicker(ctx, activity, tenantId),
    promptToLink: () => promptToLinkNotice(ctx, activity, tenantId),
    decide: async () => {
      const people = payload.action.type === "assign" ? await ctx.identities.people("msteams", tenantId) : [];
      return { kind: "apply", action: toIssueAction(payload, people) };
    },
    apply: (action, actor) => actOnIssueInTurn(ctx.storage, payload.issueId, action, actor, () => ctx.now()),
    log: (line) => ctx.log(`Teams: ${line}`),
  });
  switch (result.kind) {
    case "link-needed":
      return { issue: (await new IssueRepository(ctx.storage).get(payload.issueId))?.issue, notice: result.prompt, announce: nothingToAnnounce };
    case "acted": {
      const { outcome } = result;
      // Not found: the answer is a notice card titled so; the reason alone says the rest.
      return { issue: outcome.issue, notice: outcome.kind === "not-found" ? outcome.message : clickNotice(outcome), announce: result.acted.announce };
    }
    case "answer":
      return { issue: (await new IssueRepository(ctx.storage).get(payload.issueId))?.issue, notice: result.text, announce: nothingToAnnounce };
    case "hand-off":
    case "given-away":
      throw new Error(`a Teams click is never handed off (${result.kind})`);
  }
}

/** Who clicked; when Teams can't be asked just now (throttled, failing, no answer), a word to try again instead. */
async function identifyClicker(ctx: AppContext, activity: TeamsActivity, tenantId: string): Promise<Actor | NotApplied> {
  try {
    return await identifyActor(ctx, activity, tenantId);
  } catch (error) {
    if (!(error instanceof ProfileReadUnavailable)) throw error;
    ctx.log(`Teams: could not look up who clicked: ${error.reason}`);
    return { kind: "answer", text: "I couldn't check who you are just now, so nothing was changed. Try again in a moment." };
  }
}

/** Sends an unlinked clicker a link in their 1:1 chat; what to tell them beside the card. */
async function promptToLinkNotice(ctx: AppContext, activity: TeamsActivity, tenantId: string): Promise<string> {
  if (!activity.from.aadObjectId)
    return "Nothing was changed: Teams didn't tell me which account clicked (and looking you up failed). Try again in a minute.";
  const prompted = await promptToLink(ctx, activity, tenantId, "To act on issues from Teams, link your Teams account to your work account first.");
  return prompted
    ? "Nothing was changed: link your account first. I've sent you a link in your chat with Triage Relay."
    : "Nothing was changed: link your account first. I couldn't reach our 1:1 chat to send you a link: open Triage Relay in Teams and type **link** there.";
}

async function issueCard(ctx: AppContext, activity: TeamsActivity, issue: Issue, notice?: string) {
  return (await renderIssueCard(ctx.identities, issue, { surface: "msteams", scope: tenantOf(activity)!, notice })).content;
}

async function markCopyRendered(
  ctx: AppContext,
  issueId: string,
  tenantId: string,
  serviceUrl: string,
  conversationId: string,
  activityId: string,
  version: number,
) {
  await new CardRepository(ctx.storage).markClickedRendered(
    { provider: "msteams", issueId, serviceUrl, tenantId, conversationId, activityId },
    version,
  );
}
