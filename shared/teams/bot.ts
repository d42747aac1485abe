import { cardActionPayloadSchema, toIssueAction, type CardActionPayload } from "../cards/card-action";
import { teamsCardAttachment } from "../cards/teams-card";
import { cardAttachment, noticeCard } from "../cards/teams-notices";
import { escapeTeamsMarkdown } from "../cards/text";
import { buildIssueView } from "../cards/view";
import type { Config } from "../config";
import type { Actor, Issue, Person } from "../domain/issue";
import { IdentityRepository } from "../identity/identities";
import { queueFirstPage } from "../identity/member-sync";
import { sendTeamsLinkPrompt } from "../identity/prompts";
import { CardRepository } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import { TeamsInstallations, type TeamsInstallation } from "../storage/installations";
import { IssueRepository } from "../storage/issues";
import { actOnIssue } from "../workflows/issue-actions";
import { listSubscriptions, subscribe, unsubscribe } from "../workflows/subscriptions";
import {
  baseConversationId,
  commandText,
  conversationTypeOf,
  tenantOf,
  type TeamsActivity,
} from "./activity";
import { normaliseServiceUrl } from "./auth";
import { parseCommand } from "./commands";
import type { OutgoingActivity, TeamsConnector } from "./connector";
import { openPersonalChat } from "./personal-chat";

export interface TeamsBot {
  config: Config;
  storage: StorageClients;
  connector: TeamsConnector;
  /** One per invocation: its lookups are cached. */
  identities: IdentityRepository;
  log: (line: string) => void;
  now?: () => Date;
}

/** What the HTTP adapter answers: a status and, for invokes, the invoke response body. */
export interface BotReply {
  status: number;
  body?: unknown;
}

const OK: BotReply = { status: 200 };

/** Routes one authenticated activity from an allowed tenant. */
export async function handleTeamsActivity(bot: TeamsBot, activity: TeamsActivity): Promise<BotReply> {
  switch (activity.type) {
    case "conversationUpdate":
      await onConversationUpdate(bot, activity);
      return OK;
    case "installationUpdate":
      await onInstallationUpdate(bot, activity);
      return OK;
    case "message":
      await rememberConversation(bot, activity, { overwrite: false });
      if (activity.value !== undefined && activity.value !== null && typeof activity.value === "object") {
        return onSubmitAction(bot, activity);
      }
      await onCommand(bot, activity);
      return OK;
    case "invoke":
      if (activity.name === "adaptiveCard/action") return onExecuteAction(bot, activity);
      bot.log(`Teams invoke ${String(activity.name).slice(0, 60)} not supported`);
      return invokeError(400, "NotSupported", "This bot does not handle that kind of request.");
    default:
      return OK;
  }
}

// ---- install lifecycle ------------------------------------------------------------------------

async function onConversationUpdate(bot: TeamsBot, activity: TeamsActivity): Promise<void> {
  const installations = new TeamsInstallations(bot.storage);
  const tenantId = tenantOf(activity)!;
  const botId = activity.recipient.id;
  const eventType = activity.channelData?.eventType;
  const teamId = activity.channelData?.team?.id;

  if (activity.membersRemoved?.some((member) => member.id === botId)) {
    await deactivateTeamOrConversation(bot, activity, "bot removed");
    return;
  }
  if (eventType === "teamDeleted") {
    await deactivateTeamOrConversation(bot, activity, "team deleted");
    return;
  }
  if (eventType === "channelDeleted" && activity.channelData?.channel) {
    await installations.deactivate(tenantId, activity.channelData.channel.id, "channel deleted");
    return;
  }
  if (eventType === "teamRenamed" && teamId) {
    for (const row of await installations.listTeam(tenantId, teamId)) {
      await installations.save({ ...row, teamName: activity.channelData?.team?.name, updatedAt: now(bot).toISOString() });
    }
    return;
  }
  if ((eventType === "channelRenamed" || eventType === "channelCreated" || eventType === "channelRestored") && activity.channelData?.channel) {
    const existing = await installations.get(tenantId, activity.channelData.channel.id);
    await installations.save({
      ...(existing ?? referenceFrom(bot, activity)),
      conversationId: activity.channelData.channel.id,
      channelName: activity.channelData.channel.name,
      active: true,
      updatedAt: now(bot).toISOString(),
    });
    return;
  }
  if (eventType === "teamRestored") {
    await rememberConversation(bot, activity, { overwrite: true });
    return;
  }
  if (activity.membersAdded?.some((member) => member.id === botId)) {
    const reference = await rememberConversation(bot, activity, { overwrite: true });
    if (!reference) return;
    if (reference.conversationType === "personal" && activity.from.aadObjectId && bot.config.autoLink) {
      await linkMember(bot, activity.serviceUrl, reference.conversationId, activity.from.id, activity.from.aadObjectId, reference.tenantId);
    }
    await sendWelcome(bot, reference);
    if (reference.teamId && bot.config.autoLink) await linkTeamMembers(bot, reference);
  }
}

