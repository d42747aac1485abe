import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityRepository } from "../../shared/storage/identities";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { waitFor } from "../support/wait";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

// Ids that become storage keys are checked at the edge: a clear 400 with the reason in the log, never a 500.
let stack: Stack;
let teamId: string;
let channel: string;
let ana: string;

beforeAll(async () => {
  stack = await startStack();
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  ana = stack.slack.addUser(teamId, { name: "ana", email: "ana@contoso.com" }).id;
});
afterAll(async () => {
  await stack?.stop();
});

const long = (prefix: string) => prefix + "X".repeat(1_100);
const refusals = () => stack.host.logs().filter((line) => line.includes("Slack request refused (400)"));

async function expectRefused(send: () => Promise<{ status: number }>, field: RegExp) {
  const before = refusals().length;
  const response = await send();
  expect(response.status).toBe(400);
  // The host's log line can trail its answer by a moment (a pipe from another process).
  const logged = await waitFor(() => (refusals().length > before ? refusals().slice(before) : undefined), {
    timeoutMs: 30_000,
    intervalMs: 20,
    description: "the refusal's log line",
  });
  expect(logged.join("\n")).toMatch(field);
}

describe("Slack ids that would become storage keys are refused at the edge", () => {
  const badChannels: [string, string][] = [
    ["a slash", "C1/X"],
    ["a hash", "C1#X"],
    ["a question mark", "C1?X"],
    ["a control character", "C1\u0001X"],
    ["1,100 characters", long("C")],
  ];

  it.each(badChannels)("/triage subscribe from a channel_id with %s: 400, nothing subscribed", async (_name, channelId) => {
    const fields = {
      ...stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "subscribe checkout" }),
      channel_id: channelId,
    };
    await expectRefused(() => stack.slack.sendCommand(`${stack.api}/slack/commands`, fields), /channel_id: a Slack channel id/);
    expect(await listSubscriptions(stack.storage, `slack:${teamId}:${channelId}`)).toEqual([]);
  });

  it("/triage unlink with a 1,100-character user_id: 400", async () => {
    const fields = { ...stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "unlink" }), user_id: long("U") };
    await expectRefused(() => stack.slack.sendCommand(`${stack.api}/slack/commands`, fields), /user_id: a Slack user id/);
  });

  it("a slash command from a team_id that is not an id: 400", async () => {
    const fields = { ...stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "status" }), team_id: "T1/../X" };
    await expectRefused(() => stack.slack.sendCommand(`${stack.api}/slack/commands`, fields), /team_id: a Slack team id/);
  });

  it.each([
    ["a control character", "Ev\u0001X"],
    ["1,100 characters", long("Ev")],
  ])("an event whose event_id has %s: 400", async (_name, eventId) => {
    const envelope = { ...stack.slack.eventCallback({ teamId, event: { type: "app_mention", text: "hi" } }), event_id: eventId };
    await expectRefused(() => stack.slack.sendEvent(`${stack.api}/slack/events`, envelope), /event_id: a Slack event id/);
  });

  it("an event with a team_id that is not an id: 400, the installation untouched", async () => {
    const envelope = { ...stack.slack.eventCallback({ teamId, event: { type: "app_uninstalled" } }), team_id: long("T") };
    await expectRefused(() => stack.slack.sendEvent(`${stack.api}/slack/events`, envelope), /team_id: a Slack team id/);
  });

  it.each([
    ["message ts", (p: Record<string, any>) => ({ ...p, container: { ...p.container, message_ts: "1/2" } }), /container\.message_ts/],
    ["channel id", (p: Record<string, any>) => ({ ...p, container: { ...p.container, channel_id: long("C") } }), /container\.channel_id/],
    ["user id", (p: Record<string, any>) => ({ ...p, user: { ...p.user, id: "U1#X" } }), /user\.id/],
    ["team id", (p: Record<string, any>) => ({ ...p, team: { id: "T1?X" } }), /team\.id/],
    ["action ts", (p: Record<string, any>) => ({ ...p, actions: [{ ...p.actions[0], action_ts: "1\u0001" }] }), /actions\.0\.action_ts/],
  ])("a click whose %s is not an id: 400", async (_name, spoil, field) => {
    const message = stack.slack.addMessage(channel, {
      user: ana,
      text: "a card",
      blocks: [
        { type: "actions", elements: [{ type: "button", action_id: "triage.resolve", text: { type: "plain_text", text: "Resolve" }, value: "x" }] },
      ],
    });
    const payload = stack.slack.blockActions({ teamId, user: ana, channel, messageTs: message.ts, actions: [{ action_id: "triage.resolve" }] });
    await expectRefused(
      () => stack.slack.sendInteraction(`${stack.api}/slack/interactions`, spoil(payload as unknown as Record<string, any>)),
      field,
    );
  });

  it("valid ids still work (the refusals above are for the ids)", async () => {
    const reply = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "unlink" }),
    );
    expect(reply.status).toBe(200);
    expect(await new IdentityRepository(stack.storage).get("slack", teamId, ana)).toBeUndefined();
  });
});
