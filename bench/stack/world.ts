// The people, channels and installations the full-stack benchmarks act in, set up the way the e2e
// tests do: the bot added to a team through the emulator, a Slack workspace installed through OAuth.
import { QueueClient } from "@azure/storage-queue";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { Alert } from "../../shared/domain/alert";
import { anAlert } from "../../test/fixtures/issues";
import { messageCount } from "../../test/support/queues";
import { waitFor } from "../../test/support/wait";
import { installSlackWorkspace, type Stack } from "../../test/e2e/stack";

export interface TeamsPlace {
  user: TeamsUser;
  team: TeamsTeam;
  /** The team's General channel. */
  channel: string;
}

export interface SlackPlace {
  teamId: string;
  /** Several, so sequential alerts can avoid the app's per-channel pacing (about one post per second). */
  channels: string[];
  /** A person with an email, so the app links them on their first click. */
  user: string;
}

export interface World {
  stack: Stack;
  teams: TeamsPlace;
  slack: SlackPlace;
  /** Sends one alert, base64 as the Functions host expects; resolves once it is on the queue. */
  sendAlert(alert: Alert): Promise<void>;
}

const SLACK_CHANNELS = 5;

export async function setUpWorld(stack: Stack): Promise<World> {
  const alerts = new QueueClient(stack.azurite.connectionString, "alerts");
  await alerts.createIfNotExists();
  const teamId = await installSlackWorkspace(stack, "Bench");
  return {
    stack,
    teams: await addTeamsTeam(stack, "Bench"),
    slack: {
      teamId,
      channels: Array.from({ length: SLACK_CHANNELS }, (_, i) => stack.slack.addChannel(teamId, { name: `alerts-${i}` }).id),
      user: stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id,
    },
    async sendAlert(alert) {
      await alerts.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"));
    },
  };
}

/** A team with the bot added (installation stored, welcome card posted). */
export async function addTeamsTeam(stack: Stack, name: string): Promise<TeamsPlace> {
  const user = stack.teams.addUser({ name: `${name} Person`, email: `person@${name.toLowerCase()}.example` });
  const team = stack.teams.addTeam({ name, members: [user] });
  const added = await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: user }));
  if (added.status !== 200) throw new Error(`adding the bot to ${name} failed: ${added.status}`);
  return { user, team, channel: team.generalChannelId };
}

/** An alert for a new issue, to the given targets. */
export function alertFor(issueId: string, alertId: string, targets: Alert["targets"]): Alert {
  return anAlert({ alertId, issue: { id: issueId, title: `TypeError in ${issueId}` }, targets });
}

/** The queues the app consumes. */
export const BUSY_QUEUES = ["alerts", "deliveries", "card-refresh", "member-sync"];

/**
 * Waits until no queue the app consumes holds a message (delayed ones included), so phases don't overlap.
 * Thread lines wait on `card-refresh` for their issue to be quiet and then for the channel's pacing, so a
 * phase that changed many issues takes a while to go quiet.
 */
export async function quiesce(stack: Stack, timeoutMs = 180_000): Promise<void> {
  await waitFor(
    async () => {
      const counts = await Promise.all(BUSY_QUEUES.map((queue) => messageCount(stack.azurite.connectionString, queue)));
      return counts.every((n) => n === 0);
    },
    { timeoutMs, intervalMs: 250, description: `queues ${BUSY_QUEUES.join(", ")} to be empty` },
  );
}
