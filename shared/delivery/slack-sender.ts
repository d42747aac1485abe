import type { ChatPostMessageArguments, WebClient } from "@slack/web-api";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { renderSlackMessage } from "../cards/slack-message";
import { buildIssueView } from "../cards/view";
import { RATE_LIMIT_WAIT_WHEN_ABSENT_SECONDS, SlackNotInstalledError, TOKEN_RENEWAL_ERRORS } from "../slack/client";
import { slackViewOptions } from "../cards/render-issue-card";
import { SlackInstallations } from "../storage/slack-installations";
import { SlackChannels } from "../storage/slack-channels";
import { sleep } from "../storage/table";
import type { CardCopy } from "../storage/cards";
import { mayHaveLanded, retryDelay, type FailureVerdict } from "./retry-policy";
import { instances, liveInstanceCount } from "../storage/instances";
import { channelSchedule } from "../storage/channel-schedule";
import type { StorageClients } from "../storage/clients";
import {
  instanceShare,
  PACING_SHARE,
  pacedWindows,
  SLACK_CHANNEL_LIMITS,
  SLACK_TIER3_LIMITS,
  SlidingWindowLimiter,
  UNSETTLED_POST_SHARE,
  unsettledPostWindows,
} from "./pacing";
import type { SlackContext } from "../context";

/** This instance's share of Slack's limits (docs/pacing.md): posts per channel, chat.update per workspace. */
export const channelLimiter = SlidingWindowLimiter.forSends(() => pacedWindows(SLACK_CHANNEL_LIMITS, instanceShare()));
/** The posts this instance makes in slots promised by any instance: never more than the app's whole pace. */
const promisesKeptLimiter = new SlidingWindowLimiter(() => pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE));
/** The app's whole pace in one channel: the shared schedule's spacing while several instances are live. */
const wholePaceSpacingMs = () => pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE)[0]!.ms;
const updateLimiter = SlidingWindowLimiter.forSends(() => pacedWindows(SLACK_TIER3_LIMITS, instanceShare()));
/**
 * Cards posted while their issue is still changing, per workspace: each will need a chat.update once the issue
 * settles, so they are let through at a share of the workspace's chat.update budget (docs/pacing.md). A new
 * issue's first cards have a budget of their own, the whole of it: a quiet workspace sees every new issue at once.
 */
const unsettledPostLimiter = new SlidingWindowLimiter(() => unsettledPostWindows(instanceShare() * UNSETTLED_POST_SHARE));
const newIssuePostLimiter = new SlidingWindowLimiter(() => unsettledPostWindows(instanceShare()));
const MAX_IN_PROCESS_WAIT_MS = 2000;
/**
 * How late a deferred post may come back and still take the slot it was promised: queue polling and visibility
 * rounding make it a second or two late; later than this, posting at once could bunch with the slots after it.
 */
const PROMISED_SLOT_KEPT_MS = 4000;

/** The target can't take messages: fix the configuration, don't retry. */
export const DEAD_TARGET_ERRORS = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "users_not_found",
  "user_not_found",
  "cannot_dm_bot",
  // conversations.open for a DM: the person's account is deactivated, or not visible to the app.
  "user_disabled",
  "user_not_visible",
  "restricted_action",
  "msg_too_long",
  "invalid_blocks",
]);
/**
 * The workspace's token no longer works: stop using the installation until it is reinstalled. Not
 * `token_expired`: with rotation that means "refresh", which the client does (notes/slack.md §12).
 */
const DEAD_INSTALLATION_ERRORS = new Set(["account_inactive", "token_revoked", "invalid_auth", "not_authed", "team_access_not_granted"]);
/** The message to update is gone or no longer ours to edit. */
const DEAD_COPY_ERRORS = new Set(["message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found", "is_archived"]);

export type SlackSendOutcome = { kind: "sent"; copy: CardCopy; adopted?: boolean } | { kind: "withheld"; reason: string } | FailureVerdict;

