// `/triage subscribe` and `/triage subscriptions` in a channel where the app can't post cards: the person who typed
// it is told why and how to fix it, the subscription is kept, and cards come once the app is invited back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { triageReply } from "./slack-command-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let teamId: string;
let ana: string;
let botUserId: string;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  botUserId = (await new SlackInstallations(stack.storage).get(teamId))!.botUserId!;
});
afterAll(async () => {
  await stack?.stop();
});

/** What Ana sees after typing `/triage <text>` in the channel: the ephemeral reply's text. */
const triage = (channel: string, text: string) => triageReply(stack, { teamId, user: ana, channel }, text);

async function slackEvent(event: Record<string, unknown> & { type: string }) {
  const delivered = await stack.slack.sendEvent(`${stack.api}/slack/events`, stack.slack.eventCallback({ teamId, event }));
  expect(delivered.status).toBe(200);
}

const cardIn = (channel: string, issueId: string) =>
  stack.slack.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`));

async function alertFor(project: string, ids: { alertId: string; issueId: string }) {
  await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId: ids.alertId, issue: { id: ids.issueId, project } }));
}

describe("Slack /triage subscribe where the app can't post", () => {
  it("a normal channel answers as before", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
    expect(await triage(channel, "subscribe checkout error")).toBe(
      "Subscribed: alerts for *checkout* at level error or above will be posted in this channel. Make sure the app can post here (invite it to private channels).",
    );
    expect(await triage(channel, "subscriptions")).toBe("Subscribed in this channel:\n\n• *checkout* (error and above)");
  });

  it("a channel the app was removed from: says the app is not in it, how to invite it, and that the subscription is saved", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "ops" }).id;
    await slackEvent({ type: "member_left_channel", user: botUserId, channel, channel_type: "C" });

    const reply = await triage(channel, "subscribe payments warning");
    expect(reply).toMatch(/I'm not in this channel/);
    expect(reply).toMatch(/removed me/);
    expect(reply).toContain("Invite me with `/invite @Triage Relay`");
    expect(reply).toMatch(/subscription is saved/);
    expect(reply).toContain("*payments*");
    // No `<…>`: Slack would parse it as a link or mention.
    expect(reply).not.toMatch(/[<>]/);

    const list = await triage(channel, "subscriptions");
    expect(list).toContain("• *payments* (warning and above)");
    expect(list).toMatch(/Cards are stopped here/);
    expect(list).toMatch(/I'm not in this channel/);
    expect(list).toContain("`/invite @Triage Relay`");
  });

  it("the app removed by channel_left: the same answer", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "support" }).id;
    await slackEvent({ type: "channel_left", channel, actor_id: ana });
    const reply = await triage(channel, "subscribe support");
    expect(reply).toMatch(/I'm not in this channel/);
    expect(reply).toContain("Invite me with `/invite @Triage Relay`");
    expect(reply).toMatch(/subscription is saved/);
  });

  it("an archived channel: says cards can't be posted in an archived channel, and that the subscription is saved", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "old-alerts", archived: true }).id;
    await slackEvent({ type: "channel_archive", channel, user: ana });

    const reply = await triage(channel, "subscribe legacy");
    expect(reply).toMatch(/This channel is archived/);
    expect(reply).toMatch(/can't be posted in an archived channel/);
    expect(reply).toMatch(/unarchive the channel/i);
    expect(reply).toMatch(/subscription is saved/);
    expect(reply).not.toMatch(/invite/i);
    expect(reply).not.toMatch(/[<>]/);

    const list = await triage(channel, "subscriptions");
    expect(list).toContain("• *legacy* (error and above)");
    expect(list).toMatch(/Cards are stopped here/);
    expect(list).toMatch(/archived/);
  });

  it("invited back: the saved subscription gets the next alert's card, and the list no longer says cards are stopped", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "billing" }).id;
    await slackEvent({ type: "member_left_channel", user: botUserId, channel, channel_type: "C" });
    expect(await triage(channel, "subscribe billing")).toMatch(/I'm not in this channel/);

    await alertFor("billing", { alertId: "billing-while-removed", issueId: "billing-issue-1" });
    const dead = await waitFor(
      async () => (await new DeliveryRepository(stack.storage).listForAlert("billing-while-removed")).find((d) => d.state === "dead"),
      {
        description: "the delivery to the channel the app was removed from given up",
      },
    );
    expect(dead.reason).toMatch(/removed from the channel/);
    expect(cardIn(channel, "billing-issue-1")).toBeUndefined();
    expect(await triage(channel, "subscriptions")).toMatch(/Cards are stopped here/);

    await slackEvent({ type: "member_joined_channel", user: botUserId, channel, channel_type: "C" });
    await alertFor("billing", { alertId: "billing-after-invite", issueId: "billing-issue-2" });
    await waitFor(() => cardIn(channel, "billing-issue-2"), { description: "the card of the next alert in the channel" });
    expect(await triage(channel, "subscriptions")).toBe("Subscribed in this channel:\n\n• *billing* (error and above)");
  });
});
