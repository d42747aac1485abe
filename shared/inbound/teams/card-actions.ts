import { cardActionPayloadSchema, toIssueAction, type CardActionPayload } from "../../cards/card-action";
import { teamsUnlinkedClickNotice, type LinkPromptDelivery } from "../../cards/link-prompts";
import { renderIssueCard } from "../../cards/render-issue-card";
import { cardAttachment, noticeCard } from "../../cards/teams-notices";
import type { Actor, Issue } from "../../domain/issue";
import { ProfileReadUnavailable } from "../../identity/auto-link";
import { CardRepository } from "../../storage/cards";
import { IssueRepository } from "../../storage/issues";
import { clickNotice, runCardClick, type CardClick, type NotApplied } from "../../workflows/card-click";
import { actOnIssueInTurn } from "../../workflows/issue-actions";
import { baseConversationId, tenantOf, type TeamsActivity } from "../../teams/activity";
import { TeamsBudgetSpent } from "../../teams/connector";
import type { PersonalSend } from "../../teams/personal-chat";
import type { AppContext } from "../../context";
import { cardReply, errorReply, messageReply, OK, type BotReply } from "../../teams/invoke-replies";
import type { AnswerDeadline } from "../answer-deadline";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor, linkPromptOffersLink, promptToLink, tellPrivately, tellWithoutStorage } from "./people";

// A click on a card: Action.Execute (answered in the same response) or its Action.Submit fallback.

/**
 * Teams waits 10–15 s for an invoke's answer, then shows "Unable to reach app" (notes/teams.md §5): the answer goes by
 * this long after the activity reached the handler, whatever the Bot Connector or storage do. It leaves 2 s of Teams'
 * shortest wait for authentication and the network (the HTTP functions are kept warm: always-ready instances), and is
 * long enough for a storage outage to fail (the SDK's retries end within ~7 s) and be answered as such.
 */
export const TEAMS_ANSWER_WITHIN_MS = 8_000;
/** How long the answer waits for a link prompt to be sent, to say it was; what is left of the budget renders the card. */
const LINK_PROMPT_WAIT_MS = 4_000;
/**
 * A Teams call on the way to a click's answer waits for its slot in the tenant's budget (docs/pacing.md) until this
 * long before the answer is due, to leave time to render and answer. Past it, the answer goes without the call: who
 * clicked isn't known ("try again"), the clicked card's update is left to the card refresh the change queues, the
 * clicker's notice follows the answer.
 */
const ANSWER_RESERVE_MS = 1_500;
/**
 * A post or an update on the way to the answer waits for its slot no longer than a delivery's post does. It books its
 * conversation's budget and the tenant's at one time: a busy conversation's slot far ahead would leave the tenant's
 * budget unused until then (nothing is booked before the latest slot), stalling every other conversation's cards.
 */
const CLICK_WRITE_WAIT_MS = 2_000;
/** What the click's work after its answer (a notice held back) may wait for a slot: nobody waits for the answer any more. */
const AFTER_ANSWER_WAIT_MS = 15_000;

/** The wait for a read (who clicked): as long as the answer's time allows. */
function clickReadWaitMs(deadline: AnswerDeadline): number {
  return Math.max(0, deadline.remainingMs() - ANSWER_RESERVE_MS);
}

function clickWriteWaitMs(deadline: AnswerDeadline): number {
  return Math.min(CLICK_WRITE_WAIT_MS, clickReadWaitMs(deadline));
}

export const SOMETHING_WENT_WRONG = "Something went wrong on our side, so this may not have been applied. Try again in a moment.";
const STILL_WORKING =
  "Still working on it: Teams is slow to answer me just now. Every copy of the card shows the change once it's made, and anything else I'll tell you in our 1:1 chat.";
const UNKNOWN_BUTTON = "That button isn't one this app knows. The card may be from an older version: ask for a new one.";

/** An invoke's answer, and what goes on once it is on its way. */
interface ExecuteAnswer {
  reply: BotReply;
  /** Announcing the change: every copy refreshed, thread lines, issue events. */
  afterwards: () => Promise<unknown>;
  /** When the answer could not wait for `reply` ("still working"): tells the clicker privately what `reply` would have. */
  insteadOfReply: () => Promise<void>;
}

/**
 * Answered with the clicked card as it now stands (and the clicker's notice) when that is ready within
 * TEAMS_ANSWER_WITHIN_MS; else with "still working", the click carrying on: the card refresh then updates this copy
 * like every other, and a notice goes to the clicker's 1:1 chat.
 */