/** The `metadata.event_type` of every card this app posts; `event_payload.delivery` names the delivery. */
export const CARD_METADATA_TYPE = "triage_relay_card";
/**
 * How far back a retry looks for the message an earlier attempt may have posted, when this process doesn't know when
 * that attempt began (another instance made it).
 */
const LOOKBACK_SECONDS = 2 * 3600;

export interface SlackPostOptions {
  /** Stable per alert × target, no personal data: written into the message's metadata. */
  deliveryId: string;
  /**
   * An earlier attempt's outcome is unknown: look for its message (by metadata) before posting, and adopt it
   * if it is there. When the look-up can't tell, `beforeUnprovenPost` decides: false withholds the post.
   */
  lookFirst?: boolean;
  /**
   * No later than the first unanswered attempt began (the delivery row's `failingSince`): how far back the look-up
   * reads when this process didn't see that attempt (another instance made it, hours ago perhaps).
   */
  failingSince?: string;
  beforeUnprovenPost?: () => Promise<boolean>;
  /** Milliseconds until the issue counts as settled (see `settlesIn`); 0 or absent: settled. */
  settlesInMs?: number;
  /** The channel slot a paced earlier attempt was promised (FailureVerdict.slotAt). */
  slotAt?: number;
}

export async function sendSlackCard(
  sender: SlackContext,
  issue: Issue,
  target: Extract<AlertTarget, { provider: "slack" }>,
  targetKey: string,
  attempt: number,
  options: SlackPostOptions,
): Promise<SlackSendOutcome> {
  try {
    if ("channel" in target) {
      const closed = await closedSlackChannel(sender.storage, target.teamId, target.channel);
      if (closed) return closed;
    }
    const client = await sender.slack.client(target.teamId);
    const channel = "channel" in target ? target.channel : await openDirectMessage(client, target.userEmail);
    const copyAt = (ts: string, renderedVersion: number, postedIn = channel): CardCopy => ({
      provider: "slack",
      issueId: issue.id,
      teamId: target.teamId,
      channel: postedIn,
      ts,
      targetKey,
      renderedVersion,
      postedAt: new Date().toISOString(),
    });
    if (options.lookFirst) {
      const earlier = await findPosted(client, channel, options.deliveryId, CARD_METADATA_TYPE, options.failingSince);
      // What it shows is unknown: version 0 makes the refresh that follows render the current issue on it.
      if (earlier.kind === "found") return { kind: "sent", copy: copyAt(earlier.ts, 0), adopted: true };
      if (earlier.kind === "unknown" && options.beforeUnprovenPost && !(await options.beforeUnprovenPost())) {
        return { kind: "withheld", reason: `an earlier post's outcome is unknown and could not be looked up (${earlier.reason})` };
      }
    }
    await instances(sender.storage).current();
    const unsettled = (options.settlesInMs ?? 0) > 0;
    const heldBy = issue.version <= 1 ? newIssuePostLimiter : unsettledPostLimiter;
    const held = (why: string): SlackSendOutcome => ({
      kind: "retry",
      delaySeconds: Math.max(1, Math.ceil(options.settlesInMs! / 1000)),
      reason: `held: the issue is still changing and ${why}`,
      throttled: true,
    });
    if (unsettled && heldBy.delayFor(target.teamId) > 0) return held("the workspace's chat.update budget is spoken for");
    // Nor is a still-changing issue's card promised a slot of a busy channel: held for it, the slot would keep the
    // posts behind it waiting, and the card would likely be held again when its slot came (the issue still changing),
    // leaving the channel idle (an alert storm's cards queued a minute ahead while their issues kept changing).
    if (unsettled && !promisedSlotKept(options.slotAt) && channelBusyFor(sender.storage, target.teamId, channel) > MAX_IN_PROCESS_WAIT_MS) {
      return held("the channel's next slot is further off than it takes to settle");
    }
    // Rendered before the turn is taken: a storage read between the turn and the call would post it late.
    const message = renderSlackMessage(buildIssueView(issue, await slackViewOptions(sender.identities, issue, target.teamId)));
    const wait = await channelTurn(sender.storage, target.teamId, channel, { slotAt: options.slotAt });
    if (wait) return wait;
    if (unsettled) heldBy.record(target.teamId);
    const posted = await postAppMessage(client, channel, message, {
      event_type: CARD_METADATA_TYPE,
      event_payload: { issue_id: issue.id, delivery: options.deliveryId },
    });
    return { kind: "sent", copy: copyAt(posted.ts!, issue.version, posted.channel ?? channel) };
  } catch (error) {
    const verdict = await handleFailure(sender, target.teamId, classifySlackError(error, attempt, DEAD_TARGET_ERRORS));
    return verdict.kind === "retry" && isUnanswered(error) ? { ...verdict, ambiguous: true } : verdict;
  }
}

