import type { InvocationContext } from "@azure/functions";
import { getRuntime } from "../shared/runtime";
import { cardRefreshMessageSchema } from "../shared/storage/card-refresh-queue";
import { refreshCards } from "../shared/workflows/refresh-cards";

/** `card-refresh` queue: re-render every copy of one issue's card. */
export async function cardRefreshQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = cardRefreshMessageSchema.safeParse(message);
  if (!parsed.success) {
    throw new Error(`card refresh message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  const { config, storage, teams, slackTokens } = getRuntime();
  const result = await refreshCards({ config, storage, teams: teams.connector, slackTokens, log: (line) => context.log(line) }, parsed.data);
  context.log(`Card refresh for ${parsed.data.issueId}: ${result.updated} updated`);
}
