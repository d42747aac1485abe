// A click the click path hands to the slack-actions queue (here: from someone not linked yet, whose profile is read
// first) is acknowledged within Slack's 3 s whatever the queue send does. When storage refuses that send for longer
// than the ack, the clicker must still learn that nothing may have been applied: silence reads as "it worked".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let teamId: string;
let channel: string;

beforeAll(async () => {
  stack = await startStack({ countStorage: true });
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const cardIn = (issueId: string) => stack.slack.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`));

describe("a Slack click handed off to the queue", () => {
  it("storage refuses the hand-off with 503s past the ack: acknowledged in time, then the clicker is told it may not have been applied", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "alert-handoff-refused", issue: { id: "handoff-refused" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    const message = await waitFor(() => cardIn("handoff-refused"));
    const cai = stack.slack.addUser(teamId, { name: "cai", realName: "Cai Ng", email: "cai@contoso.com" }).id;
    // Azure Storage busy: the SDK retries a 503 with seconds of backoff, so the send fails only after the ack.
    stack.storageProxy!.refuse(({ service, method, url }) =>
      service === "queue" && method === "POST" && url.includes("/slack-actions/messages") ? 503 : undefined,
    );
    try {
      const payload = stack.slack.blockActions({ teamId, user: cai, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
      const result = await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload);
      expect(result.timedOut).toBe(false);
      expect(result.status).toBe(200);

      const answers = () => stack.slack.responses.filter((r) => payload.response_url.endsWith(`/${r.responseUrlId}`));
      const [answer] = await waitFor(() => (answers().length ? answers() : undefined), {
        timeoutMs: 90_000,
        intervalMs: 250,
        description: "an answer to Cai once the hand-off failed",
      });
      expect(answer!.body).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/Something went wrong on our side/) });
    } finally {
      stack.storageProxy!.refuse(undefined);
    }
    expect((await new IssueRepository(stack.storage).get("handoff-refused"))?.issue.status).toBe("unresolved");
  }, 150_000);
});
