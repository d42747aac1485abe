// Waiting until the app has done what an issue's changes ask of it, before asserting what the chats show.
import { QUEUES } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { messageCount } from "../support/queues";
import { waitFor } from "../support/wait";
import type { Stack } from "./stack";

/** Every change to the issue announced and the card-refresh queue empty: whatever the app was going to post is posted. */
export async function everyChangePosted(stack: Stack, issueId: string): Promise<void> {
  await waitFor(async () => ((await new IssueRepository(stack.storage).get(issueId))?.outbox.every((entry) => entry.announced) ? true : undefined), {
    timeoutMs: 30_000,
  });
  await waitFor(async () => ((await messageCount(stack.azurite.connectionString, QUEUES.cardRefresh)) === 0 ? true : undefined), {
    timeoutMs: 40_000,
    intervalMs: 200,
  });
}
