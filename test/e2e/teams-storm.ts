// An alert storm in a Teams tenant: a team of conversations the bot is in, and one card per issue in each of them.
import { expect } from "vitest";
import type { TeamsUser } from "../../dev/emulators/teams";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { cardOf, cardText } from "./card-helpers";
import type { Stack } from "./stack";

/** A team "Storm" with the bot added by `from` and `channels` conversations in all (its General one first). */
export async function stormTeam(stack: Stack, from: TeamsUser, channels: number): Promise<string[]> {
  const messagesUrl = `${stack.api}/messages`;
  const storm = stack.teams.addTeam({ name: "Storm", members: [from] });
  expect((await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team: storm, from }))).status).toBe(200);
  const ids = [storm.generalChannelId];
  for (let n = 1; n < channels; n++) {
    const channel = stack.teams.addChannel(storm, `storm-${n}`);
    expect((await stack.teams.post(messagesUrl, stack.teams.channelCreated({ channel, from }))).status).toBe(200);
    ids.push(channel.id);
  }
  return ids;
}

/** `issues` alerts on the queue, each for a new issue ("TypeError in storm N") and every one of `channels`. */
export async function sendStorm(stack: Stack, channels: string[], issues: number): Promise<void> {
  for (let n = 0; n < issues; n++) {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: `storm-${n}`,
        issue: { id: `storm-${n}`, title: `TypeError in storm ${n}` },
        targets: channels.map((conversationId) => ({ provider: "msteams" as const, conversationId })),
      }),
    );
  }
}

/** The storm's cards posted so far in `channels`, as "issue|channel". */
export function stormCards(stack: Stack, channels: string[]): string[] {
  return channels.flatMap((channel) =>
    stack.teams.messages(channel).flatMap((m) => {
      const issue = /TypeError in storm (\d+)/.exec(cardText(cardOf(m.activity)))?.[1];
      return issue === undefined ? [] : [`${issue}|${channel}`];
    }),
  );
}
