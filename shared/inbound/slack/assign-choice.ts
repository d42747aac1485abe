import { toIssueAction } from "../../cards/card-action";
import { isSlackUserPick, type SlackCardAction } from "../../cards/slack-message";
import type { Person } from "../../domain/issue";
import { recordAutoLink } from "../../identity/auto-link";
import type { ClickIntent } from "../../workflows/card-click";
import { readSlackUser, type SlackUserProfile } from "../../slack/client";
import type { BlockActions } from "../../slack/payloads";
import type { SlackContext } from "../../context";

export type AssignChoiceDeps = Pick<SlackContext, "config" | "slack" | "identities" | "log">;

const NOTHING_CHANGED = "Nothing was changed.";

/**
 * The change a Slack click asks for. A person picked in the Assign menu (Slack's user menu, which lists
 * everyone in the workspace) is resolved to a person: their link in this workspace, or else the email Slack
 * confirmed for them (`users.info`), and they are linked on the way as a click links the clicker. A bot, or
 * someone without a confirmed email, is refused with a reason and nothing changes. `canAskSlack` is false on
 * the 3-second click path: a pick that needs `users.info` is handed to the worker.
 */
export async function intentOf(
  deps: AssignChoiceDeps,
  click: BlockActions,
  teamId: string,
  action: SlackCardAction,
  canAskSlack: boolean,
): Promise<ClickIntent> {
  if (!isSlackUserPick(action)) {
    // A menu from an older card names the assignee by email: their name, when they are linked here, reads better.
    const people = action.action.type === "assign" && action.action.assignee !== "me" ? await deps.identities.people("slack", teamId) : [];
    return { kind: "apply", action: toIssueAction(action, people) };
  }
  const userId = action.action.slackUserId;
  if (userId === click.user.id) return { kind: "apply", action: { type: "assign", assignee: "me" } };

  const { identity, optedOut } = await deps.identities.lookup("slack", teamId, userId);
  if (identity) return { kind: "apply", action: { type: "assign", assignee: identity.person } };
  if (!canAskSlack) return { kind: "hand-off", reason: "an assignee not linked yet: their Slack profile is read first" };

  let profile: SlackUserProfile;
  try {
    profile = await readSlackUser(await deps.slack.client(teamId), teamId, userId);
  } catch (error) {
    deps.log(`Slack: could not read the picked assignee's profile: ${(error as { code?: string }).code ?? (error as Error).name}`);
    return {
      kind: "answer",
      text: `Couldn't read that person's Slack profile just now, so the issue wasn't assigned. ${NOTHING_CHANGED} Try again in a moment.`,
    };
  }
  if (profile.kind !== "person") {
    deps.log(`Slack: picked assignee refused (${profile.kind})`);
    return { kind: "answer", text: refusal(profile) };
  }
  const person: Person = { email: profile.email, ...(profile.name ? { name: profile.name } : {}) };
  // Someone who unlinked themselves is assigned by their confirmed email but not linked again behind their back.
  if (deps.config.autoLink && !optedOut) {
    await recordAutoLink(deps, { provider: "slack", scope: teamId, chatUserId: userId }, person);
    deps.log("Slack: picked assignee linked automatically by their confirmed email");
  }
  return { kind: "apply", action: { type: "assign", assignee: person } };
}

function refusal(profile: Exclude<SlackUserProfile, { kind: "person" }>): string {
  const who = "name" in profile && profile.name ? profile.name : "That user";
  switch (profile.kind) {
    case "bot":
      return `${who} is a bot or an app, not a person: issues are assigned to people. ${NOTHING_CHANGED}`;
    case "deactivated":
      return `${who}'s Slack account is deactivated, so the issue can't be assigned to them. ${NOTHING_CHANGED}`;
    case "other-workspace":
      return `${who} belongs to another organisation's Slack workspace, so Triage Relay can't tell who they are here. ${NOTHING_CHANGED}`;
    case "no-email":
      return `Slack has no confirmed email address for ${who === "That user" ? "that user" : who} that Triage Relay can see, so it can't tell who they are and didn't assign the issue. ${NOTHING_CHANGED}`;
    case "not-found":
      return `That user isn't in this Slack workspace. ${NOTHING_CHANGED}`;
  }
}

// Moved to shared/cards/render-issue-card.ts; kept here for the senders that still import it from this path.
