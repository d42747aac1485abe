import { z } from "zod";
import { ids } from "../../domain/ids";
import { slackPersonOf } from "../../slack/client";
import type { StorageClients } from "../../storage/clients";
import { claimEvent, markEventHandled, releaseEvent, type EventLease } from "../../storage/events";
import { IdentityRepository } from "../../storage/identities";
import { SlackChannels, type SlackChannelMark } from "../../storage/slack-channels";
import { SlackInstallations } from "../../storage/slack-installations";
import { sleep } from "../../storage/table";
import type { EventEnvelope } from "../../slack/payloads";
import { AckDeadline } from "./ack-deadline";
import { appMentionSchema, queueMentionAnswer } from "./mentions";

export type EventReply = { status: number; body?: unknown };

type EventDeps = { storage: StorageClients; log: (line: string) => void };
type EventCallback = Extract<EventEnvelope, { type: "event_callback" }>;

/** How often a retry that found another attempt at the event looks again, within its own ack budget. */
const IN_PROGRESS_POLL_MS = 250;

/**
 * Events API: answer the URL check, deduplicate Slack's retries by event_id, and act on uninstalls, on the app
 * leaving or rejoining channels, on channels archived, unarchived or deleted, on people's accounts changing, and on
 * the app being mentioned. Answered within Slack's 3 s, and 200 only once the event was acted on: anything else is
 * answered 503 (a 2xx would tell Slack it was handled), so Slack sends it again. An attempt holds a lease on the
 * event (storage/events.ts): a retry meanwhile waits for it within its own ack budget, else is answered 503 too; a
 * failed attempt gives the event up for the next retry; one that never ends (its instance died) loses the lease
 * before Slack's next retry.
 */
export async function handleSlackEvent(deps: EventDeps, envelope: EventEnvelope, receivedAt = Date.now()): Promise<EventReply> {
  if (envelope.type === "url_verification") return { status: 200, body: { challenge: envelope.challenge } };
  if (envelope.type !== "event_callback") return { status: 200 };
  const deadline = new AckDeadline(receivedAt);
  const handling = handleCallback(deps, envelope, deadline);
  const handled = await deadline.race(handling);
  if (handled.inTime) return handled.value;
  deps.log(`Slack event ${envelope.event_id} not handled by the ack deadline: answered 503 so that Slack sends it again`);
  handling.catch((error: Error) => deps.log(`Slack event ${envelope.event_id} failed after its answer: ${error.name}`));
  return { status: 503 };
}

async function handleCallback(deps: EventDeps, envelope: EventCallback, deadline: AckDeadline): Promise<EventReply> {
  const event = envelope.event;
  if (event.bot_id || event.subtype === "bot_message") return { status: 200 };
  for (;;) {
    const claim = await claimEvent(deps.storage, "slack", envelope.event_id);
    if (claim.kind === "handled") {
      deps.log(`Slack event ${envelope.event_id} already handled (retry)`);
      return { status: 200 };
    }
    if (claim.kind === "claimed") return actHolding(deps, envelope, claim.lease);
    if (deadline.remainingMs() <= IN_PROGRESS_POLL_MS) {
      deps.log(`Slack event ${envelope.event_id} is being handled by another attempt: answered 503 so that Slack asks again later`);
      return { status: 503 };
    }
    await sleep(IN_PROGRESS_POLL_MS);
  }
}

/** Acts on the event holding its lease: marked handled once done, given up for Slack's retry if acting failed. */
async function actHolding(deps: EventDeps, envelope: EventCallback, lease: EventLease): Promise<EventReply> {
  try {
    await act(deps, envelope);
  } catch (error) {
    await releaseEvent(deps.storage, lease).catch((releasing: Error) =>
      deps.log(`Slack event ${envelope.event_id}: giving it up failed (${releasing.name}); its lease runs out instead`),
    );
    throw error;
  }
  // Done, whatever the mark does: a retry that finds the lease run out acts again, and every action here may be repeated.
  await markEventHandled(deps.storage, lease).catch((marking: Error) =>
    deps.log(`Slack event ${envelope.event_id} handled, but recording it failed: ${marking.name}`),
  );
  return { status: 200 };
}

