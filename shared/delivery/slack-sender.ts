import type { WebClient } from "@slack/web-api";
import type { AlertTarget } from "../domain/alert";
import type { Issue } from "../domain/issue";
import { renderSlackMessage } from "../cards/slack-message";
import { buildIssueView } from "../cards/view";
import type { Config } from "../config";
import type { IdentityRepository } from "../identity/identities";
import { SlackNotInstalledError, type SlackTokens } from "../slack/client";
import { SlackInstallations } from "../slack/installations";
import type { CardCopy } from "../storage/cards";
import type { StorageClients } from "../storage/clients";
import { retryDelay, type FailureVerdict } from "./retry-policy";
import { SLACK_CHANNEL_WINDOWS, SLACK_TIER3_WINDOWS, SlidingWindowLimiter } from "./pacing";

export interface SlackSender {
  config: Config;
  storage: StorageClients;
  slackTokens: SlackTokens;
  identities: IdentityRepository;
}

const channelLimiter = new SlidingWindowLimiter(SLACK_CHANNEL_WINDOWS);
const updateLimiter = new SlidingWindowLimiter(SLACK_TIER3_WINDOWS);
const MAX_IN_PROCESS_WAIT_MS = 2000;

/** The target can't take messages: fix the configuration, don't retry. */
const DEAD_TARGET_ERRORS = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "users_not_found",
  "user_not_found",
  "cannot_dm_bot",
  "message_limit_exceeded",
  "restricted_action",
  "msg_too_long",
  "invalid_blocks",
]);
/**
 * The workspace's token no longer works: stop using the installation until it is reinstalled. Not
 * `token_expired`: with rotation that means "refresh", which the client does (notes/slack.md §12).
 */
const DEAD_INSTALLATION_ERRORS = new Set(["account_inactive", "token_revoked", "invalid_auth", "not_authed", "team_access_not_granted"]);
/** The token ran out and its refresh is still under way (or just failed): try again shortly, never uninstall. */
const TOKEN_RENEWAL_ERRORS = new Set(["token_expired", "invalid_refresh_token", "invalid_grant"]);
/** The message to update is gone or no longer ours to edit. */
const DEAD_COPY_ERRORS = new Set(["message_not_found", "cant_update_message", "edit_window_closed", "channel_not_found", "is_archived"]);

export type SlackSendOutcome = { kind: "sent"; copy: CardCopy } | FailureVerdict;

export async function sendSlackCard(
  sender: SlackSender,
  issue: Issue,
  target: Extract<AlertTarget, { provider: "slack" }>,
  targetKey: string,
  attempt: number,
): Promise<SlackSendOutcome> {
  try {
    const client = await sender.slackTokens.client(target.teamId);
    const channel = "channel" in target ? target.channel : await openDirectMessage(client, target.userEmail);
    const slot = await channelLimiter.acquire(`${target.teamId}:${channel}`, MAX_IN_PROCESS_WAIT_MS);
    if (!slot.ok) return { kind: "retry", delaySeconds: slot.retryInSeconds, reason: "paced: Slack posts about one per second per channel" };
    const message = renderSlackMessage(buildIssueView(issue, { assignChoices: await people(sender, target.teamId) }));
    const posted = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false });
    return {
      kind: "sent",
      copy: {
        provider: "slack",
        issueId: issue.id,
        teamId: target.teamId,
        channel: posted.channel ?? channel,
        ts: posted.ts!,
        targetKey,
        renderedVersion: issue.version,
        postedAt: new Date().toISOString(),
      },
    };
  } catch (error) {
    return handleFailure(sender, target.teamId, classifySlackError(error, attempt, DEAD_TARGET_ERRORS));
  }
}

export async function updateSlackCard(
  sender: SlackSender,
  issue: Issue,
  copy: Extract<CardCopy, { provider: "slack" }>,
  attempt: number,
  notice?: string,
): Promise<{ kind: "updated" } | FailureVerdict> {
  try {
    const slot = await updateLimiter.acquire(copy.teamId, MAX_IN_PROCESS_WAIT_MS);
    if (!slot.ok) return { kind: "retry", delaySeconds: slot.retryInSeconds, reason: "paced: Slack Tier 3" };
    const client = await sender.slackTokens.client(copy.teamId);
    const message = renderSlackMessage(buildIssueView(issue, { assignChoices: await people(sender, copy.teamId), notice }));
    await client.chat.update({ channel: copy.channel, ts: copy.ts, text: message.text, blocks: message.blocks as never });
    return { kind: "updated" };
  } catch (error) {
    return handleFailure(sender, copy.teamId, classifySlackError(error, attempt, DEAD_COPY_ERRORS));
  }
}

/** Renders the current card for a Slack workspace (used for the instant response_url update). */
export async function slackMessageFor(sender: Pick<SlackSender, "identities">, issue: Issue, teamId: string, notice?: string) {
  return renderSlackMessage(buildIssueView(issue, { assignChoices: await people(sender, teamId), notice }));
}

async function people(sender: Pick<SlackSender, "identities">, teamId: string) {
  return sender.identities.people("slack", teamId);
}

async function openDirectMessage(client: WebClient, email: string): Promise<string> {
  const user = await client.users.lookupByEmail({ email });
  const opened = await client.conversations.open({ users: user.user!.id! });
  return opened.channel!.id!;
}

async function handleFailure(sender: SlackSender, teamId: string, verdict: FailureVerdict): Promise<FailureVerdict> {
  if (verdict.kind === "dead-installation") {
    await new SlackInstallations(sender.storage).deactivate(teamId, verdict.reason);
    return { kind: "dead", reason: `workspace token no longer works: ${verdict.reason}` };
  }
  return verdict;
}

/** Slack's error taxonomy (notes/slack.md §13) mapped onto retry, dead target or dead installation. */
export function classifySlackError(error: unknown, attempt: number, deadErrors: Set<string>): FailureVerdict {
  if (error instanceof SlackNotInstalledError) return { kind: "dead", reason: error.message };
  const e = error as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number };
  if (e.code === "slack_webapi_rate_limited_error") {
    return { kind: "retry", delaySeconds: retryDelay(attempt, e.retryAfter ?? 10), reason: "rate limited (429)" };
  }
  if (e.code === "slack_webapi_platform_error") {
    const slackError = e.data?.error ?? "unknown_error";
    if (TOKEN_RENEWAL_ERRORS.has(slackError)) return { kind: "retry", delaySeconds: retryDelay(attempt, 5), reason: `${slackError}: the token is being refreshed` };
    if (DEAD_INSTALLATION_ERRORS.has(slackError)) return { kind: "dead-installation", reason: slackError };
    if (deadErrors.has(slackError)) return { kind: "dead", reason: slackError };
    if (slackError === "ratelimited" || slackError === "rate_limited") {
      return { kind: "retry", delaySeconds: retryDelay(attempt, 10), reason: slackError };
    }
    if (["internal_error", "fatal_error", "service_unavailable", "request_timeout"].includes(slackError)) {
      return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: slackError };
    }
    return { kind: "dead", reason: slackError };
  }
  const status = e.statusCode ? ` HTTP ${e.statusCode}` : "";
  return { kind: "retry", delaySeconds: retryDelay(attempt, undefined), reason: `${e.code ?? "network error"}${status}` };
}
