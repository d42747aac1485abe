import type { InvocationContext } from "@azure/functions";
import { memberSyncQueueMessageSchema, takeMemberSyncMessage } from "../shared/identity/member-sync";
import { appContext } from "../shared/runtime";

/**
 * `member-sync` queue: the rest of a large team's roster, one page per message; whether someone who left a team is in
 * another; and Teams messages the app's pacing held back, sent once a slot is free.
 */
export async function memberSyncQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = memberSyncQueueMessageSchema.safeParse(message);
  if (!parsed.success) throw new Error(`member sync message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  context.log(await takeMemberSyncMessage(appContext(context), parsed.data));
}