async function onInstallationUpdate(bot: TeamsBot, activity: TeamsActivity): Promise<void> {
  if (activity.action?.startsWith("remove")) {
    await deactivateTeamOrConversation(bot, activity, "app uninstalled");
    return;
  }
  await rememberConversation(bot, activity, { overwrite: true });
}

async function deactivateTeamOrConversation(bot: TeamsBot, activity: TeamsActivity, reason: string): Promise<void> {
  const installations = new TeamsInstallations(bot.storage);
  const tenantId = tenantOf(activity)!;
  const teamId = activity.channelData?.team?.id;
  const rows = teamId ? await installations.listTeam(tenantId, teamId) : [];
  const conversationIds = new Set([baseConversationId(activity), ...rows.map((row) => row.conversationId)]);
  for (const conversationId of conversationIds) await installations.deactivate(tenantId, conversationId, reason);
  bot.log(`Teams: ${conversationIds.size} conversation(s) marked inactive (${reason})`);
}

function referenceFrom(bot: TeamsBot, activity: TeamsActivity): TeamsInstallation {
  const type = conversationTypeOf(activity);
  return {
    tenantId: tenantOf(activity)!,
    conversationId: baseConversationId(activity),
    serviceUrl: normaliseServiceUrl(activity.serviceUrl),
    conversationType: type,
    teamId: activity.channelData?.team?.id,
    teamName: activity.channelData?.team?.name,
    channelName: activity.channelData?.channel?.name,
    userAadObjectId: type === "personal" ? activity.from.aadObjectId : undefined,
    active: true,
    updatedAt: now(bot).toISOString(),
  };
}

/** Stores the conversation reference; only ever from an authenticated activity, so its serviceUrl is vouched for. */
async function rememberConversation(
  bot: TeamsBot,
  activity: TeamsActivity,
  options: { overwrite: boolean },
): Promise<TeamsInstallation | undefined> {
  const reference = referenceFrom(bot, activity);
  await new TeamsInstallations(bot.storage).save(reference, options);
  return reference;
}

async function sendWelcome(bot: TeamsBot, reference: TeamsInstallation): Promise<void> {
  const where = reference.conversationType === "personal" ? "this chat" : reference.conversationType === "channel" ? "this channel" : "this chat";
  const lines =
    reference.conversationType === "personal"
      ? [
          "I post alert cards you can act on: resolve, ignore, assign, right from the card.",
          "Type **help** for commands, **link** to link your account.",
        ]
      : [
          `I post alert cards to ${where} that anyone here can act on: resolve, ignore, assign.`,
          "To receive a project's alerts here, mention me with **subscribe <project> [level]**, e.g. `@Triage Relay subscribe checkout error`.",
          "Producers can also address this conversation directly with the id below.",
        ];
  await safeSend(bot, reference.serviceUrl, reference.conversationId, {
    type: "message",
    summary: "Triage Relay is ready",
    attachments: [cardAttachment(noticeCard("Triage Relay is ready", lines, [{ title: "Conversation id", value: reference.conversationId }]))],
  });
}

// ---- commands -----------------------------------------------------------------------------------

