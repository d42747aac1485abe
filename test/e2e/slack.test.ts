import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { CardRepository } from "../../shared/storage/cards";
import { ActivityRepository, IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { blocksText, click } from "./slack-helpers";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let teamId: string;
let channel: string;
let ops: string;
let ana: string;

beforeAll(async () => {
  stack = await startStack();
  const workspace = stack.slack.addWorkspace({ name: "Contoso", rotation: true });
  teamId = workspace.teamId;
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  ops = stack.slack.addChannel(teamId, { name: "ops" }).id;
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  stack.slack.setAuthorizeAs({ teamId, userId: ana });
});
afterAll(async () => {
  await stack?.stop();
});

const interactions = () => `${stack.api}/slack/interactions`;
const cardIn = (ch: string, issueId: string) =>
  stack.slack.messages(ch).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`));

/** Clicks, and waits for the app's answer through the response_url (a first click is finished off the 3 s path). */
async function clickOn(issueId: string, label: string) {
  const message = cardIn(channel, issueId)!;
  const payload = stack.slack.blockActions({ teamId, user: ana, channel, messageTs: message.ts, actions: [click(message.blocks, label)] });
  const before = stack.slack.responses.length;
  const response = await stack.slack.sendInteraction(interactions(), payload);
  expect(response.status).toBe(200);
  await waitFor(() => (stack.slack.responses.length > before ? true : undefined), { timeoutMs: 30_000 });
  return response;
}

/**
 * The card shows `pattern` (the click's own replacement does; a refresh of an earlier click still in flight may land
 * after it, and the card converges on the stored state).
 */
async function shows(issueId: string, pattern: RegExp) {
  await waitFor(() => pattern.test(blocksText(cardIn(channel, issueId)!.blocks)), { description: `the card showing ${pattern}` });
}

describe("Slack, end to end through the local host and the Slack emulator", () => {
  it("install: authorize, redirect back, code exchanged, installation stored", async () => {
    const start = await fetch(`${stack.api}/slack/install`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const cookie = start.headers.get("set-cookie")!.split(";")[0]!;
    const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
    expect(authorize.status).toBe(302);
    const back = authorize.headers.get("location")!;
    expect(back.startsWith(`${stack.env.PUBLIC_BASE_URL}/api/slack/oauth_redirect?`)).toBe(true);

    const elsewhere = await fetch(back);
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toMatch(/another browser/);

    const done = await fetch(back, { headers: { cookie } });
    expect(done.status).toBe(200);
    expect(await done.text()).toMatch(/installed in Contoso/);
    const installation = await new SlackInstallations(stack.storage).get(teamId);
    expect(installation).toMatchObject({ active: true, teamName: "Contoso", botUserId: expect.any(String), refreshToken: expect.any(String) });
    expect(stack.host.logs().join("\n")).not.toContain(installation!.botToken);
  });

  it("an alert with a Slack target posts the card with the right blocks, recorded in cards", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "slack-1", issue: { id: "slack-issue" }, targets: [{ provider: "slack", teamId, channel }] }),
    );
    const message = await waitFor(() => cardIn(channel, "slack-issue"), { timeoutMs: 30_000 });
    const text = blocksText(message.blocks);
    expect(text).toContain("TypeError: cart is undefined");
    expect(text).toMatch(/cart\/view\.ts in render/);
    expect(text).toMatch(/57/);
    expect(message.text).toMatch(/TypeError/);
    const copies = await waitFor(async () =>
      (await new CardRepository(stack.storage).list("slack-issue")).length ? new CardRepository(stack.storage).list("slack-issue") : undefined,
    );
    expect(copies).toEqual([expect.objectContaining({ provider: "slack", teamId, channel, ts: message.ts })]);
  });

  it("Resolve: 200, issue resolved, activity written by Ana, message updated", async () => {
    await clickOn("slack-issue", "Resolve");
    expect((await new IssueRepository(stack.storage).get("slack-issue"))!.issue.status).toBe("resolved");
    // The history line is written once the clicker has the answer.
    await waitFor(
      async () =>
        expect((await new ActivityRepository(stack.storage).list("slack-issue"))[0]).toMatchObject({
          action: "resolve",
          actor: "ana@contoso.com",
          surface: "slack",
        }) ?? true,
    );
    await shows("slack-issue", /Resolved by Ana Lima/);
  });

  it("Unresolve, then Ignore until 100 more events, then Assign to me", async () => {
    await clickOn("slack-issue", "Unresolve");
    expect((await new IssueRepository(stack.storage).get("slack-issue"))!.issue.status).toBe("unresolved");

    await clickOn("slack-issue", "Until 100 more events");
    const ignored = (await new IssueRepository(stack.storage).get("slack-issue"))!.issue;
    expect(ignored).toMatchObject({ status: "ignored", ignore: { mode: "events", moreEvents: 100, untilCount: 157 } });
    await shows("slack-issue", /Ignored until 100 more events/);

    await clickOn("slack-issue", "Assign to me");
    expect((await new IssueRepository(stack.storage).get("slack-issue"))!.issue.assignee?.email).toBe("ana@contoso.com");
    await shows("slack-issue", /Assigned to Ana Lima/);
    await waitFor(
      async () =>
        expect((await new ActivityRepository(stack.storage).list("slack-issue")).map((a) => a.action).slice(0, 4)).toEqual([
          "assign",
          "ignore",
          "unresolve",
          "resolve",
        ]) ?? true,
    );
  });

  it("a stale click (already done elsewhere) is answered ephemerally, not silently", async () => {
    const before = stack.slack.responses.length;
    await clickOn("slack-issue", "Assign to me");
    const replies = stack.slack.responses.slice(before).map((r) => r.body as { response_type?: string; text?: string });
    expect(replies).toContainEqual(expect.objectContaining({ response_type: "ephemeral", text: expect.stringMatching(/already assigned/) }));
  });

  it("an unknown action gets an ephemeral explanation and changes nothing", async () => {
    const message = cardIn(channel, "slack-issue")!;
    const version = (await new IssueRepository(stack.storage).get("slack-issue"))!.issue.version;
    const payload = stack.slack.blockActions({ teamId, user: ana, channel, messageTs: message.ts, actions: [click(message.blocks, "Unassign")] });
    (payload.actions[0] as Record<string, unknown>).action_id = "triage.explode";
    const before = stack.slack.responses.length;
    expect((await stack.slack.sendInteraction(interactions(), payload)).status).toBe(200);
    // Answered before the ack, or by the slack-actions worker when storage was too slow for the 3 s path.
    await waitFor(() => stack.slack.responses.length > before);
    expect(
      stack.slack.responses
        .slice(before)
        .map((r) => (r.body as { text: string }).text)
        .join(),
    ).toMatch(/isn't one Triage Relay knows/);
    expect((await new IssueRepository(stack.storage).get("slack-issue"))!.issue.version).toBe(version);
  });

  it("/triage subscribe checkout error, then an alert for checkout with no targets is posted in that channel", async () => {
    const reply = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: ana, channel: ops, command: "/triage", text: "subscribe checkout error" }),
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ response_type: "ephemeral", text: expect.stringMatching(/Subscribed/) });
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "slack-sub", issue: { id: "slack-sub-issue", project: "checkout", level: "error" } }),
    );
    await waitFor(() => cardIn(ops, "slack-sub-issue"), { timeoutMs: 30_000 });
    const list = await stack.slack.sendCommand(
      `${stack.api}/slack/commands`,
      stack.slack.slashCommand({ teamId, user: ana, channel: ops, command: "/triage", text: "subscriptions" }),
    );
    expect((list.json as { text: string }).text).toMatch(/checkout/);
  });

  it("url_verification is answered with the challenge", async () => {
    const result = await stack.slack.sendUrlVerification(`${stack.api}/slack/events`);
    expect(result.status).toBe(200);
    expect(result.json).toEqual({ challenge: result.challenge });
  });
});
