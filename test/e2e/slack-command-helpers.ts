// Slash commands typed in Slack, as the e2e tests send them to the stack (vitest's expect: tests only, not soak or bench).
import { expect } from "vitest";
import type { Stack } from "./stack";

/** What `user` sees after typing `/triage <text>` in the channel: the ephemeral reply's text. */
export async function triageReply(stack: Stack, from: { teamId: string; user: string; channel: string }, text: string): Promise<string> {
  const reply = await stack.slack.sendCommand(`${stack.api}/slack/commands`, stack.slack.slashCommand({ ...from, command: "/triage", text }));
  expect(reply.status).toBe(200);
  expect(reply.json).toMatchObject({ response_type: "ephemeral" });
  return (reply.json as { text: string }).text;
}