/**
 * The channel as Slack's channel events last described it: one the app was removed from, or that was archived or
 * deleted, is a dead target without a call to Slack (chat:write.public would let the app post where people
 * removed it). Undefined while the app may post there.
 */
export async function closedSlackChannel(storage: StorageClients, teamId: string, channel: string): Promise<FailureVerdict | undefined> {
  const state = await new SlackChannels(storage).get(teamId, channel);
  return state && !state.active ? { kind: "dead", reason: `channel inactive: ${state.inactiveReason ?? "inactive"}` } : undefined;
}

/**
 * This instance's turn to post in the channel, or the wait: Slack takes about one post per second per channel.
 * A card post is `promised` the slot it is told to come back for, held for it and carried in its retry
 * (docs/pacing.md, "Several instances"): whichever instance takes the retry posts in that slot, unless it came
 * back too late for it. Other posts (thread lines, notices) ask again when they come back. One instance paces
 * alone, in memory; several book the channel's slots on one schedule in storage (`sharedTurn`).
 */
export async function channelTurn(
  storage: StorageClients,
  teamId: string,
  channel: string,
  promised?: { slotAt?: number },
): Promise<FailureVerdict | undefined> {
  const slotAt = promised?.slotAt;
  const key = channelKey(teamId, channel);
  if (promisedSlotKept(slotAt)) {
    if (slotAt > Date.now()) await sleep(Math.min(slotAt - Date.now(), MAX_IN_PROCESS_WAIT_MS));
    // Promises that come back late together (a stalled instance) still go out a second apart.
    if ((await promisesKeptLimiter.acquire(key, MAX_IN_PROCESS_WAIT_MS)).ok) return undefined;
  }
  if (liveInstanceCount() > 1) {
    const turn = await sharedTurn(storage, teamId, channel, promised !== undefined).catch(() => "unbooked" as const);
    // Storage refused the booking (an outage, contention past its tries): this instance's own share still paces.
    if (turn !== "unbooked") return turn;
  }
  const slot = promised
    ? await channelLimiter.acquireOrPromise(key, MAX_IN_PROCESS_WAIT_MS)
    : await channelLimiter.acquire(key, MAX_IN_PROCESS_WAIT_MS);
  if (slot.ok) return undefined;
  return paced(slot.retryInSeconds, promised ? slot.at : undefined);
}

/**
 * The turn from the schedule all live instances share: the channel's next slot at the app's whole pace, booked in
 * storage. A slot further off than the in-process wait is promised to a card post's retry; a post that can carry
 * no promise doesn't book one so far off (it would go unused), and comes back then to ask again.
 */
async function sharedTurn(storage: StorageClients, teamId: string, channel: string, promise: boolean): Promise<FailureVerdict | undefined> {
  const schedule = channelSchedule(storage, wholePaceSpacingMs);
  const known = schedule.nextKnown(teamId, channel) - Date.now();
  if (!promise && known > MAX_IN_PROCESS_WAIT_MS) return paced(Math.ceil(known / 1000));
  const at = await schedule.book(teamId, channel);
  const wait = at - Date.now();
  if (wait > MAX_IN_PROCESS_WAIT_MS) return paced(Math.ceil(wait / 1000), promise ? at : undefined);
  if (wait > 0) await sleep(wait);
  await promisesKeptLimiter.acquire(channelKey(teamId, channel), MAX_IN_PROCESS_WAIT_MS);
  return undefined;
}

