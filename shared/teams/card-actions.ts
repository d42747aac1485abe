import { cardActionPayloadSchema, toIssueAction, type CardActionPayload } from "../cards/card-action";
import { teamsCardAttachment } from "../cards/teams-card";
import { cardAttachment, noticeCard } from "../cards/teams-notices";
import { buildIssueView } from "../cards/view";
import type { Issue } from "../domain/issue";
import { CardRepository } from "../storage/cards";
import { IssueRepository } from "../storage/issues";
import { actOnIssue } from "../workflows/issue-actions";
import { baseConversationId, tenantOf, type TeamsActivity } from "./activity";
import { invokeError, now, OK, type BotReply, type TeamsBot } from "./bot-context";
import { withSenderObjectId } from "./member-lookup";
import { identifyActor, promptToLink, tellPrivately } from "./people";

// A click on a card: Action.Execute (answered in the same response) or its Action.Submit fallback.

export async function onExecuteAction(bot: TeamsBot, received: TeamsActivity): Promise<BotReply> {
  const activity = await withSenderObjectId(bot, received);
  const value = activity.value as { action?: { verb?: unknown; data?: { payload?: unknown } } } | undefined;
  const parsed = cardActionPayloadSchema.safeParse(value?.action?.data?.payload);
  if (!parsed.success) {
    bot.log(`Teams: card action refused: unknown or malformed action (verb ${String(value?.action?.verb).slice(0, 40)})`);
    return invokeError(400, "BadRequest", "That button isn't one this app knows. The card may be from an older version: ask for a new one.");
  }
  const result = await applyCardAction(bot, activity, parsed.data);
  // The invoke answer is shown to the clicker only, so it can carry their notice.
  const card = result.issue ? await issueCard(bot, activity, result.issue, result.notice) : noticeCard("Issue not found", [result.notice ?? ""]);
  return { status: 200, body: { statusCode: 200, type: "application/vnd.microsoft.card.adaptive", value: card } };
}

/** The Action.Submit fallback (Teams mobile): same change, then the clicked card is updated in place for everyone. */
export async function onSubmitAction(bot: TeamsBot, received: TeamsActivity): Promise<BotReply> {
  const activity = await withSenderObjectId(bot, received);
  const parsed = cardActionPayloadSchema.safeParse((activity.value as { payload?: unknown }).payload);
  if (!parsed.success) {
    bot.log("Teams: submitted card data refused: unknown or malformed action");
    await tellPrivately(bot, activity, "That button isn't one this app knows. The card may be from an older version.");
    return OK;
  }
  const result = await applyCardAction(bot, activity, parsed.data);
  if (result.issue && activity.replyToId) {
    const conversationId = baseConversationId(activity);
    try {
      // Everyone sees this card: it shows the state, and a notice meant for the clicker goes to them alone.
      const card = await issueCard(bot, activity, result.issue);
      await bot.connector.update(activity.serviceUrl, conversationId, activity.replyToId, { type: "message", attachments: [cardAttachment(card)] });
      await markCopyRendered(bot, parsed.data.issueId, conversationId, activity.replyToId, result.issue.version);
    } catch (error) {
      bot.log(`Teams: could not update the clicked card: ${(error as Error).message}`);
    }
  }
  if (result.notice) await tellPrivately(bot, activity, result.notice);
  return OK;
}

interface CardActionResult {
  /** The issue as it now stands (absent when it doesn't exist). */
  issue?: Issue;
  /** What the clicker should be told, when it isn't simply the new state. */
  notice?: string;
}

async function applyCardAction(bot: TeamsBot, activity: TeamsActivity, payload: CardActionPayload): Promise<CardActionResult> {
  const tenantId = tenantOf(activity)!;
  const actor = await identifyActor(bot, activity, tenantId);
  if (!actor.person) {
    const issue = (await new IssueRepository(bot.storage).get(payload.issueId))?.issue;
    if (!activity.from.aadObjectId) {
      return { issue, notice: "Nothing was changed: Teams didn't tell me which account clicked (and looking you up failed). Try again in a minute." };
    }
    const prompted = await promptToLink(bot, activity, tenantId, "To act on issues from Teams, link your Teams account to your work account first.");
    const notice = prompted
      ? "Nothing was changed: link your account first. I've sent you a link in your chat with Triage Relay."
      : "Nothing was changed: link your account first. I couldn't reach our 1:1 chat to send you a link: open Triage Relay in Teams and type **link** there.";
    return { issue, notice };
  }
  const people = payload.action.type === "assign" ? await bot.identities.people("msteams", tenantId) : [];
  const outcome = await actOnIssue(bot.storage, payload.issueId, toIssueAction(payload, people), actor, () => now(bot));
  bot.log(`Teams: ${payload.action.type} on ${payload.issueId}: ${outcome.kind}`);
  switch (outcome.kind) {
    case "not-found":
      return { notice: outcome.reason };
    case "refused":
      return { issue: (await new IssueRepository(bot.storage).get(payload.issueId))?.issue, notice: `Couldn't do that: ${outcome.reason}` };
    case "unchanged":
      return { issue: outcome.issue, notice: outcome.message };
    case "changed":
      return { issue: outcome.issue };
  }
}

async function issueCard(bot: TeamsBot, activity: TeamsActivity, issue: Issue, notice?: string) {
  const people = await bot.identities.people("msteams", tenantOf(activity)!);
  return teamsCardAttachment(buildIssueView(issue, { assignChoices: people, notice })).content;
}

async function markCopyRendered(bot: TeamsBot, issueId: string, conversationId: string, activityId: string, version: number) {
  const cards = new CardRepository(bot.storage);
  const copy = (await cards.list(issueId)).find(
    (card) => card.provider === "msteams" && card.conversationId === conversationId && card.activityId === activityId,
  );
  if (copy) await cards.markRendered(copy, version);
}
