import { cardAttachment, noticeCard } from "../../cards/teams-notices";
import { ids } from "../../domain/ids";
import { DEPARTURE_CHECK_DELAY_SECONDS, queueDepartureChecks, type DepartedMember } from "../../identity/member-departure";
import { queueFirstPage } from "../../identity/member-sync";
import { TeamsInstallations, type TeamsInstallation } from "../../storage/teams-installations";
import { baseConversationId, conversationTypeOf, tenantOf, type TeamsActivity } from "../../teams/activity";
import { normaliseServiceUrl } from "../../teams/auth";
import { safeSend } from "./safe-send";
import type { AppContext } from "../../context";
import { withSenderObjectId } from "./member-lookup";
import { linkMember } from "./people";

// Install lifecycle: where the bot may post, kept from authenticated activities only.

export async function onConversationUpdate(ctx: AppContext, activity: TeamsActivity): Promise<void> {
  const installations = new TeamsInstallations(ctx.storage);
  const tenantId = tenantOf(activity)!;
  const botId = activity.recipient.id;
  const eventType = activity.channelData?.eventType;
  const teamId = activity.channelData?.team?.id;

  if (activity.membersRemoved?.some((member) => member.id === botId)) {
    await deactivateTeamOrConversation(ctx, activity, "bot removed");
    return;
  }
  if (eventType === "teamMemberRemoved" && teamId && activity.membersRemoved?.length) {
    const members = departedMembers(activity.membersRemoved);
    const serviceUrl = normaliseServiceUrl(activity.serviceUrl);
    const queued = await queueDepartureChecks(ctx.storage, { tenantId, teamId, serviceUrl, members });
    if (queued > 0) {
      ctx.log(
        `Teams: ${queued} member(s) removed from a team: whether they are in another team with the bot is checked in ${DEPARTURE_CHECK_DELAY_SECONDS}s`,
      );
    }
    return;
  }
  if (eventType === "teamDeleted") {
    await deactivateTeamOrConversation(ctx, activity, "team deleted");
    return;
  }
  if (eventType === "channelDeleted" && activity.channelData?.channel) {
    await installations.deactivate(tenantId, activity.channelData.channel.id, "channel deleted", { gone: true });
    return;
  }
  if (eventType === "teamRenamed" && teamId) {
    for (const row of await installations.listTeam(tenantId, teamId)) {
      await installations.save({ ...row, teamName: activity.channelData?.team?.name, updatedAt: ctx.now().toISOString() });
    }
    return;
  }
  if ((eventType === "channelRenamed" || eventType === "channelCreated" || eventType === "channelRestored") && activity.channelData?.channel) {
    const existing = await installations.get(tenantId, activity.channelData.channel.id);
    await installations.save({
      ...(existing ?? referenceFrom(ctx, activity)),
      conversationId: activity.channelData.channel.id,
      channelName: activity.channelData.channel.name,
      active: true,
      updatedAt: ctx.now().toISOString(),
    });
    return;
  }
  if (eventType === "teamRestored") {
    await rememberConversation(ctx, activity, { overwrite: true });
    await reactivateTeam(ctx, activity);
    return;
  }
  if (activity.membersAdded?.some((member) => member.id === botId)) {
    // A personal chat is found by its person's object id later: look it up when the activity lacks it.
    const installedBy = conversationTypeOf(activity) === "personal" ? await withSenderObjectId(ctx, activity) : activity;
    const reference = await rememberConversation(ctx, installedBy, { overwrite: true });
    if (!reference) return;
    await reactivateTeam(ctx, activity);
    const aadObjectId = installedBy.from.aadObjectId;
    if (reference.conversationType === "personal" && aadObjectId && ctx.config.autoLink) {
      await linkMember(ctx, activity.serviceUrl, reference.conversationId, activity.from.id, aadObjectId, reference.tenantId);
    }
    await sendWelcome(ctx, reference);
    if (reference.teamId && ctx.config.autoLink) await linkTeamMembers(ctx, reference);
  }
}

/** The people an event names as removed, held to the id grammars their ids meet in storage keys and URLs. */
function departedMembers(accounts: NonNullable<TeamsActivity["membersRemoved"]>): DepartedMember[] {
  return accounts.flatMap((account) => {
    if (!ids.teamsUserId.safeParse(account.id).success) return [];
    const aadObjectId = ids.tenantId.safeParse(account.aadObjectId);
    return [{ id: account.id, ...(aadObjectId.success ? { aadObjectId: aadObjectId.data } : {}) }];
  });
}