async function onCommand(bot: TeamsBot, activity: TeamsActivity): Promise<void> {
  const command = parseCommand(commandText(activity));
  const type = conversationTypeOf(activity);
  const tenantId = tenantOf(activity)!;
  const conversationId = baseConversationId(activity);
  const conversationKey = `msteams:${conversationId}`;
  // First contact links a member automatically (when allowed), so "status" and the Assign menu know them.
  if (command.name !== "unlink") await identifyActor(bot, activity, tenantId);
  let text: string;
  switch (command.name) {
    case "help":
    case "unknown":
      text = helpText(type, command.name === "unknown" ? command.text : undefined);
      break;
    case "invalid":
      text = command.reason;
      break;
    case "status": {
      const identity = activity.from.aadObjectId
        ? await bot.identities.get("msteams", tenantId, activity.from.aadObjectId)
        : undefined;
      text = identity
        ? `You're linked as ${identity.person.email} (${identity.how === "auto" ? "automatically, by your Teams account" : "by sign-in"}).`
        : "You're not linked to anyone yet. Type **link** to link your account.";
      break;
    }
    case "link": {
      const sent = await promptToLink(bot, activity, tenantId, "Here's your link.");
      text = sent
        ? type === "personal"
          ? "Open the link above to sign in; I'll confirm here when you're linked."
          : "I've sent you a link in your chat with Triage Relay."
        : "I couldn't send you a link: your Teams account has no object id, or our 1:1 chat isn't reachable.";
      if (sent && type === "personal") return;
      break;
    }
    case "unlink": {
      const aadObjectId = activity.from.aadObjectId;
      const previous = aadObjectId ? await bot.identities.unlink("msteams", tenantId, aadObjectId) : undefined;
      text = previous
        ? `You're unlinked (you were ${previous.person.email}). Type **link** to link again.`
        : "You weren't linked. Type **link** to link your account.";
      break;
    }
    case "subscribe":
      if (type === "personal") {
        text = "Subscriptions send a project's alerts to a channel: mention me with **subscribe** in that channel.";
        break;
      }
      await subscribe(bot.storage, {
        conversationKey,
        project: command.project,
        minLevel: command.minLevel,
        target: { provider: "msteams", conversationId },
        createdBy: activity.from.aadObjectId,
      });
      text = `Subscribed: alerts for **${command.project}** at level ${command.minLevel} or above will be posted here.`;
      break;
    case "unsubscribe":
      text = (await unsubscribe(bot.storage, conversationKey, command.project))
        ? `Unsubscribed from **${command.project}**.`
        : `This conversation wasn't subscribed to **${command.project}**.`;
      break;
    case "subscriptions": {
      const subscriptions = await listSubscriptions(bot.storage, conversationKey);
      text = subscriptions.length
        ? `Subscribed here:\n\n${subscriptions.map((s) => `- **${s.project}** (${s.minLevel} and above)`).join("\n")}`
        : "No subscriptions here yet. Mention me with **subscribe <project> [level]**.";
      break;
    }
  }
  await safeSend(bot, activity.serviceUrl, activity.conversation.id, { type: "message", text, textFormat: "markdown" });
}

function helpText(type: string, unknown?: string): string {
  const intro = unknown ? `I don't know "${escapeTeamsMarkdown(unknown)}". ` : "";
  if (type === "personal") {
    return `${intro}I post alert cards you can act on. Commands here: **help**, **status** (who you're linked as), **link**, **unlink**. In a channel, mention me with **subscribe <project> [level]**, **unsubscribe <project>** or **subscriptions**.`;
  }
  return `${intro}Mention me with: **subscribe <project> [level]**, **unsubscribe <project>**, **subscriptions**, **help**. Use the buttons on a card to resolve, ignore or assign it.`;
}

// ---- acting from a card ---------------------------------------------------------------------------