/** The channel events that set or clear a mark on the channel (the app's own joining and leaving are member events). */
const CHANNEL_MARKS = new Map<string, { mark: SlackChannelMark; set: boolean }>([
  ["channel_left", { mark: "removed", set: true }],
  ["group_left", { mark: "removed", set: true }],
  ["channel_archive", { mark: "archived", set: true }],
  ["group_archive", { mark: "archived", set: true }],
  ["channel_unarchive", { mark: "archived", set: false }],
  ["group_unarchive", { mark: "archived", set: false }],
  ["channel_deleted", { mark: "deleted", set: true }],
  ["group_deleted", { mark: "deleted", set: true }],
]);

const channelEventSchema = z.looseObject({ channel: ids.slackChannelId });
const memberEventSchema = z.looseObject({ user: ids.slackUserId, channel: ids.slackChannelId });
/** The user object of a user_change: the fields the workspace-person rule (`slackPersonOf`) reads, of the types it reads them as. */
const userEventSchema = z.looseObject({
  user: z.looseObject({
    id: ids.slackUserId,
    team_id: z.string().optional(),
    name: z.string().optional(),
    real_name: z.string().optional(),
    deleted: z.boolean().optional(),
    is_bot: z.boolean().optional(),
    is_app_user: z.boolean().optional(),
    is_email_confirmed: z.boolean().optional(),
    enterprise_user: z.looseObject({ teams: z.array(z.string()).optional() }).optional(),
    profile: z
      .looseObject({ email: z.string().max(320).optional(), real_name: z.string().optional(), display_name: z.string().optional() })
      .optional(),
  }),
});

async function act(deps: EventDeps, envelope: EventCallback): Promise<void> {
  const event = envelope.event;
  const teamId = envelope.team_id;
  const happenedAt = whenItHappened(envelope);
  const channels = new SlackChannels(deps.storage);
  switch (event.type) {
    case "app_uninstalled":
      if (await new SlackInstallations(deps.storage).deactivate(teamId, "app uninstalled", { happenedAt })) {
        deps.log(`Slack workspace ${teamId}: app uninstalled, deliveries stopped`);
      } else deps.log(`Slack workspace ${teamId}: an uninstall from before the latest install ignored`);
      return;
    case "tokens_revoked": {
      const revoked = (event as { tokens?: { bot?: string[] } }).tokens;
      if (revoked && (revoked.bot?.length ?? 0) === 0) return;
      if (await new SlackInstallations(deps.storage).deactivate(teamId, "tokens revoked", { happenedAt })) {
        deps.log(`Slack workspace ${teamId}: bot token revoked, deliveries stopped`);
      } else deps.log(`Slack workspace ${teamId}: a token revocation from before the latest install ignored`);
      return;
    }
    case "member_joined_channel":
    case "member_left_channel": {
      const member = memberEventSchema.safeParse(event);
      if (!member.success) return unexpectedShape(deps, event.type);
      if (member.data.user !== (await appUserId(deps.storage, envelope))) return;
      const removed = event.type === "member_left_channel";
      await recordChannel(deps, channels, teamId, member.data.channel, { mark: "removed", set: removed, happenedAt });
      return;
    }
    case "app_mention": {
      const mention = appMentionSchema.safeParse(event);
      if (!mention.success) return unexpectedShape(deps, event.type);
      // The app's own messages never get an answer (bots' are left out before: they carry a bot_id).
      if (mention.data.user === (await appUserId(deps.storage, envelope))) return;
      await queueMentionAnswer(deps.storage, teamId, mention.data, happenedAt);
      return;
    }
    case "user_change":
    case "user_profile_changed": {
      const changed = userEventSchema.safeParse(event);
      if (!changed.success) return unexpectedShape(deps, event.type);
      await followSlackAccount(deps, teamId, changed.data.user, happenedAt);
      return;
    }
  }
  const marking = CHANNEL_MARKS.get(event.type);
  if (marking) {
    const changed = channelEventSchema.safeParse(event);
    if (!changed.success) return unexpectedShape(deps, event.type);
    await recordChannel(deps, channels, teamId, changed.data.channel, { ...marking, happenedAt });
  }
}

