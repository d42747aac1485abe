import type { InvocationContext } from "@azure/functions";
import { appContext } from "../shared/runtime";
import { cardRefreshMessageSchema } from "../shared/storage/card-refresh-queue";
import { refreshCards } from "../shared/workflows/refresh-cards";

/** `card-refresh` queue: re-render every copy of one issue's card. */
export async function cardRefreshQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = cardRefreshMessageSchema.safeParse(message);
  if (!parsed.success) {
    throw new Error(`card refresh message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  }
  const result = await refreshCards(appContext(context), parsed.data);
  context.log(`Card refresh for ${parsed.data.issueId}: ${result.updated} updated`);
}
