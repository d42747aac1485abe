// `/triage subscribe` in a channel the app can't post in although Slack never sent an event about it (a private
// channel it was never invited to): right after the answer, a second private message says so and how to fix it,
// found out by asking Slack off the 3-second ack. Where the app can post, nothing more is said.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUEUES } from "../../shared/storage/clients";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { messageCount } from "../support/queues";
import { waitFor } from "../support/wait";
import { triageReply } from "./slack-command-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let teamId: string;
let ana: string;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso", { rotation: true });
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
});
afterAll(async () => {
  await stack?.stop();
});

/** Ana types `/triage <text>` in the channel: the ephemeral reply Slack shows at once. */
const triage = (channel: string, text: string) => triageReply(stack, { teamId, user: ana, channel }, text);

/** What the app said to Ana afterwards in the channel, only to her (through the command's response_url). */
const followUps = (channel: string) => stack.slack.messages(channel).filter((m) => m.ephemeral?.user === ana);

const infoCalls = (channel: string) => stack.slack.callsTo("conversations.info").filter((call) => call.params.channel === channel);

/** Every command's follow-up work is done: the slack-actions queue holds nothing, visible or waiting. */
async function queueDrained(channel: string) {
  await waitFor(() => infoCalls(channel).length > 0, { description: `Slack asked about ${channel}` });
  await waitFor(async () => (await messageCount(stack.azurite.connectionString, QUEUES.slackActions)) === 0, {
    description: "the slack-actions queue drained",
    intervalMs: 200,
  });
}

describe("Slack /triage subscribe where no channel event said the app can't post", () => {
  it("a private channel the app was never invited to: a follow-up says the app isn't in it and how to invite it; the subscription stays", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "secret-ops", isPrivate: true, botIsMember: false }).id;

    expect(await triage(channel, "subscribe checkout warning")).toMatch(/^Subscribed/);

    const [followUp] = await waitFor(() => (followUps(channel).length ? followUps(channel) : undefined), {
      description: "a follow-up to Ana in the private channel",
    });
    expect(followUp!.text).toMatch(/I'm not in this channel, so I can't post cards here/);
    expect(followUp!.text).toContain("Invite me with `/invite @Triage Relay`");
    expect(followUp!.text).not.toMatch(/removed me/);
    expect(followUp!.text).toMatch(/subscription is saved/);
    expect(followUp!.text).toContain("*checkout*");
    expect(followUp!.text).not.toMatch(/[<>]/);
    await queueDrained(channel);
    expect(followUps(channel)).toHaveLength(1);

    expect(await triage(channel, "subscriptions")).toContain("• *checkout* (warning and above)");
  });

  it("a private channel the app is in: no follow-up", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "private-alerts", isPrivate: true, botIsMember: true }).id;
    expect(await triage(channel, "subscribe checkout")).toMatch(/^Subscribed/);
    await queueDrained(channel);
    expect(followUps(channel)).toEqual([]);
  });

  it("a public channel the app isn't in (it posts there without joining): no follow-up", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "public-alerts", botIsMember: false }).id;
    expect(await triage(channel, "subscribe checkout")).toMatch(/^Subscribed/);
    await queueDrained(channel);
    expect(followUps(channel)).toEqual([]);
  });

  it("an archived public channel: a follow-up says cards can't be posted in an archived channel", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "old-public", archived: true, botIsMember: false }).id;
    expect(await triage(channel, "subscribe legacy")).toMatch(/^Subscribed/);
    const [followUp] = await waitFor(() => (followUps(channel).length ? followUps(channel) : undefined), {
      description: "a follow-up to Ana in the archived channel",
    });
    expect(followUp!.text).toMatch(/This channel is archived/);
    expect(followUp!.text).toMatch(/unarchive the channel/i);
    expect(followUp!.text).not.toMatch(/invite/i);
    expect(followUp!.text).toMatch(/subscription is saved/);
  });

  it("Slack throttles the question (429): no warning from it, and the channel is asked again", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "private-busy", isPrivate: true, botIsMember: true }).id;
    stack.slack.injectError({ method: "conversations.info", channel, error: "ratelimited", retryAfterSec: 1 });
    expect(await triage(channel, "subscribe checkout")).toMatch(/^Subscribed/);
    await waitFor(() => infoCalls(channel).some((call) => call.ok), { description: "Slack asked again after its Retry-After" });
    await queueDrained(channel);
    expect(infoCalls(channel).map((call) => call.httpStatus)).toEqual([429, 200]);
    expect(followUps(channel)).toEqual([]);
  });

  it("throttled where the app isn't in the channel: the warning comes once Slack answers", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "private-busy-2", isPrivate: true, botIsMember: false }).id;
    stack.slack.injectError({ method: "conversations.info", channel, error: "ratelimited", retryAfterSec: 1 });
    expect(await triage(channel, "subscribe checkout")).toMatch(/^Subscribed/);
    const [followUp] = await waitFor(() => (followUps(channel).length ? followUps(channel) : undefined), {
      description: "the follow-up after the throttled question",
    });
    expect(followUp!.text).toMatch(/I'm not in this channel/);
    expect(infoCalls(channel).map((call) => call.httpStatus)).toEqual([429, 200]);
  });

  it("the workspace's token expired: refreshed, and no false warning for a channel the app is in", async () => {
    const channel = stack.slack.addChannel(teamId, { name: "private-renewed", isPrivate: true, botIsMember: true }).id;
    stack.slack.expireToken((await new SlackInstallations(stack.storage).get(teamId))!.botToken);
    expect(await triage(channel, "subscribe checkout")).toMatch(/^Subscribed/);
    await waitFor(() => infoCalls(channel).some((call) => call.ok), { description: "Slack answered with a refreshed token" });
    await queueDrained(channel);
    expect(infoCalls(channel).map((call) => call.error ?? "ok")).toEqual(["token_expired", "ok"]);
    expect(followUps(channel)).toEqual([]);
  });

  it("a direct message between people: the follow-up says cards go to channels, without an invite the app can't get", async () => {
    // The emulator holds no direct message between two people: the command's fields are Slack's for one, its
    // response_url answers in a channel of Ana's.
    const answersIn = stack.slack.addChannel(teamId, { name: "ana-scratch", isPrivate: true, botIsMember: false }).id;
    const fields = {
      ...stack.slack.slashCommand({ teamId, user: ana, channel: answersIn, command: "/triage", text: "subscribe checkout" }),
      channel_id: "D0ANABOB01",
      channel_name: "directmessage",
    };
    const reply = await stack.slack.sendCommand(`${stack.api}/slack/commands`, fields);
    expect((reply.json as { text: string }).text).toMatch(/^Subscribed/);
    const [followUp] = await waitFor(() => (followUps(answersIn).length ? followUps(answersIn) : undefined), {
      description: "the follow-up about the direct message",
    });
    expect(followUp!.text).toMatch(/I'm not in this conversation, so I can't post cards here/);
    expect(followUp!.text).not.toMatch(/invite/i);
    expect(followUp!.text).toContain("`/triage unsubscribe checkout` removes it");
  });
});