/** A deferral by the pacing: a throttled retry, its attempt given back, carrying its promised slot if it has one. */
function paced(retryInSeconds: number, slotAt?: number): FailureVerdict {
  return {
    kind: "retry",
    // A promised retry is due up to the in-process wait before its slot, and waits for it here: the queue's
    // polling and a busy instance make a retry due at its slot come back seconds late, past the time its slot is
    // kept (a fan-out's channels sat idle through slots whose retries all came back too late).
    delaySeconds: slotAt !== undefined ? Math.max(1, retryInSeconds - MAX_IN_PROCESS_WAIT_MS / 1000) : retryInSeconds,
    reason: "paced: Slack posts about one per second per channel",
    throttled: true,
    ...(slotAt !== undefined ? { slotAt } : {}),
  };
}

/** How long until the channel's next free slot, as this instance knows it (no request). */
function channelBusyFor(storage: StorageClients, teamId: string, channel: string): number {
  const now = Date.now();
  if (liveInstanceCount() > 1) return channelSchedule(storage, wholePaceSpacingMs).nextKnown(teamId, channel) - now;
  return channelLimiter.earliest(channelKey(teamId, channel), now) - now;
}

/** The pacing key of one channel: Slack's posting limit is per channel of a workspace. */
function channelKey(teamId: string, channel: string): string {
  return `${teamId}:${channel}`;
}

/** A promised slot is still this post's: it came back no later than PROMISED_SLOT_KEPT_MS after it. */
function promisedSlotKept(slotAt: number | undefined): slotAt is number {
  return slotAt !== undefined && Date.now() - slotAt <= PROMISED_SLOT_KEPT_MS;
}

/**
 * Posts a message as the app, without link previews, tagged with metadata by which the post can be found again.
 * When the post of a delivery (`event_payload.delivery`) gets no answer, this process remembers when it began: the
 * look-up before the next attempt asks only for messages since then (`findPosted`).
 */
export async function postAppMessage(
  client: WebClient,
  channel: string,
  message: { text: string; blocks: unknown[] },
  metadata: ChatPostMessageArguments["metadata"],
) {
  const delivery = (metadata?.event_payload as { delivery?: unknown } | undefined)?.delivery;
  const began = Date.now();
  try {
    const posted = await client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks as never,
      unfurl_links: false,
      unfurl_media: false,
      metadata,
    });
    if (typeof delivery === "string") unansweredPostBegan.delete(delivery);
    return posted;
  } catch (error) {
    // The first unanswered attempt's start: a later one's would miss the message the first may have left.
    if (typeof delivery === "string" && isUnanswered(error) && unansweredPostBegan.get(delivery) === undefined) {
      unansweredPostBegan.set(delivery, began);
    }
    throw error;
  }
}

/** The request got no answer at all (timeout, connection lost), rather than an error from Slack. */
export function isUnanswered(error: unknown): boolean {
  return (error as { code?: string }).code === "slack_webapi_request_error" && mayHaveLanded(error);
}

type Lookup = { kind: "found"; ts: string } | { kind: "absent" } | { kind: "unknown"; reason: string };

/**
 * Slack's conversations.history limits for an app like this one, distributed through its own OAuth install and not
 * approved for the Slack Marketplace (Slack changelog 2025-05-29, "Rate limit changes for non-Marketplace apps",
 * https://docs.slack.dev/changelog/2025/05/29/rate-limit-changes-for-non-marketplace-apps): 1 request a minute and
 * `limit` at most 15, for apps created and installations made since 2025-05-29, existing installations later. So the
 * look-up asks for 15 messages at a time, only since the unanswered attempt began, pages with the cursor, and a
 * throttled page is waited out and resumed where it stopped, never read as "not posted".
 */
const HISTORY_PAGE_LIMIT = 15;
/** How much earlier than our clock Slack's may stamp a message (`ts`): the look-up reaches back this much further. */
const CLOCK_SKEW_SECONDS = 60;

