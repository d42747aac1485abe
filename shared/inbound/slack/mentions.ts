import { z } from "zod";
import { ids, isSlackTs } from "../../domain/ids";
import { instanceShare, pacedWindows, SLACK_TIER3_LIMITS, SlidingWindowLimiter } from "../../delivery/pacing";
import { SlackNotInstalledError, TOKEN_RENEWAL_ERRORS } from "../../slack/client";
import { QUEUES, type StorageClients } from "../../storage/clients";
import type { SlackContext } from "../../context";
import { slackHelp } from "./commands";

// "@Triage Relay help" in a channel (Sentry's Teams bot ignored mentions: peers.md, #119486). The events endpoint
// only queues the answer; the `slack-actions` worker posts it, off Slack's 3 seconds and paced like other Slack calls.

/** A `slack-actions` message (kind `mention`): someone mentioned the app and gets an answer only they see. */
export const mentionAnswerSchema = z.object({
  kind: z.literal("mention"),
  teamId: ids.slackTeamId,
  channel: ids.slackChannelId,
  user: ids.slackUserId,
  /** The mention was a reply in this thread: the answer goes there too. */
  threadTs: z.string().refine(isSlackTs).optional(),
  /** They wrote nothing but the mention, or "help": the help itself. Anything else: where to find it. */
  asksForHelp: z.boolean(),
  mentionedAt: z.iso.datetime(),
  /** Failed posts so far (a throttled one isn't counted). */
  failures: z.number().int().min(0).default(0),
});
export type MentionAnswer = z.infer<typeof mentionAnswerSchema>;

/** What an `app_mention` event carries that the answer needs. */
export const appMentionSchema = z.looseObject({
  user: ids.slackUserId,
  channel: ids.slackChannelId,
  text: z.string().max(40_000).default(""),
  thread_ts: z.string().refine(isSlackTs).optional(),
});

/** An answer later than this would puzzle more than help: the person has moved on (or asked again). */
const ANSWER_GIVE_UP_MS = 5 * 60_000;
const ANSWER_MAX_FAILURES = 3;
const ANSWER_RETRY_SECONDS = 15;
/** chat.postEphemeral: Tier 3 per workspace, a budget of its own (Slack counts per method). */
const ephemeralLimiter = SlidingWindowLimiter.forSends(() => pacedWindows(SLACK_TIER3_LIMITS, instanceShare()));
const MAX_PACING_WAIT_MS = 2_000;

/** Whether what was written with the mention(s) asks for help: nothing else, or just "help". */
export function asksForHelp(text: string): boolean {
  const words = text
    .replace(/<@[A-Z0-9]+(\|[^>]*)?>/g, " ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .toLowerCase();
  return words === "" || words === "help";
}

/** Queues the answer to a mention (the events endpoint's part: storage only, no Slack call). */
export async function queueMentionAnswer(
  storage: StorageClients,
  teamId: string,
  mention: z.infer<typeof appMentionSchema>,
  mentionedAt: Date,
): Promise<void> {
  const answer: z.input<typeof mentionAnswerSchema> = {
    kind: "mention",
    teamId,
    channel: mention.channel,
    user: mention.user,
    ...(mention.thread_ts ? { threadTs: mention.thread_ts } : {}),
    asksForHelp: asksForHelp(mention.text),
    mentionedAt: mentionedAt.toISOString(),
  };
  await storage.send(QUEUES.slackActions, answer);
}

/**
 * The `slack-actions` worker's part: the answer, as an ephemeral only the person who mentioned the app sees, in the
 * thread they wrote in. Throttled or unsure (a token being renewed, the network), it tries again later; a person
 * who can't be answered there (left the channel, the channel gone) is not.
 */
export async function answerMention(deps: SlackContext, mention: MentionAnswer): Promise<void> {
  const where = `Slack channel ${mention.channel} of ${mention.teamId}`;
  const later = async (delaySeconds: number, why: string, failed: boolean) => {
    const failures = mention.failures + (failed ? 1 : 0);
    if (failures >= ANSWER_MAX_FAILURES || Date.now() + delaySeconds * 1000 - Date.parse(mention.mentionedAt) > ANSWER_GIVE_UP_MS) {
      deps.log(`${where}: the answer to a mention given up (${why})`);
      return;
    }
    const delay = Math.ceil(delaySeconds * (1 + 0.2 * Math.random()));
    await deps.storage.send(QUEUES.slackActions, { ...mention, failures }, { delaySeconds: delay });
    deps.log(`${where}: the answer to a mention waits ${delay}s (${why})`);
  };
  const slot = await ephemeralLimiter.acquire(mention.teamId, MAX_PACING_WAIT_MS);
  if (!slot.ok) return later(slot.retryInSeconds, "paced: Slack Tier 3", false);
  const name = deps.config.slack?.command ?? "/triage";
  const text = mention.asksForHelp ? slackHelp(name) : `I answer the \`${name}\` command rather than mentions: \`${name} help\` shows what I can do.`;
  try {
    const client = await deps.slack.client(mention.teamId);
    await client.chat.postEphemeral({
      channel: mention.channel,
      user: mention.user,
      text,
      ...(mention.threadTs ? { thread_ts: mention.threadTs } : {}),
    });
  } catch (error) {
    const e = error as { name?: string; code?: string; retryAfter?: number; data?: { error?: string } };
    if (error instanceof SlackNotInstalledError) return deps.log(`${where}: a mention not answered: ${error.message}`);
    if (e.code === "slack_webapi_rate_limited_error") return later(e.retryAfter ?? 10, "Slack throttled chat.postEphemeral", false);
    const slackError = e.code === "slack_webapi_platform_error" ? e.data?.error : undefined;
    if (slackError && !TOKEN_RENEWAL_ERRORS.has(slackError)) return deps.log(`${where}: a mention not answered: Slack answered ${slackError}`);
    return later(ANSWER_RETRY_SECONDS, `chat.postEphemeral failed: ${slackError ?? e.code ?? e.name}`, true);
  }
  deps.log(`${where}: a mention answered (${mention.asksForHelp ? "help" : "pointed to help"})`);
}
