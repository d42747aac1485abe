import { z } from "zod";
import { ids } from "../../domain/ids";
import { LEVELS } from "../../domain/issue";
import { QUEUES } from "../../storage/clients";
import { instanceShare, pacedWindows, SLACK_TIER3_LIMITS, SlidingWindowLimiter } from "../../delivery/pacing";
import type { CommandReply } from "../../workflows/commands";
import { readSlackChannel, SlackNotInstalledError, TOKEN_RENEWAL_ERRORS, type SlackChannelInfo } from "../../slack/client";
import type { SlashCommand } from "../../slack/payloads";
import { ephemeral, postToResponseUrl } from "../../slack/responses";
import type { SlackContext } from "../../context";
import type { AckDeadline } from "./ack-deadline";
import { subscribedWhereStopped, type ChannelProblem } from "./channel-problems";

// Slack sends no event for a private channel the app was never invited to: after `/triage subscribe`, Slack is
// asked (off the 3-second ack, on the `slack-actions` queue) whether cards can be posted there.

/**
 * A `slack-actions` message (kind `subscribe-check`): after `/triage subscribe`, ask Slack whether cards can be
 * posted in the channel, and tell the person through the command's response_url if not.
 */
export const subscribeCheckSchema = z.object({
  kind: z.literal("subscribe-check"),
  teamId: ids.slackTeamId,
  channel: ids.slackChannelId,
  /** The command came from a direct message between people (or a group one): inviting the app there isn't possible. */
  directMessage: z.boolean(),
  responseUrl: z.url(),
  project: z.string().min(1).max(400),
  minLevel: z.enum(LEVELS),
  thread: z.boolean(),
  subscribedAt: z.iso.datetime(),
  /** Failed looks so far (a throttled one isn't counted). */
  failures: z.number().int().min(0).default(0),
});
export type SubscribeCheck = z.infer<typeof subscribeCheckSchema>;

/** The response_url lives 30 minutes: a warning later than this might not reach the person at all. */
const CHECK_GIVE_UP_MS = 20 * 60_000;
/** Looks that failed for other reasons than throttling (the network, a token refresh) before the check is given up. */
const CHECK_MAX_FAILURES = 3;
const CHECK_RETRY_SECONDS = 15;
const RESPONSE_URL_TIMEOUT_MS = 5_000;
/** conversations.info is Tier 3, a budget of its own per workspace (Slack counts per method). */
const channelInfoLimiter = SlidingWindowLimiter.forSends(() => pacedWindows(SLACK_TIER3_LIMITS, instanceShare()));
const MAX_PACING_WAIT_MS = 2_000;

/**
 * Queues the check of a subscribed channel. Best-effort: the subscription is saved either way, and a check that can't be
 * queued only costs the warning. Inside the ack (`deadline`), the answer waits for the send only until the deadline.
 */
export async function queueChannelCheck(
  deps: SlackContext,
  command: SlashCommand,
  reply: Extract<CommandReply, { kind: "subscribed" }>,
  deadline?: AckDeadline,
) {
  if (!command.response_url) return;
  const check: z.input<typeof subscribeCheckSchema> = {
    kind: "subscribe-check",
    teamId: command.team_id,
    channel: command.channel_id,
    directMessage: command.channel_id.startsWith("D") || command.channel_name === "directmessage" || !!command.channel_name?.startsWith("mpdm-"),
    responseUrl: command.response_url,
    project: reply.project,
    minLevel: reply.minLevel,
    thread: reply.thread,
    subscribedAt: new Date().toISOString(),
  };
  const queueing = deps.storage
    .send(QUEUES.slackActions, check)
    .catch((error: Error) => deps.log(`Slack: the check of a subscribed channel could not be queued: ${error.name}`));
  if (!deadline) return queueing;
  const queued = await deadline.race(queueing);
  if (!queued.inTime) deps.log("Slack: the check of a subscribed channel not queued by the ack deadline: answered anyway, the send carries on");
}

/**
 * The `slack-actions` worker's part of `/triage subscribe`: asks Slack (`conversations.info`) whether cards can be posted
 * in the channel, and if not, says why and how to fix it. Throttled or unsure (a token being renewed, the network), it
 * tries again later, and says nothing rather than warn without cause. What it learns isn't recorded in SlackChannels:
 * that row follows Slack's channel events in the order they happened, and a look taken now, by this clock, could
 * outrank the member_joined_channel of an invite sent a moment earlier and stop cards in a channel the app is in.
 */
export async function checkSubscribedChannel(deps: SlackContext, check: SubscribeCheck): Promise<void> {
  const where = `Slack channel ${check.channel} of ${check.teamId}`;
  const later = async (delaySeconds: number, why: string, failed: boolean) => {
    const failures = check.failures + (failed ? 1 : 0);
    if (failures >= CHECK_MAX_FAILURES || Date.now() + delaySeconds * 1000 - Date.parse(check.subscribedAt) > CHECK_GIVE_UP_MS) {
      deps.log(`${where}: subscribe check given up (${why})`);
      return;
    }
    const delay = Math.ceil(delaySeconds * (1 + 0.2 * Math.random()));
    await deps.storage.send(QUEUES.slackActions, { ...check, failures }, { delaySeconds: delay });
    deps.log(`${where}: subscribe check waits ${delay}s (${why})`);
  };
  const slot = await channelInfoLimiter.acquire(check.teamId, MAX_PACING_WAIT_MS);
  if (!slot.ok) return later(slot.retryInSeconds, "paced: Slack Tier 3", false);
  let info: SlackChannelInfo;
  try {
    info = await readSlackChannel(await deps.slack.client(check.teamId), check.channel);
  } catch (error) {
    const e = error as { name?: string; code?: string; retryAfter?: number; data?: { error?: string } };
    if (error instanceof SlackNotInstalledError) return deps.log(`${where}: subscribe check skipped: ${error.message}`);
    if (e.code === "slack_webapi_rate_limited_error") return later(e.retryAfter ?? 10, "Slack throttled conversations.info", false);
    const slackError = e.code === "slack_webapi_platform_error" ? e.data?.error : undefined;
    if (slackError && !TOKEN_RENEWAL_ERRORS.has(slackError)) return deps.log(`${where}: subscribe check skipped: Slack answered ${slackError}`);
    return later(CHECK_RETRY_SECONDS, `conversations.info failed: ${slackError ?? e.code ?? e.name}`, true);
  }
  const problems = channelProblems(info, check.directMessage);
  if (problems.length === 0) return;
  const name = deps.config.slack?.command ?? "/triage";
  const words = subscribedWhereStopped(
    { kind: "subscribed", project: check.project, minLevel: check.minLevel, thread: check.thread },
    problems,
    name,
  );
  const told = await postToResponseUrl(check.responseUrl, ephemeral(words), RESPONSE_URL_TIMEOUT_MS);
  deps.log(`${where}: cards can't be posted (${problems.join(", ")}); ${told ? "the subscriber was told" : "telling the subscriber failed"}`);
}

/** Slack's answer about the channel, as the problems posting cards there would meet (none for a public channel the app isn't in: it posts there without joining). */
function channelProblems(info: SlackChannelInfo, directMessage: boolean): ChannelProblem[] {
  if (info.kind === "not-found") return [directMessage ? "direct-message" : "not-invited"];
  const problems: ChannelProblem[] = [];
  if (info.isArchived) problems.push("archived");
  if (info.isPrivate && !info.isMember) problems.push(info.isDirect ? "direct-message" : "not-invited");
  return problems;
}