/**
 * What this process remembers about a delivery's unanswered post, for at most LOOKBACK_SECONDS: kept in memory
 * (another instance falls back to the whole look-back), bounded so a storm of timeouts can't grow it without end.
 */
class RememberedPerDelivery<T> {
  private static readonly MAX_ENTRIES = 10_000;
  private readonly entries = new Map<string, { value: T; at: number }>();

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry && Date.now() - entry.at <= LOOKBACK_SECONDS * 1000) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: Date.now() });
    if (this.entries.size > RememberedPerDelivery.MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** When a delivery's first unanswered post began (epoch ms). */
const unansweredPostBegan = new RememberedPerDelivery<number>();
/** A look-up cut short by Slack's rate limit: the oldest message `ts` it had read, all newer ones ruled out. */
const lookupReadDownTo = new RememberedPerDelivery<string>();

/**
 * This app's message for the delivery (a card, or another `eventType`), among the channel's messages since the
 * unanswered attempt began (needs the `*:history` scopes). Rate limited, it throws: the post waits with the look-up,
 * which then carries on from the page it was refused.
 */
export async function findPosted(
  client: WebClient,
  channel: string,
  deliveryId: string,
  eventType = CARD_METADATA_TYPE,
  failingSince?: string,
): Promise<Lookup> {
  // What this process saw, else the delivery's record as well as the last two hours: a "not there" read from too
  // late would post a second card (the row's time is taken when the attempt's batch ended, after the post began).
  const recorded = failingSince ? Date.parse(failingSince) : Number.NaN;
  const lookback = Date.now() - LOOKBACK_SECONDS * 1000;
  const since = unansweredPostBegan.get(deliveryId) ?? (Number.isFinite(recorded) ? Math.min(recorded, lookback) : lookback);
  const progressKey = `${channel}\n${deliveryId}`;
  const readDownTo = lookupReadDownTo.get(progressKey);
  const settled = (lookup: Lookup): Lookup => {
    lookupReadDownTo.delete(progressKey);
    if (lookup.kind !== "unknown") unansweredPostBegan.delete(deliveryId);
    return lookup;
  };
  let cursor: string | undefined;
  try {
    for (;;) {
      const page = await client.conversations.history({
        channel,
        oldest: String(Math.floor(since / 1000) - CLOCK_SKEW_SECONDS),
        ...(readDownTo ? { latest: readDownTo } : {}),
        ...(cursor ? { cursor } : {}),
        include_all_metadata: true,
        limit: HISTORY_PAGE_LIMIT,
      });
      const mine = page.messages?.find(
        (m) => m.metadata?.event_type === eventType && (m.metadata.event_payload as { delivery?: unknown } | undefined)?.delivery === deliveryId,
      );
      if (mine?.ts) return settled({ kind: "found", ts: mine.ts });
      if (!page.has_more) return settled({ kind: "absent" });
      cursor = page.response_metadata?.next_cursor || undefined;
      if (!cursor) return settled({ kind: "unknown", reason: "more messages since than Slack would page through" });
      const oldestRead = page.messages?.at(-1)?.ts;
      if (oldestRead) lookupReadDownTo.set(progressKey, oldestRead);
    }
  } catch (error) {
    const e = error as { data?: { error?: string }; code?: string };
    // Throttled, the look-up is only put off: the post waits with it rather than going out unproven.
    if (e.code === "slack_webapi_rate_limited_error") throw error;
    return settled({ kind: "unknown", reason: e.data?.error ?? e.code ?? "look-up failed" });
  }
}

export async function updateSlackCard(
  sender: SlackContext,
  issue: Issue,
  copy: Extract<CardCopy, { provider: "slack" }>,
  attempt: number,
  notice?: string,
  /** The workspace's client, when the caller updates several of its copies (one installation read for all). */
  clientFor?: () => Promise<WebClient>,
): Promise<{ kind: "updated" } | FailureVerdict> {
  try {
    await instances(sender.storage).current();
    const client = await (clientFor ? clientFor() : sender.slack.client(copy.teamId));
    const message = renderSlackMessage(buildIssueView(issue, { ...(await slackViewOptions(sender.identities, issue, copy.teamId)), notice }));
    const slot = await updateLimiter.acquire(copy.teamId, MAX_IN_PROCESS_WAIT_MS);
    if (!slot.ok) return { kind: "retry", delaySeconds: slot.retryInSeconds, reason: "paced: Slack Tier 3", throttled: true };
    await client.chat.update({ channel: copy.channel, ts: copy.ts, text: message.text, blocks: message.blocks as never });
    return { kind: "updated" };
  } catch (error) {
    return handleFailure(sender, copy.teamId, classifySlackError(error, attempt, DEAD_COPY_ERRORS));
  }
}

/**
 * The workspace has posted so many cards of still-changing issues lately (an alert storm) that the updates they
 * owe will take minutes: more than half its budget for them.
 */
export function slackOwesManyUpdates(teamId: string): boolean {
  return newIssuePostLimiter.headroom(teamId) < 0.5 || unsettledPostLimiter.headroom(teamId) < 0.5;
}

/**
 * How many chat.updates the workspace can spend now while `keptShare` of this instance's budget stays unspent:
 * the card refresh keeps most of it for copies whose issue has stopped changing.
 */
export function slackUpdatesToSpare(teamId: string, keptShare: number): number {
  return updateLimiter.spare(teamId, keptShare);
}

/** Renders the current card for a Slack workspace (used for the instant response_url update). */
export async function slackMessageFor(sender: Pick<SlackContext, "identities">, issue: Issue, teamId: string, notice?: string) {
  return renderSlackMessage(buildIssueView(issue, { ...(await slackViewOptions(sender.identities, issue, teamId)), notice }));
}

export async function openDirectMessage(client: WebClient, email: string): Promise<string> {
  const user = await client.users.lookupByEmail({ email });
  const opened = await client.conversations.open({ users: user.user!.id! });
  return opened.channel!.id!;
}

export async function handleFailure(sender: SlackContext, teamId: string, verdict: FailureVerdict): Promise<FailureVerdict> {
  if (verdict.kind === "retry" && verdict.reason === RATE_LIMITED) instances(sender.storage).recount();
  if (verdict.kind === "dead-installation") {
    await new SlackInstallations(sender.storage).deactivate(teamId, verdict.reason);
    return { kind: "dead", reason: `workspace token no longer works: ${verdict.reason}` };
  }
  return verdict;
}

const RATE_LIMITED = "rate limited (429)";
/** How long a post waits after a free workspace's message cap was hit. */
const MESSAGE_LIMIT_WAIT_SECONDS = 900;

/** Slack's error taxonomy (notes/slack.md §13) mapped onto retry, dead target or dead installation. */
export function classifySlackError(error: unknown, attempt: number, deadErrors: Set<string>): FailureVerdict {
  if (error instanceof SlackNotInstalledError) return { kind: "dead", reason: error.message };
  const e = error as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  // The client throws a 429 without Retry-After as this too, its wait the 10 s default (slack/client.ts).
  if (e.code === "slack_webapi_rate_limited_error") {
    const retryAfter = e.retryAfter ?? RATE_LIMIT_WAIT_WHEN_ABSENT_SECONDS;
    return { kind: "retry", delaySeconds: retryDelay(attempt, retryAfter), reason: RATE_LIMITED, throttled: true };
  }
  if (e.code === "slack_webapi_platform_error") {
    const slackError = e.data?.error ?? "unknown_error";
    if (TOKEN_RENEWAL_ERRORS.has(slackError))
      return { kind: "retry", delaySeconds: retryDelay(attempt, 5), reason: `${slackError}: the token is being refreshed` };
    if (DEAD_INSTALLATION_ERRORS.has(slackError)) return { kind: "dead-installation", reason: slackError };
    if (deadErrors.has(slackError)) return { kind: "dead", reason: slackError };
    if (slackError === "ratelimited" || slackError === "rate_limited") {
      return { kind: "retry", delaySeconds: retryDelay(attempt, 10), reason: slackError, throttled: true };
    }
    // A free workspace's message cap: a halt to wait out like a rate limit, never counted towards giving up
    // (notes/slack.md §13).
    if (slackError === "message_limit_exceeded") {
      return { kind: "retry", delaySeconds: retryDelay(attempt, MESSAGE_LIMIT_WAIT_SECONDS), reason: slackError, throttled: true };
    }
    // Slack-side failures, and errors this code doesn't know: only Slack saying the target is gone makes it dead.
    return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: slackError };
  }
  const status = e.statusCode ? ` HTTP ${e.statusCode}` : "";
  return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: `${e.code ?? "network error"}${status}` };
}

