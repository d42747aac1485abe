import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// The clicked message is replaced through the click's response_url; the card-refresh the change announces
// then updates every other copy, and must not spend Slack's chat.update budget (Tier 3) on the clicked one.
let stack: Stack;
let teamId: string;
let clickedChannel: string;
let otherChannel: string;
let ana: string;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  clickedChannel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  otherChannel = stack.slack.addChannel(teamId, { name: "oncall" }).id;
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  await new IdentityRepository(stack.storage).link({
    provider: "slack",
    scope: teamId,
    chatUserId: ana,
    person: { email: "ana@contoso.com", name: "Ana Lima" },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  const targets = [clickedChannel, otherChannel].map((channel) => ({ provider: "slack" as const, teamId, channel }));
  await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId: "rendered-1", issue: { id: "rendered-issue" }, targets }));
  await waitFor(() => cardIn(clickedChannel) && cardIn(otherChannel), { timeoutMs: 30_000 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const cardIn = (channel: string) => stack.slack.messages(channel).find((m) => !m.ephemeral);
const updatesOf = (channel: string) => stack.slack.callsTo("chat.update").filter((c) => c.ok && c.params.channel === channel);

describe("a Slack click and the refresh of the other copies", () => {
  it("the clicked message is replaced once, by the click; the other copy is updated by the refresh", async () => {
    const clicked = cardIn(clickedChannel)!;
    const payload = stack.slack.blockActions({
      teamId,
      user: ana,
      channel: clickedChannel,
      messageTs: clicked.ts,
      actions: [click(clicked.blocks, "Resolve")],
    });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
    // Acknowledged, then replaced through the response_url right after.
    await waitFor(() => blocksText(cardIn(clickedChannel)!.blocks).includes("Resolved by Ana Lima"), {
      timeoutMs: 30_000,
      description: "the clicked message replaced",
    });
    expect(stack.slack.responses.filter((r) => (r.body as { replace_original?: boolean }).replace_original)).toHaveLength(1);

    await waitFor(() => blocksText(cardIn(otherChannel)!.blocks).includes("Resolved by Ana Lima"), {
      timeoutMs: 30_000,
      description: "the other copy refreshed",
    });
    expect(updatesOf(otherChannel)).toHaveLength(1);
    expect(updatesOf(clickedChannel)).toEqual([]);
  });
});
