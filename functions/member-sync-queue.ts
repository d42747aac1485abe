import type { InvocationContext } from "@azure/functions";
import { memberSyncMessageSchema, queueNextPage, syncMemberPage } from "../shared/identity/member-sync";
import { appContext } from "../shared/runtime";

/** `member-sync` queue: the rest of a large team's roster, one page per message. */
export async function memberSyncQueue(message: unknown, context: InvocationContext): Promise<void> {
  const parsed = memberSyncMessageSchema.safeParse(message);
  if (!parsed.success) throw new Error(`member sync message malformed at ${parsed.error.issues[0]?.path.join(".") || "(root)"}`);
  const ctx = appContext(context);
  const { linked, next } = await syncMemberPage(ctx, parsed.data);
  if (next) await queueNextPage(ctx.storage, next);
  context.log(`Team members: ${linked} linked from this page${next ? "; next page queued" : "; done"}`);
}