export async function onExecuteAction(ctx: AppContext, received: TeamsActivity, deadline: AnswerDeadline): Promise<BotReply> {
  const answering = answerExecute(ctx, received, deadline);
  const answer = await deadline.race(answering);
  if (answer.inTime) {
    afterAnswer(ctx, answer.value.afterwards);
    return answer.value.reply;
  }
  ctx.log(`Teams: click not answered within ${TEAMS_ANSWER_WITHIN_MS} ms: answered "still working", finishing after the answer`);
  afterAnswer(ctx, () =>
    answering.then(
      async (late) => {
        try {
          await late.afterwards();
        } finally {
          await late.insteadOfReply();
        }
      },
      async (error: Error) => {
        ctx.log(`Teams: click failed after its answer: ${error.name}: ${error.message}`);
        await tellWithoutStorage(ctx, received, SOMETHING_WENT_WRONG);
      },
    ),
  );
  return messageReply(STILL_WORKING);
}

async function answerExecute(ctx: AppContext, received: TeamsActivity, deadline: AnswerDeadline): Promise<ExecuteAnswer> {
  const activity = await withSenderObjectId(ctx, received, clickReadWaitMs(deadline));
  const value = activity.value as { action?: { verb?: unknown; data?: { payload?: unknown } } } | undefined;
  const parsed = cardActionPayloadSchema.safeParse(value?.action?.data?.payload);
  if (!parsed.success) {
    ctx.log(`Teams: card action refused: unknown or malformed action (verb ${String(value?.action?.verb).slice(0, 40)})`);
    return {
      reply: errorReply(400, "BadRequest", UNKNOWN_BUTTON),
      afterwards: nothingToAnnounce,
      insteadOfReply: () => tellAfterAnswer(ctx, activity, UNKNOWN_BUTTON),
    };
  }
  const result = await applyCardAction(ctx, activity, parsed.data, deadline);
  try {
    // The invoke answer is shown to the clicker only, so it can carry their notice. Every copy, this one
    // included for everyone else, is updated by the card refresh the change announces.
    const card = result.issue ? await issueCard(ctx, activity, result.issue, result.notice) : noticeCard("Issue not found", [result.notice ?? ""]);
    return {
      reply: cardReply(card),
      afterwards: result.announce,
      insteadOfReply: async () => {
        if (result.privateNotice) await tellAfterAnswer(ctx, activity, result.privateNotice);
      },
    };
  } catch (error) {
    // The change is made: it is announced even when its answer can't be.
    afterAnswer(ctx, result.announce);
    throw error;
  }
}