// ---- The conversation around the card: thread lines and personal notices (workflows/thread-lines.ts).

/**
 * Posts a reply in a card's thread (`thread_ts` = the card's ts), on the channel's posting budget like a card;
 * `replyBroadcast` also shows it in the channel.
 */
export async function postSlackThreadReply(
  sender: SlackContext,
  copy: Extract<CardCopy, { provider: "slack" }>,
  reply: { text: string; replyBroadcast: boolean },
  attempt: number,
): Promise<{ kind: "sent" } | FailureVerdict> {
  try {
    const closed = await closedSlackChannel(sender.storage, copy.teamId, copy.channel);
    if (closed) return closed;
    const client = await sender.slack.client(copy.teamId);
    await instances(sender.storage).current();
    const wait = await channelTurn(sender.storage, copy.teamId, copy.channel);
    if (wait) return wait;
    await client.chat.postMessage({
      channel: copy.channel,
      thread_ts: copy.ts,
      text: reply.text,
      reply_broadcast: reply.replyBroadcast,
      unfurl_links: false,
      unfurl_media: false,
    });
    return { kind: "sent" };
  } catch (error) {
    return handleFailure(sender, copy.teamId, classifySlackError(error, attempt, DEAD_TARGET_ERRORS));
  }
}

/**
 * Sends a person a direct message from the app: `text`, and with `withCard` the issue's live card (then a copy
 * that refreshes like the others). `slackUserId`: the person's user in that workspace (their link).
 */
