// The slack-actions queue carries a second kind of message (the channel check after `/triage subscribe`): clicks
// queued by the version before it, in either of their shapes, must still be read as clicks.
import { describe, expect, it } from "vitest";
import { slackActionMessageSchema } from "../../../shared/inbound/slack/interactions";

const click = {
  type: "block_actions",
  team: { id: "T0CONTOSO" },
  user: { id: "U0ANA0001" },
  response_url: "https://hooks.slack.com/actions/T0CONTOSO/1/abc",
  actions: [{ action_id: "triage.resolve", type: "button", value: "issue-1" }],
};

describe("slack-actions queue messages", () => {
  it("a click queued with its hand-off details is still a click", () => {
    const parsed = slackActionMessageSchema.parse({ click, mayBeApplied: true });
    expect(parsed).toMatchObject({ click: { user: { id: "U0ANA0001" } }, mayBeApplied: true });
    expect("kind" in parsed).toBe(false);
  });

  it("a bare click payload (the oldest shape) is still a click, never applied", () => {
    expect(slackActionMessageSchema.parse(click)).toMatchObject({ click: { type: "block_actions" }, mayBeApplied: false });
  });

  it("a channel check after a subscribe is read as one, with no failed look yet", () => {
    const parsed = slackActionMessageSchema.parse({
      kind: "subscribe-check",
      teamId: "T0CONTOSO",
      channel: "C0PRIVATE1",
      directMessage: false,
      responseUrl: "https://hooks.slack.com/commands/T0CONTOSO/1/abc",
      project: "checkout",
      minLevel: "error",
      thread: true,
      subscribedAt: "2026-12-07T10:00:00.000Z",
    });
    expect(parsed).toMatchObject({ kind: "subscribe-check", channel: "C0PRIVATE1", failures: 0 });
  });
});
