// When did a card reach the platform? Read from the emulators' own request logs (`at` = when the request
// arrived, on this process's clock), so polling only decides when to stop waiting, never the figure.
import type { Stack } from "../../test/e2e/stack";
import { waitFor } from "../../test/support/wait";

/** Ids in the benchmarks are fixed-width, so one can't be a prefix of another. */
function mentions(value: unknown, issueId: string): boolean {
  return JSON.stringify(value).includes(issueId);
}

/** The first successful Bot Connector post of a card for `issueId` into `conversationId`. */
export function teamsPostedAt(stack: Stack, conversationId: string, issueId: string): number | undefined {
  return stack.teams.calls.find(
    (call) => call.operation === "send" && call.status < 300 && call.conversationId === conversationId && mentions(call.body, issueId),
  )?.at;
}

/** The first successful `chat.postMessage` of a card for `issueId` into `channel`. */
export function slackPostedAt(stack: Stack, channel: string, issueId: string): number | undefined {
  return stack.slack.callsTo("chat.postMessage").find((call) => call.ok && call.params.channel === channel && mentions(call.params, issueId))?.at;
}

export async function waitUntil<T>(probe: () => T | undefined, description: string, timeoutMs = 30_000): Promise<T> {
  return (await waitFor(() => probe(), { timeoutMs, intervalMs: 20, description })) as T;
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