export async function onInstallationUpdate(ctx: AppContext, activity: TeamsActivity): Promise<void> {
  if (activity.action?.startsWith("remove")) {
    await deactivateTeamOrConversation(ctx, activity, "app uninstalled");
    return;
  }
  await rememberConversation(ctx, activity, { overwrite: true });
  await reactivateTeam(ctx, activity);
}

async function deactivateTeamOrConversation(ctx: AppContext, activity: TeamsActivity, reason: string): Promise<void> {
  const installations = new TeamsInstallations(ctx.storage);
  const tenantId = tenantOf(activity)!;
  const teamId = activity.channelData?.team?.id;
  const rows = teamId ? await installations.listTeam(tenantId, teamId) : [];
  // A conversation already off keeps its own reason: a channel deleted before stays off when the bot comes back.
  const stillActive = rows.filter((row) => row.active).map((row) => row.conversationId);
  const conversationIds = new Set([baseConversationId(activity), ...stillActive]);
  for (const conversationId of conversationIds) await installations.deactivate(tenantId, conversationId, reason);
  ctx.log(`Teams: ${conversationIds.size} conversation(s) marked inactive (${reason})`);
}

/**
 * The bot is in the team again (added back, the app installed again, the team restored): every channel of the team
 * it knew is switched back on, except one that is gone itself (deleted; a post there found it missing).
 */
async function reactivateTeam(ctx: AppContext, activity: TeamsActivity): Promise<void> {
  const teamId = activity.channelData?.team?.id;
  if (!teamId) return;
  const installations = new TeamsInstallations(ctx.storage);
  const tenantId = tenantOf(activity)!;
  const switchedOff = (await installations.listTeam(tenantId, teamId)).filter((row) => !row.active && !row.gone);
  for (const row of switchedOff) await installations.reactivate(tenantId, row.conversationId, normaliseServiceUrl(activity.serviceUrl));
  if (switchedOff.length > 0) ctx.log(`Teams: ${switchedOff.length} conversation(s) of the team active again (the bot is back)`);
}

export function referenceFrom(ctx: AppContext, activity: TeamsActivity): TeamsInstallation {
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
    updatedAt: ctx.now().toISOString(),
  };
}

/**
 * Stores the conversation reference; only ever from an authenticated activity, so its serviceUrl is vouched for.
 * `overwrite: false` (a plain message) keeps a stored row's details, but switches it back on if it was off: Teams
 * delivers an activity from a conversation only while the bot is in it.
 */
export async function rememberConversation(
  ctx: AppContext,
  activity: TeamsActivity,
  options: { overwrite: boolean },
): Promise<TeamsInstallation | undefined> {
  const installations = new TeamsInstallations(ctx.storage);
  const reference = referenceFrom(ctx, activity);
  const stored = options.overwrite ? undefined : await installations.get(reference.tenantId, reference.conversationId);
  if (!stored) {
    await installations.save(reference);
    return reference;
  }
  if (!stored.active) {
    await installations.reactivate(reference.tenantId, reference.conversationId, reference.serviceUrl);
    ctx.log(`Teams: a conversation marked inactive (${stored.inactiveReason ?? "inactive"}) is active again: an activity came from it`);
  }
  return reference;
}

async function sendWelcome(ctx: AppContext, reference: TeamsInstallation): Promise<void> {
  const where = reference.conversationType === "personal" ? "this chat" : reference.conversationType === "channel" ? "this channel" : "this chat";
  const lines =
    reference.conversationType === "personal"
      ? [
          "I post alert cards you can act on: resolve, ignore, assign, right from the card.",
          "Type **help** for commands, **link** to link your account.",
        ]
      : [
          `I post alert cards to ${where} that anyone here can act on: resolve, ignore, assign.`,
          "To receive a project's alerts here, mention me with **subscribe PROJECT [LEVEL]**, e.g. `@Triage Relay subscribe checkout error`.",
          "Producers can also address this conversation directly with the id below.",
        ];
  await safeSend(ctx, reference, {
    type: "message",
    summary: "Triage Relay is ready",
    attachments: [cardAttachment(noticeCard("Triage Relay is ready", lines, [{ title: "Conversation id", value: reference.conversationId }]))],
  });
}

/**
 * Links the team's members by their emails, through the member-sync queue: a large roster takes longer
 * than Bot Service waits for this answer (~15 s). The first page is read within seconds of the install.
 */
async function linkTeamMembers(ctx: AppContext, reference: TeamsInstallation): Promise<void> {
  await queueFirstPage(ctx.storage, { tenantId: reference.tenantId, serviceUrl: reference.serviceUrl, teamId: reference.teamId! });
  ctx.log("Teams: reading the team's members to link them by email");
}
