import type { Actor, Person } from "../../domain/issue";
import { linkedOrAutoLinked, ProfileReadThrottled, ProfileReadUnavailable } from "../../identity/auto-link";
import type { SlackContext } from "../../context";
import { readSlackUser } from "../../slack/client";

/**
 * Who a Slack user is: their linked person, or (auto-link on) the email Slack verified for them,
 * read with `users.info` and recorded as an automatic link.
 */
export async function identifySlackUser(
  deps: Pick<SlackContext, "config" | "slack" | "identities" | "log">,
  teamId: string,
  userId: string,
  label: string,
): Promise<Actor> {
  const user = { provider: "slack" as const, scope: teamId, chatUserId: userId };
  const autoLink = { identities: deps.identities, autoLink: deps.config.autoLink, log: (line: string) => deps.log(`Slack: ${line}`) };
  const person = await linkedOrAutoLinked(autoLink, user, async () => {
    // Only ever called off the 3-second path (the slack-actions worker), so the usual timeout and retry apply.
    const client = await deps.slack.client(teamId);
    // The same rule as for an assignee picked from Slack: a person of this workspace with an email Slack confirmed.
    const profile = await readSlackUser(client, teamId, userId).catch((error: SlackFailure) => {
      if (error.code === "slack_webapi_rate_limited_error") throw new ProfileReadThrottled(error.retryAfter ?? 10);
      const passing = passingSlackFailure(error);
      if (passing) throw new ProfileReadUnavailable(passing, PASSING_FAILURE_RETRY_SECONDS);
      throw error;
    });
    if (profile.kind !== "person") return undefined;
    return { email: profile.email, ...(profile.name ? { name: profile.name } : {}) } satisfies Person;
  });
  return person ? { person, label, surface: "slack" } : { label, surface: "slack" };
}

type SlackFailure = { code?: string; retryAfter?: number; statusCode?: number; data?: { error?: string } };

/** Slack briefly failing, or no answer: the profile can be read again shortly. */
const PASSING_SLACK_ERRORS = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
const PASSING_FAILURE_RETRY_SECONDS = 5;

function passingSlackFailure(error: SlackFailure): string | undefined {
  if (error.code === "slack_webapi_request_error") return "no answer from Slack";
  if (error.code === "slack_webapi_http_error" && (error.statusCode ?? 0) >= 500) return `HTTP ${error.statusCode}`;
  const slackError = error.data?.error;
  return slackError && PASSING_SLACK_ERRORS.has(slackError) ? slackError : undefined;
}
