// The stack as the ingest tests need it: a Teams team with the bot, whose General channel the alerts are sent to.
import type { TeamsTeam } from "../../dev/emulators/teams";
import { startStack, type Stack, type StackOptions } from "./stack";

export interface IngestStack {
  stack: Stack;
  /** "Ops", Ana Lima (ana@contoso.com) in it, the bot added by her. */
  team: TeamsTeam;
  /** The team's General channel as an ingest route's `target` query parameter, encoded. */
  target: string;
}

export async function startIngestStack(env: StackOptions["env"]): Promise<IngestStack> {
  const stack = await startStack({ env });
  try {
    const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
    const team = stack.teams.addTeam({ name: "Ops", members: [ana] });
    await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
    return { stack, team, target: encodeURIComponent(`msteams:${team.generalChannelId}`) };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