/** The Action.Submit fallback (Teams mobile): same change, then the clicked card is updated in place for everyone. */
export async function onSubmitAction(ctx: AppContext, received: TeamsActivity, deadline: AnswerDeadline): Promise<BotReply> {
  const activity = await withSenderObjectId(ctx, received, clickReadWaitMs(deadline));
  const parsed = cardActionPayloadSchema.safeParse((activity.value as { payload?: unknown }).payload);
  if (!parsed.success) {
    ctx.log("Teams: submitted card data refused: unknown or malformed action");
    await tellInTime(ctx, activity, "That button isn't one this app knows. The card may be from an older version.", deadline);
    return OK;
  }
  const result = await applyCardAction(ctx, activity, parsed.data, deadline);
  let marking: (() => Promise<void>) | undefined;
  try {
    if (result.issue && activity.replyToId) {
      const conversationId = baseConversationId(activity);
      const { issue } = result;
      const activityId = activity.replyToId;
      try {
        // Everyone sees this card: it shows the state, and a notice meant for the clicker goes to them alone.
        const card = await issueCard(ctx, activity, issue);
        const pacing = { tenantId: tenantOf(activity)!, waitMs: clickWriteWaitMs(deadline) };
        await ctx.teams.update(activity.serviceUrl, conversationId, activityId, { type: "message", attachments: [cardAttachment(card)] }, pacing);
        marking = () =>
          markCopyRendered(ctx, parsed.data.issueId, tenantOf(activity)!, activity.serviceUrl, conversationId, activityId, issue.version);
      } catch (error) {
        // Not marked rendered: the card refresh the change queues updates this copy with the others.
        const why = error instanceof TeamsBudgetSpent ? "no slot in the tenant's Teams budget in time" : (error as Error).message;
        ctx.log(`Teams: could not update the clicked card (${why}): the card refresh updates it`);
      }
    }
    if (result.notice) await tellInTime(ctx, activity, result.notice, deadline);
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
 * A private word to the clicker before the answer, if the tenant's Teams budget has a slot for it in time; else
 * after the answer (never dropped for want of a slot).
 */
async function tellInTime(ctx: AppContext, activity: TeamsActivity, text: string, deadline: AnswerDeadline): Promise<void> {
  if ((await tellPrivately(ctx, activity, text, { waitMs: clickWriteWaitMs(deadline), queueIfHeldBack: false })) === "held-back") {
    afterAnswer(ctx, () => tellAfterAnswer(ctx, activity, text));
  }
}

/**
 * A private word to the clicker once the answer has gone: nobody waits, so it may wait longer for its slot; held back
 * even then, it is queued and sent once one is free.
 */
async function tellAfterAnswer(ctx: AppContext, activity: TeamsActivity, text: string): Promise<void> {
  await tellPrivately(ctx, activity, text, { waitMs: AFTER_ANSWER_WAIT_MS });
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
  /** The notice, when the clicker must still be told it privately if the answer couldn't carry it. */
  privateNotice?: string;
  /** What the change must announce, sent once the clicker has the answer (`actOnIssueInTurn`). */
  announce: () => Promise<void>;
}

/** What an unlinked clicker is told beside the card; privately too, unless the prompt in their 1:1 chat says it. */
interface LinkPromptNotice {
  notice: string;
  privately: boolean;
}

const nothingToAnnounce = () => Promise.resolve();

/** The click flow for a Teams click: translation in (activity → `CardClick` and its steps) and out (result → what the clicker sees). */
async function applyCardAction(
  ctx: AppContext,
  activity: TeamsActivity,
  payload: CardActionPayload,
  deadline: AnswerDeadline,
): Promise<CardActionResult> {
  const tenantId = tenantOf(activity)!;
  const click: CardClick = { provider: "msteams", scope: tenantId, issueId: payload.issueId, requested: payload.action };
  const result = await runCardClick(click, {
    identify: () => identifyClicker(ctx, activity, tenantId, deadline),
    promptToLink: () => promptToLinkNotice(ctx, activity, tenantId, deadline),
    decide: async () => {
      const people = payload.action.type === "assign" ? await ctx.identities.people("msteams", tenantId) : [];
      return { kind: "apply", action: toIssueAction(payload, people) };
    },
    apply: (action, actor) => actOnIssueInTurn(ctx.storage, payload.issueId, action, actor, () => ctx.now()),
    log: (line) => ctx.log(`Teams: ${line}`),
  });
  switch (result.kind) {
    case "link-needed": {
      const { notice, privately } = result.prompt;
      const issue = (await new IssueRepository(ctx.storage).get(payload.issueId))?.issue;
      return { issue, notice, privateNotice: privately ? notice : undefined, announce: nothingToAnnounce };
    }
    case "acted": {
      const { outcome } = result;
      // Not found: the answer is a notice card titled so; the reason alone says the rest.
      const notice = outcome.kind === "not-found" ? outcome.message : clickNotice(outcome);
      return { issue: outcome.issue, notice, privateNotice: notice, announce: result.acted.announce };
    }
    case "answer":
      return {
        issue: (await new IssueRepository(ctx.storage).get(payload.issueId))?.issue,
        notice: result.text,
        privateNotice: result.text,
        announce: nothingToAnnounce,
      };
    case "hand-off":
    case "given-away":
      throw new Error(`a Teams click is never handed off (${result.kind})`);
  }
}

/** Who clicked; when Teams can't be asked just now (throttled, failing, no answer), a word to try again instead. */
async function identifyClicker(ctx: AppContext, activity: TeamsActivity, tenantId: string, deadline: AnswerDeadline): Promise<Actor | NotApplied> {
  try {
    return await identifyActor(ctx, activity, tenantId, clickReadWaitMs(deadline));
  } catch (error) {
    if (!(error instanceof ProfileReadUnavailable)) throw error;
    ctx.log(`Teams: could not look up who clicked: ${error.reason}`);
    return { kind: "answer", text: "I couldn't check who you are just now, so nothing was changed. Try again in a moment." };
  }
}

/**
 * Sends an unlinked clicker a link in their 1:1 chat; what to tell them beside the card, worded from what the prompt
 * holds and how far it got. The answer waits LINK_PROMPT_WAIT_MS at most: a prompt Teams is slow to take is still
 * sent, after the answer ("I'm sending you a link"), and so is one the app's pacing holds back (queued).
 */
async function promptToLinkNotice(ctx: AppContext, activity: TeamsActivity, tenantId: string, deadline: AnswerDeadline): Promise<LinkPromptNotice> {
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) {
    return {
      notice: "Nothing was changed: Teams didn't tell me which account clicked (and looking you up failed). Try again in a minute.",
      privately: true,
    };
  }
  const why = "To act on issues from Teams, link your Teams account to your work account first.";
  const sending = promptToLink(ctx, activity, aadObjectId, tenantId, why);
  const sent = await deadline.race(sending, LINK_PROMPT_WAIT_MS);
  const delivery: LinkPromptDelivery = !sent.inTime ? "sending" : linkPromptDelivery(sent.value);
  if (delivery === "sending") ctx.log("Teams: the link prompt is still being sent: answering without waiting for it");
  return { notice: teamsUnlinkedClickNotice(linkPromptOffersLink(ctx), delivery), privately: delivery === "not-sent" };
}

/** A prompt held back by the app's pacing and queued is on its way, as one Teams is slow to take. */
function linkPromptDelivery(sent: PersonalSend): LinkPromptDelivery {
  if (sent.sent) return "sent";
  return sent.problem === "held-back" && sent.queued ? "sending" : "not-sent";
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
