// An issue with a live card in a Teams channel and a Slack channel: what forged requests, fuzzed
// clicks and concurrent clicks aim at.
import type { Activity } from "../dev/emulators/teams";
import { anAlert } from "../test/fixtures/issues";
import { waitFor } from "../test/support/wait";
import { action, cardOf } from "../test/e2e/card-helpers";
import { click, controls } from "../test/e2e/slack-helpers";
import { addSlackWorkspace, addTeamsTeam, sendAlert, type SlackPlace, type SoakStack, type TeamsPlace } from "./stack";

export interface Target {
  issueId: string;
  teams: TeamsPlace;
  slack: SlackPlace;
  /** The Teams card's activity id. */
  teamsCardId: string;
  slackTs: string;
  /** An invoke pressing this button (default: Resolve or Unresolve, whichever the card shows) on the Teams card. */
  teamsResolve(button?: string | RegExp): Activity;
  /** A block_actions payload pressing this control on the Slack message. */
  slackResolve(label?: string): Record<string, unknown>;
}

/** A new issue with its two cards; in a new Teams team and Slack workspace unless `places` are given. */
export async function setUpTarget(
  stack: SoakStack,
  name: string,
  issueId: string,
  places?: { teams: TeamsPlace; slack: SlackPlace },
): Promise<Target> {
  const teams = places?.teams ?? (await addTeamsTeam(stack, name));
  const slack = places?.slack ?? (await addSlackWorkspace(stack, name));
  await sendAlert(
    stack,
    anAlert({
      alertId: `${issueId}-a1`,
      issue: { id: issueId, project: "soak", title: `Soak target ${name}` },
      targets: [
        { provider: "msteams", conversationId: teams.channel },
        { provider: "slack", teamId: slack.teamId, channel: slack.channel },
      ],
    }),
  );
  const teamsCard = await waitFor(
    () => stack.teams.messages(teams.channel).find((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`)),
    {
      timeoutMs: 30_000,
      description: `the Teams card of ${issueId}`,
    },
  );
  const slackMessage = await waitFor(
    () => stack.slack.messages(slack.channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`"triage:${issueId}"`)),
    {
      timeoutMs: 30_000,
      description: `the Slack card of ${issueId}`,
    },
  );
  const currentTeamsCard = () => cardOf(stack.teams.messages(teams.channel).find((m) => m.activityId === teamsCard.activityId)!.activity);
  const currentSlackBlocks = () => stack.slack.message(slack.channel, slackMessage.ts)!.blocks;
  return {
    issueId,
    teams,
    slack,
    teamsCardId: teamsCard.activityId,
    slackTs: slackMessage.ts,
    teamsResolve(button = /^(Resolve|Unresolve)$/) {
      const found = action(currentTeamsCard(), button);
      return stack.teams.invokeAction({
        conversation: teams.channel,
        from: teams.user,
        replyToId: teamsCard.activityId,
        verb: found.verb!,
        data: found.data,
      });
    },
    slackResolve(label) {
      const blocks = currentSlackBlocks();
      const chosen = label ?? controls(blocks).find((c) => c.label === "Resolve" || c.label === "Unresolve")!.label;
      return stack.slack.blockActions({
        teamId: slack.teamId,
        user: slack.user,
        channel: slack.channel,
        messageTs: slackMessage.ts,
        actions: [click(blocks, chosen)],
      });
    },
  };
}
