import type { Actor, Person } from "../../domain/issue";
import { linkedOrAutoLinked, ProfileReadThrottled } from "../../identity/auto-link";
import type { SlackContext } from "../../context";

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
    const info = await client.users.info({ user: userId }).catch((error: { code?: string; retryAfter?: number }) => {
      if (error.code === "slack_webapi_rate_limited_error") throw new ProfileReadThrottled(error.retryAfter ?? 10);
      throw error;
    });
    const email = info.user?.profile?.email?.toLowerCase();
    // Only an address Slack has confirmed, of a member of this workspace (not a Slack Connect guest), says who this is.
    const trusted = !!email && !info.user?.is_bot && info.user?.is_email_confirmed === true && info.user?.team_id === teamId;
    if (!trusted) return undefined;
    const name = info.user?.real_name || info.user?.profile?.real_name || undefined;
    return { email, ...(name ? { name } : {}) } satisfies Person;
  });
  return person ? { person, label, surface: "slack" } : { label, surface: "slack" };
}
