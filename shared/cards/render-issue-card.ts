import type { Issue, Person } from "../domain/issue";
import { renderSlackMessage, type SlackMessage } from "./slack-message";
import { teamsCardAttachment, type AdaptiveCardAttachment } from "./teams-card";
import { buildIssueView, type ViewOptions } from "./view";

/** Who is linked where: what a card needs to offer people in its Assign menu (the identity store answers it). */
export interface Roster {
  people(provider: "msteams" | "slack", scope: string): Promise<Person[]>;
  findByEmail(email: string, provider: "msteams" | "slack"): Promise<{ scope: string; chatUserId: string }[]>;
}

export interface RenderTarget<Surface extends "msteams" | "slack"> {
  surface: Surface;
  /** Teams tenant id, or Slack team id: whose people the Assign menu offers. */
  scope: string;
  /** A line for the one person this copy is shown to. */
  notice?: string;
}

/**
 * One issue's card for one tenant or workspace, from the stored issue: the roster read, the one view-model
 * built, then rendered for the platform.
 */
export async function renderIssueCard(roster: Roster, issue: Issue, target: RenderTarget<"msteams">): Promise<AdaptiveCardAttachment>;
export async function renderIssueCard(roster: Roster, issue: Issue, target: RenderTarget<"slack">): Promise<SlackMessage>;
export async function renderIssueCard(
  roster: Roster,
  issue: Issue,
  target: RenderTarget<"msteams" | "slack">,
): Promise<AdaptiveCardAttachment | SlackMessage> {
  const notice = target.notice === undefined ? {} : { notice: target.notice };
  if (target.surface === "msteams") {
    return teamsCardAttachment(buildIssueView(issue, { assignChoices: await roster.people("msteams", target.scope), ...notice }));
  }
  return renderSlackMessage(buildIssueView(issue, { ...(await slackViewOptions(roster, issue, target.scope)), ...notice }));
}

/**
 * The view options for a Slack copy of the card: the people linked in the workspace, and the current
 * assignee's Slack user id when they are linked there — however they were assigned, from Teams too — so
 * the Assign menu shows them chosen.
 */
export async function slackViewOptions(roster: Roster, issue: Issue, teamId: string): Promise<ViewOptions> {
  const [assignChoices, assigneeChatUserId] = await Promise.all([roster.people("slack", teamId), slackUserIdOf(roster, issue.assignee, teamId)]);
  return { assignChoices, ...(assigneeChatUserId ? { assigneeChatUserId } : {}) };
}

async function slackUserIdOf(roster: Roster, person: Person | undefined, teamId: string): Promise<string | undefined> {
  if (!person) return undefined;
  const linked = await roster.findByEmail(person.email, "slack");
  return linked.find((identity) => identity.scope === teamId)?.chatUserId;
}