async function onExecuteAction(bot: TeamsBot, activity: TeamsActivity): Promise<BotReply> {
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
async function onSubmitAction(bot: TeamsBot, activity: TeamsActivity): Promise<BotReply> {
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
    const prompted = await promptToLink(bot, activity, tenantId, "To act on issues from Teams, link your Teams account to your work account first.");
    const issue = (await new IssueRepository(bot.storage).get(payload.issueId))?.issue;
    const notice = prompted
      ? "Nothing was changed: link your account first. I've sent you a link in your chat with Triage Relay."
      : "Nothing was changed: we couldn't tell who you are, and couldn't send you a link.";
    return { issue, notice };
  }
  const outcome = await actOnIssue(bot.storage, payload.issueId, toIssueAction(payload), actor, () => now(bot));
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

/** A word for one person: in a 1:1 chat, right there; elsewhere, in their 1:1 chat with the bot. */
async function tellPrivately(bot: TeamsBot, activity: TeamsActivity, text: string): Promise<void> {
  if (conversationTypeOf(activity) === "personal") {
    await safeSend(bot, activity.serviceUrl, activity.conversation.id, { type: "message", text });
    return;
  }
  const tenantId = tenantOf(activity)!;
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return;
  try {
    const personal = await openPersonalChat(bot, { tenantId, aadObjectId, teamsUserId: activity.from.id, serviceUrl: activity.serviceUrl });
    await safeSend(bot, personal.serviceUrl, personal.conversationId, { type: "message", text });
  } catch (error) {
    bot.log(`Teams: private notice not delivered: ${(error as Error).message}`);
  }
}

/**
 * Who clicked: the linked person, or the member's email from the Bot Connector (linked automatically,
 * when allowed). Without either the actor has no person, and actions that need one say so.
 */
async function identifyActor(bot: TeamsBot, activity: TeamsActivity, tenantId: string): Promise<Actor> {
  const label = activity.from.name ?? "a Teams user";
  const aadObjectId = activity.from.aadObjectId;
  if (!aadObjectId) return { label, surface: "teams" };
  const { identity, optedOut } = await bot.identities.lookup("msteams", tenantId, aadObjectId);
  if (identity) return { person: identity.person, label, surface: "teams" };
  if (!bot.config.autoLink || optedOut) return { label, surface: "teams" };
  const person = await linkMember(bot, activity.serviceUrl, activity.conversation.id.split(";")[0]!, activity.from.id, aadObjectId, tenantId);
  return person ? { person, label, surface: "teams" } : { label, surface: "teams" };
}

/** Links a member automatically by the email (or UPN) the Bot Connector returns for them. */
async function linkMember(
  bot: TeamsBot,
  serviceUrl: string,
  conversationId: string,
  memberId: string,
  aadObjectId: string,
  tenantId: string,
): Promise<Person | undefined> {
  try {
    const member = await bot.connector.getMember(serviceUrl, conversationId, memberId);
    // A shared channel's guests from other tenants are not this tenant's people.
    if (member.tenantId && member.tenantId !== tenantId) return undefined;
    const email = (member.email ?? member.userPrincipalName)?.toLowerCase();
    if (!email?.includes("@")) return undefined;
    const person: Person = { email, ...(member.name ? { name: member.name } : {}) };
    await bot.identities.link({
      provider: "msteams",
      scope: tenantId,
      chatUserId: aadObjectId,
      person,
      how: "auto",
      linkedAt: now(bot).toISOString(),
      teamsUserId: memberId,
    });
    return person;
  } catch (error) {
    bot.log(`Teams: could not read the member's profile: ${(error as Error).message}`);
    return undefined;
  }
}

/**
 * Links the team's members by their emails, through the member-sync queue: a large roster takes longer
 * than Bot Service waits for this answer (~15 s). The first page is read within seconds of the install.
 */
async function linkTeamMembers(bot: TeamsBot, reference: TeamsInstallation): Promise<void> {
  await queueFirstPage(bot.storage, { tenantId: reference.tenantId, serviceUrl: reference.serviceUrl, teamId: reference.teamId! });
  bot.log("Teams: reading the team's members to link them by email");
}

/** Sends the person a private link to link their account; false when it could not be sent. */
async function promptToLink(bot: TeamsBot, activity: TeamsActivity, tenantId: string, why: string): Promise<boolean> {
  if (!activity.from.aadObjectId) return false;
  return sendTeamsLinkPrompt(
    { config: bot.config, storage: bot.storage, connector: bot.connector, log: bot.log },
    { serviceUrl: activity.serviceUrl, tenantId, aadObjectId: activity.from.aadObjectId, teamsUserId: activity.from.id, name: activity.from.name },
    why,
  );
}

async function markCopyRendered(bot: TeamsBot, issueId: string, conversationId: string, activityId: string, version: number) {
  const cards = new CardRepository(bot.storage);
  const copy = (await cards.list(issueId)).find(
    (card) => card.provider === "msteams" && card.conversationId === conversationId && card.activityId === activityId,
  );
  if (copy && copy.renderedVersion < version) await cards.markRendered(copy, version);
}

function invokeError(statusCode: number, code: string, message: string): BotReply {
  return { status: statusCode, body: { statusCode, type: "application/vnd.microsoft.error", value: { code, message } } };
}

async function safeSend(bot: TeamsBot, serviceUrl: string, conversationId: string, activity: OutgoingActivity): Promise<void> {
  try {
    await bot.connector.send(serviceUrl, conversationId, activity);
  } catch (error) {
    bot.log(`Teams: reply not sent: ${(error as Error).message}`);
  }
}

function now(bot: TeamsBot): Date {
  return bot.now?.() ?? new Date();
}
