import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { CardRepository } from "../../shared/storage/cards";
import { anAlert } from "../fixtures/issues";
import { drain, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let team: TeamsTeam;
let personalId: string;
let teamId: string;
let channel: string;
let slackAna: string;

const ISSUE = "live-issue";

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "2" } });
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  await stack.teams.post(`${stack.api}/messages`, stack.teams.personalInstall({ user: ana }));
  personalId = stack.teams.personalConversation(ana).id;
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
  slackAna = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
});
afterAll(async () => {
  await stack?.stop();
});

const teamsCard = (conversationId: string) => stack.teams.messages(conversationId).find((m) => cardText(cardOf(m.activity)).includes("TypeError"));
const slackCard = () => stack.slack.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
const teamsText = (conversationId: string) => cardText(cardOf(teamsCard(conversationId)!.activity));
/** Cards posted in Teams (thread lines are posts too, addressed to the card's thread: `;messageid=`). */
const cardPosts = () => stack.teams.calls.filter((c) => c.operation === "send" && !c.conversationId?.includes(";messageid="));
const api = (path: string, init?: RequestInit) => fetch(`${stack.api}/issues/${path}`, init);

describe("every copy stays true, on both platforms", () => {
  it("an issue with cards in a Teams channel, a Teams 1:1 chat and a Slack channel", async () => {
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "live-1",
        issue: { id: ISSUE },
        targets: [
          { provider: "msteams", conversationId: team.generalChannelId },
          { provider: "msteams", userEmail: "ana@contoso.com" },
          { provider: "slack", teamId, channel },
        ],
      }),
    );
    await waitFor(async () => ((await new CardRepository(stack.storage).list(ISSUE)).length === 3 ? true : undefined), { timeoutMs: 30_000 });
    expect(teamsCard(team.generalChannelId)).toBeDefined();
    expect(teamsCard(personalId)).toBeDefined();
    expect(slackCard()).toBeDefined();
    await drain(stack.azurite.connectionString, "issue-events");
  });

  it("Resolve clicked in Slack: the Teams channel card and the 1:1 card say Resolved by …", async () => {
    const message = slackCard()!;
    const payload = stack.slack.blockActions({ teamId, user: slackAna, channel, messageTs: message.ts, actions: [click(message.blocks, "Resolve")] });
    expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
    await waitFor(
      () =>
        teamsText(team.generalChannelId).includes("Resolved by Ana Lima") && teamsText(personalId).includes("Resolved by Ana Lima")
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
    const puts = stack.teams.calls.filter((c) => c.operation === "update");
    expect(new Set(puts.map((c) => c.conversationId))).toEqual(new Set([team.generalChannelId, personalId]));
    expect(blocksText(slackCard()!.blocks)).toMatch(/Resolved by Ana Lima/);
  });

  it("GET /api/issues/{id}: the issue, its activities and where its cards are", async () => {
    const response = await api(ISSUE);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { issue: { status: string }; activities: { action: string }[]; cards: { provider: string }[] };
    expect(body.issue.status).toBe("resolved");
    expect(body.activities[0]).toMatchObject({ action: "resolve", actor: "ana@contoso.com", surface: "slack" });
    expect(body.cards.map((c) => c.provider).sort()).toEqual(["msteams", "msteams", "slack"]);
  });

  it("PATCH /api/issues/{id} unresolve: all three copies updated", async () => {
    stack.teams.clearCalls();
    const response = await api(ISSUE, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "unresolve", actor: "ben@contoso.com" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ changed: true, issue: { status: "unresolved" } });
    await waitFor(
      () =>
        teamsText(team.generalChannelId).includes("Unresolved by ben@contoso.com") &&
        teamsText(personalId).includes("Unresolved by ben@contoso.com") &&
        blocksText(slackCard()!.blocks).includes("Unresolved by ben@contoso.com")
          ? true
          : undefined,
      { timeoutMs: 30_000 },
    );
  });

  it("an issue-events message for each change", async () => {
    const events = await waitFor(async () => {
      const seen = await drain(stack.azurite.connectionString, "issue-events");
      return seen.length ? seen : undefined;
    });
    const bodies = events.map((e) => e.body as Record<string, unknown>);
    expect(bodies.map((b) => b.action)).toEqual(["resolve", "unresolve"]);
    expect(bodies[1]).toMatchObject({
      schemaVersion: 1,
      issueId: ISSUE,
      actor: "ben@contoso.com",
      surface: "api",
      from: "resolved",
      to: "unresolved",
      eventId: expect.any(String),
      at: expect.any(String),
    });
  });

  it("the issue API answers 400, 404 and 409 with reasons", async () => {
    const bad = await api(ISSUE, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "explode", actor: "ben@contoso.com" }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ issues: [expect.objectContaining({ path: "action" })] });
    const missing = await api("no-such-issue", { method: "PATCH", body: JSON.stringify({ action: "resolve", actor: "ben@contoso.com" }) });
    expect(missing.status).toBe(404);
    await api(ISSUE, { method: "PATCH", body: JSON.stringify({ action: "resolve", actor: "ben@contoso.com" }) });
    const refused = await api(ISSUE, {
      method: "PATCH",
      body: JSON.stringify({ action: "ignore", ignore: { mode: "forever" }, actor: "ben@contoso.com" }),
    });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: expect.stringMatching(/Unresolve it before ignoring/) });
    const notJson = await api(ISSUE, { method: "PATCH", body: "{" });
    expect(notJson.status).toBe(400);
  });

  it("a regression (alert for a resolved issue): a new post, and the old copies say Regressed", async () => {
    const postsBefore = cardPosts().length;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "live-2",
        issue: { id: ISSUE, count: 80, lastSeen: new Date().toISOString() },
        targets: [{ provider: "msteams", conversationId: team.generalChannelId }],
      }),
    );
    const row = await waitFor(async () => (await new DeliveryRepository(stack.storage).listForAlert("live-2")).find((d) => d.state === "sent"), {
      timeoutMs: 30_000,
    });
    expect(row.decision).toBe("posted a new card: the issue regressed");
    expect(cardPosts().length).toBe(postsBefore + 1);
    await waitFor(() => (teamsText(personalId).includes("Regressed") && blocksText(slackCard()!.blocks).includes("Regressed") ? true : undefined), {
      timeoutMs: 30_000,
    });
  });

  it("a repeat alert updates the live card instead of posting", async () => {
    const sendsBefore = cardPosts().length;
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({
        alertId: "live-3",
        issue: { id: ISSUE, count: 99, lastSeen: new Date().toISOString() },
        targets: [{ provider: "msteams", conversationId: team.generalChannelId }],
      }),
    );
    const row = await waitFor(async () => (await new DeliveryRepository(stack.storage).listForAlert("live-3")).find((d) => d.state === "sent"), {
      timeoutMs: 30_000,
    });
    expect(row.decision).toBe("updated the live card");
    await waitFor(
      () => (stack.teams.messages(team.generalChannelId).some((m) => cardText(cardOf(m.activity)).includes("Events: 99")) ? true : undefined),
      { timeoutMs: 30_000 },
    );
    expect(cardPosts().length).toBe(sendsBefore);
  });
});
