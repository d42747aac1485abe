import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listSubscriptions } from "../../shared/storage/subscriptions";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

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

const commands = () => `${stack.api}/slack/commands`;
const subscribeFields = () => stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text: "subscribe checkout" });
const encoded = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("Slack signature matrix: 401, no detail, no state change", () => {
  const cases: [string, () => Parameters<Stack["slack"]["sendCommand"]>[2]][] = [
    ["missing signature headers", () => ({ headers: { "x-slack-signature": null, "x-slack-request-timestamp": null } })],
    ["missing signature only", () => ({ headers: { "x-slack-signature": null } })],
    ["signed with the wrong secret", () => ({ secret: "not-the-signing-secret" })],
    ["body changed by one byte", () => ({ signedBody: encoded(subscribeFields()).replace("checkout", "checkouT") })],
    ["timestamp 6 minutes old", () => ({ timestamp: nowSeconds() - 360 })],
    ["timestamp 6 minutes in the future", () => ({ timestamp: nowSeconds() + 360 })],
    ["non-numeric timestamp", () => ({ timestamp: "yesterday" })],
    ["unknown version prefix", () => ({ version: "v1" })],
  ];

  it.each(cases)("%s", async (_name, options) => {
    const response = await stack.slack.sendCommand(commands(), subscribeFields(), options());
    expect(response.status).toBe(401);
    expect(response.text).toBe("");
    expect(await listSubscriptions(stack.storage, `slack:${teamId}:${channel}`)).toEqual([]);
  });

  it("the same request, correctly signed, does change state (the matrix fails for its reasons)", async () => {
    const response = await stack.slack.sendCommand(commands(), subscribeFields());
    expect(response.status).toBe(200);
    expect(await listSubscriptions(stack.storage, `slack:${teamId}:${channel}`)).toHaveLength(1);
  });

  it("interactions and events are verified too", async () => {
    const events = await stack.slack.sendUrlVerification(`${stack.api}/slack/events`, { secret: "wrong" });
    expect(events.status).toBe(401);
    const interaction = await stack.slack.sendInteraction(
      `${stack.api}/slack/interactions`,
      { type: "block_actions" },
      { timestamp: nowSeconds() - 3600 },
    );
    expect(interaction.status).toBe(401);
  });

  it("an oversized body is refused with 413 before it is read whole", async () => {
    const response = await stack.slack.sendCommand(commands(), { ...subscribeFields(), text: "x".repeat(70_000) });
    expect(response.status).toBe(413);
  });

  it("a signed but malformed payload is a 400, not a 500", async () => {
    const response = await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, { type: "block_actions", actions: "nope" });
    expect(response.status).toBe(400);
  });
});

describe("who may use the Slack app", () => {
  it("a workspace that never installed the app can't subscribe", async () => {
    const stranger = stack.slack.addWorkspace({ name: "Stranger" }).teamId;
    const user = stack.slack.addUser(stranger, { name: "eve", email: "eve@stranger.example" }).id;
    const strangerChannel = stack.slack.addChannel(stranger, { name: "x" }).id;
    const reply = await stack.slack.sendCommand(
      commands(),
      stack.slack.slashCommand({ teamId: stranger, user, channel: strangerChannel, command: "/triage", text: "subscribe checkout" }),
    );
    expect(reply.status).toBe(200);
    expect((reply.json as { text: string }).text).toMatch(/isn't installed/);
    expect(await listSubscriptions(stack.storage, `slack:${stranger}:${strangerChannel}`)).toEqual([]);
  });
});

describe("with SLACK_ALLOWED_TEAMS", () => {
  let limited: Stack;
  beforeAll(async () => {
    limited = await startStack({ env: { SLACK_ALLOWED_TEAMS: "T0ALLOWED1" } });
  });
  afterAll(async () => {
    await limited?.stop();
  });

  it("an install from another workspace is refused, and nothing is stored", async () => {
    await expect(installSlackWorkspace(limited, "Outsiders")).rejects.toThrow(/failed: 403/);
  });

  it("the allowed workspace installs", async () => {
    limited.slack.addWorkspace({ id: "T0ALLOWED1", name: "Ours" });
    const installer = limited.slack.addUser("T0ALLOWED1", { name: "admin", email: "admin@ours.example" }).id;
    limited.slack.setAuthorizeAs({ teamId: "T0ALLOWED1", userId: installer });
    const start = await fetch(`${limited.api}/slack/install`, { redirect: "manual" });
    const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
    const done = await fetch(authorize.headers.get("location")!, { headers: { cookie: start.headers.get("set-cookie")!.split(";")[0]! } });
    expect(done.status).toBe(200);
  });
});