async function recordChannel(
  deps: EventDeps,
  channels: SlackChannels,
  teamId: string,
  channel: string,
  change: { mark: SlackChannelMark; set: boolean; happenedAt: Date },
): Promise<void> {
  const state = await channels.record(teamId, channel, change);
  const what = !state
    ? "an older event than the last one recorded, ignored"
    : state.active
      ? "cards resume"
      : `${change.set ? "cards stop" : "cards stay stopped"} (${state.inactiveReason})`;
  deps.log(`Slack channel ${channel} of ${teamId}: ${what}`);
}

/** Slack changes what an event carries now and then: such an event is acknowledged and left alone, never retried. */
function unexpectedShape(deps: EventDeps, type: string): void {
  deps.log(`Slack ${type} event of an unexpected shape ignored`);
}

/**
 * When the event happened by Slack's clock: `event_ts` (to the microsecond) where it carries one, else the envelope's
 * `event_time` (seconds), else now. Slack retries an event for minutes, so a late one must not undo a newer change.
 */
function whenItHappened(envelope: EventCallback): Date {
  const eventTs = Number((envelope.event as { event_ts?: unknown }).event_ts);
  if (Number.isFinite(eventTs) && eventTs > 0) return new Date(eventTs * 1000);
  const eventTime = (envelope as { event_time?: unknown }).event_time;
  if (typeof eventTime === "number" && Number.isFinite(eventTime) && eventTime > 0) return new Date(eventTime * 1000);
  return new Date();
}

/** The app's own Slack user in the workspace: the bot the event was delivered to, else the one the install recorded. */
async function appUserId(storage: StorageClients, envelope: EventCallback): Promise<string | undefined> {
  const authorizations = (envelope as { authorizations?: unknown }).authorizations;
  if (Array.isArray(authorizations)) {
    const bot = authorizations.find((a) => (a as { is_bot?: unknown })?.is_bot === true) as { user_id?: unknown } | undefined;
    if (typeof bot?.user_id === "string") return bot.user_id;
  }
  return (await new SlackInstallations(storage).get(envelope.team_id))?.botUserId;
}

/**
 * A person's Slack account changed: an automatic link follows the email Slack now confirms for them, and ends when
 * Slack no longer vouches for one (deactivated, the email unconfirmed). Only an automatic link: one the person made
 * stays theirs. A change that doesn't say whether the email is confirmed (neither deactivated nor carrying
 * `is_email_confirmed`) tells nothing about the link.
 */
async function followSlackAccount(deps: EventDeps, teamId: string, user: z.infer<typeof userEventSchema>["user"], happenedAt: Date): Promise<void> {
  if (user.deleted !== true && user.is_email_confirmed === undefined) return;
  const vouched = slackPersonOf(user, teamId);
  const person = vouched.kind === "person" ? { email: vouched.email, ...(vouched.name ? { name: vouched.name } : {}) } : undefined;
  const identities = new IdentityRepository(deps.storage);
  const outcome = await identities.followAutoLink("slack", teamId, user.id, person, happenedAt.toISOString());
  if (outcome === "relinked") deps.log(`Slack user ${user.id} of ${teamId}: automatic link moved to the email Slack now confirms`);
  if (outcome === "removed") deps.log(`Slack user ${user.id} of ${teamId}: automatic link removed (${vouched.kind})`);
}