export async function sendSlackPersonalNotice(
  sender: SlackContext,
  issue: Issue,
  where: { teamId: string; slackUserId: string; targetKey: string },
  notice: { text: string; withCard: boolean },
  attempt: number,
): Promise<{ kind: "sent"; copy?: CardCopy } | FailureVerdict> {
  try {
    const client = await sender.slack.client(where.teamId);
    const opened = await client.conversations.open({ users: where.slackUserId });
    const channel = opened.channel!.id!;
    await instances(sender.storage).current();
    const wait = await channelTurn(sender.storage, where.teamId, channel);
    if (wait) return wait;
    if (!notice.withCard) {
      await client.chat.postMessage({ channel, text: escapeSlackText(notice.text), unfurl_links: false, unfurl_media: false });
      return { kind: "sent" };
    }
    const message = renderSlackMessage(
      buildIssueView(issue, { ...(await slackViewOptions(sender.identities, issue, where.teamId)), notice: notice.text }),
    );
    const posted = await client.chat.postMessage({
      channel,
      text: escapeSlackText(notice.text),
      blocks: message.blocks as never,
      unfurl_links: false,
      unfurl_media: false,
      metadata: { event_type: CARD_METADATA_TYPE, event_payload: { issue_id: issue.id } },
    });
    const copy: CardCopy = {
      provider: "slack",
      issueId: issue.id,
      teamId: where.teamId,
      channel: posted.channel ?? channel,
      ts: posted.ts!,
      targetKey: where.targetKey,
      renderedVersion: issue.version,
      postedAt: new Date().toISOString(),
    };
    return { kind: "sent", copy };
  } catch (error) {
    return handleFailure(sender, where.teamId, classifySlackError(error, attempt, DEAD_TARGET_ERRORS));
  }
}

function escapeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
