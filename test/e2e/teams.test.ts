import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { CardRepository } from "../../shared/storage/cards";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { ActivityRepository, IssueRepository } from "../../shared/storage/issues";
import { DeliveryRepository } from "../../shared/storage/deliveries";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let ben: TeamsUser;
let cleo: TeamsUser;
let team: TeamsTeam;
let messagesUrl: string;

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  cleo = stack.teams.addUser({ name: "Cleo Diaz", email: "cleo@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ben, cleo] });
});
afterAll(async () => {
  await stack?.stop();
});

async function postAlert(alertId: string, issueId: string, targets: unknown[]) {
  await sendBase64Json(stack.azurite.connectionString, "alerts", anAlert({ alertId, issue: { id: issueId }, targets: targets as never }));
}

function sharedCard(activityId: string) {
  return stack.teams.messages(team.generalChannelId).find((m) => m.activityId === activityId)!;
}

/** Ana clicks a button of the card in the team's General channel (Action.Execute: an invoke). */
function invokeOnCard(activityId: string, verb: string, data: unknown) {
  return stack.teams.post(
    messagesUrl,
    stack.teams.invokeAction({ conversation: team.generalChannelId, from: ana, replyToId: activityId, verb, data }),
  );
}

/** `from` clicks a Submit button of the card in the team's General channel (a message carrying its value). */
function submitOnCard(activityId: string, from: TeamsUser, value: unknown) {
  return stack.teams.post(
    messagesUrl,
    stack.teams.message({ conversation: team.generalChannelId, from, value, replyToId: activityId, mentionBot: false }),
  );
}

function cardMessages(conversationId: string) {
  return stack.teams.messages(conversationId).filter((m) => cardText(cardOf(m.activity)).includes("TypeError"));
}

describe("Teams, end to end through the local host and the Bot Connector emulator", () => {
  it("bot added to a team: installation stored, welcome card posted with the conversation id", async () => {
    const response = await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
    expect(response.status).toBe(200);
    const installation = await new TeamsInstallations(stack.storage).get(stack.teams.tenantId, team.generalChannelId);
    expect(installation).toMatchObject({ active: true, conversationType: "channel", teamName: "Checkout", serviceUrl: stack.teams.serviceUrl });
    const welcome = stack.teams.messages(team.generalChannelId).map((m) => cardText(cardOf(m.activity)));
    expect(welcome.join("\n")).toMatch(/Triage Relay is ready[\s\S]*subscribe[\s\S]*/);
    expect(welcome.join("\n")).toContain(team.generalChannelId);
  });

  it("an alert for the channel posts a card within seconds, recorded in cards", async () => {
    await postAlert("teams-alert-1", "teams-issue-1", [{ provider: "msteams", conversationId: team.generalChannelId }]);
    const [card] = await waitFor(() => (cardMessages(team.generalChannelId).length ? cardMessages(team.generalChannelId) : undefined), {
      timeoutMs: 30_000,
    });
    expect(cardText(cardOf(card!.activity))).toMatch(/Events: 57/);
    const copies = await waitFor(async () =>
      (await new CardRepository(stack.storage).list("teams-issue-1")).length ? new CardRepository(stack.storage).list("teams-issue-1") : undefined,
    );
    expect(copies).toEqual([expect.objectContaining({ provider: "msteams", conversationId: team.generalChannelId, activityId: card!.activityId })]);
    const delivery = await waitFor(async () =>
      (await new DeliveryRepository(stack.storage).listForAlert("teams-alert-1")).find((d) => d.state === "sent"),
    );
    expect(delivery.messageRef).toBe(`${team.generalChannelId}/${card!.activityId}`);
  });

  it("Resolve clicked (Action.Execute): the resolved card comes back in the same response, issue resolved, activity written", async () => {
    const [posted] = cardMessages(team.generalChannelId);
    const resolve = action(cardOf(posted!.activity), "Resolve");
    const response = await invokeOnCard(posted!.activityId, resolve.verb!, resolve.data);
    expect(response.status).toBe(200);
    const body = response.body as { statusCode: number; type: string; value: unknown };
    expect(body).toMatchObject({ statusCode: 200, type: "application/vnd.microsoft.card.adaptive" });
    expect(cardText(body.value)).toMatch(/Resolved by Ana Lima/);
    expect(() => action(body.value, "Unresolve")).not.toThrow();

    const issue = (await new IssueRepository(stack.storage).get("teams-issue-1"))!.issue;
    expect(issue.status).toBe("resolved");
    // The history line is written once the clicker has the answer.
    const activities = await waitFor(async () => {
      const listed = await new ActivityRepository(stack.storage).list("teams-issue-1");
      return listed.length ? listed : undefined;
    });
    expect(activities[0]).toMatchObject({
      action: "resolve",
      actor: "ana@contoso.com",
      surface: "teams",
      fromStatus: "unresolved",
      toStatus: "resolved",
    });
    // Everyone else sees the change too: the copy is updated in place (PUT) from the stored issue.
    await waitFor(() => stack.teams.calls.find((c) => c.operation === "update" && c.activityId === posted!.activityId), { timeoutMs: 30_000 });
  });

  it("a click whose data names an issue id no alert could have made (crafted, half an emoji): 400 with the reason, not a 500", async () => {
    const [posted] = cardMessages(team.generalChannelId);
    const response = await invokeOnCard(posted!.activityId, "resolve", {
      payload: { v: 1, issueId: "teams-issue-\ud83d", cardVersion: 1, action: { type: "resolve" } },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, type: "application/vnd.microsoft.error" });
  });

  it("the Action.Submit fallback (Teams mobile) makes the same change and updates the clicked card with PUT", async () => {
    const [posted] = cardMessages(team.generalChannelId);
    const card = await waitFor(() => {
      const current = cardOf(stack.teams.messages(team.generalChannelId).find((m) => m.activityId === posted!.activityId)!.activity);
      return cardText(current).includes("Resolved by") ? current : undefined;
    });
    const unresolve = action(card, "Unresolve");
    stack.teams.clearCalls();
    const response = await submitOnCard(posted!.activityId, ben, unresolve.fallbackData);
    expect(response.status).toBe(200);
    // Made before the answer (a refresh of Ana's change may add updates of its own: this one shows Ben's).
    const put = stack.teams.calls.find(
      (c) => c.operation === "update" && c.activityId === posted!.activityId && cardText(c.body).includes("Unresolved by Ben Okafor"),
    );
    expect(put?.conversationId).toBe(team.generalChannelId);
    // A refresh of Ana's change still in flight may land after that PUT; the copy converges on the stored state.
    await waitFor(() => cardText(cardOf(sharedCard(posted!.activityId).activity)).includes("Unresolved by Ben Okafor"));
    expect((await new IssueRepository(stack.storage).get("teams-issue-1"))!.issue.status).toBe("unresolved");
  });

  it("a stale Submit click: the shared card shows the state, and only the clicker is told why nothing changed", async () => {
    const [posted] = cardMessages(team.generalChannelId);
    const card = cardOf(stack.teams.messages(team.generalChannelId).find((m) => m.activityId === posted!.activityId)!.activity);
    const resolve = action(card, "Resolve");
    await submitOnCard(posted!.activityId, ben, resolve.fallbackData);
    // The same (now stale) button again.
    await submitOnCard(posted!.activityId, ben, resolve.fallbackData);
    // Converged (a refresh of the unresolve may still be in flight when the clicks are answered).
    const shared = await waitFor(() => {
      const text = cardText(cardOf(sharedCard(posted!.activityId).activity));
      return /Resolved by Ben Okafor/.test(text) ? text : undefined;
    });
    expect(shared).not.toMatch(/already resolved/);
    const toBen = stack.teams.messages(stack.teams.personalConversation(ben).id).map((m) => String(m.activity.text ?? ""));
    expect(toBen.join("\n")).toMatch(/already resolved/);
  });

  it("a 1:1 card by email reaches a user who installed the app personally", async () => {
    const install = await stack.teams.post(messagesUrl, stack.teams.personalInstall({ user: ana }));
    expect(install.status).toBe(200);
    const personal = stack.teams.personalConversation(ana);
    await postAlert("teams-alert-dm", "teams-issue-dm", [{ provider: "msteams", userEmail: "Ana@Contoso.com" }]);
    await waitFor(() => (cardMessages(personal.id).length ? true : undefined), { timeoutMs: 30_000 });
    const copies = await waitFor(async () => {
      const stored = await new CardRepository(stack.storage).list("teams-issue-dm");
      return stored.length ? stored : undefined;
    });
    expect(copies).toEqual([expect.objectContaining({ conversationId: personal.id })]);
  });

  it("a 1:1 card by Entra object id for someone who never opened the bot: the chat is created through the team's service URL", async () => {
    const creates = () => stack.teams.calls.filter((c) => c.operation === "createConversation" && JSON.stringify(c.body).includes(cleo.aadObjectId));
    await postAlert("teams-alert-oid", "teams-issue-oid", [{ provider: "msteams", aadObjectId: cleo.aadObjectId }]);
    const personal = stack.teams.personalConversation(cleo);
    await waitFor(() => (cardMessages(personal.id).length ? true : undefined), { timeoutMs: 30_000 });
    expect(creates()).toHaveLength(1);
    await postAlert("teams-alert-oid-2", "teams-issue-oid-2", [{ provider: "msteams", userEmail: "cleo@contoso.com" }]);
    await waitFor(() => (cardMessages(personal.id).length === 2 ? true : undefined), { timeoutMs: 30_000 });
    // The chat is stored: the second card reuses it.
    expect(creates()).toHaveLength(1);
  });

  it("subscribe in a channel, then an alert without targets is posted there", async () => {
    const subscribe = stack.teams.message({ conversation: team.generalChannelId, from: ana, text: "subscribe payments warning" });
    expect((await stack.teams.post(messagesUrl, subscribe)).status).toBe(200);
    const reply = stack.teams.messages(team.generalChannelId).find((m) => String(m.activity.text ?? "").includes("Subscribed"));
    expect(reply?.activity.text).toMatch(/payments/);
    await sendBase64Json(
      stack.azurite.connectionString,
      "alerts",
      anAlert({ alertId: "sub-alert", issue: { id: "sub-issue", project: "payments", level: "error", title: "TypeError: payment failed" } }),
    );
    await waitFor(async () => ((await new CardRepository(stack.storage).list("sub-issue")).length === 1 ? true : undefined), { timeoutMs: 30_000 });
  });

  it("bot removed from the team: installation inactive, no more cards posted there", async () => {
    await stack.teams.post(messagesUrl, stack.teams.botRemovedFromTeam({ team, from: ana }));
    const installation = await new TeamsInstallations(stack.storage).get(stack.teams.tenantId, team.generalChannelId);
    expect(installation).toMatchObject({ active: false, inactiveReason: "bot removed" });
    stack.teams.clearCalls();
    await postAlert("after-removal", "teams-issue-2", [{ provider: "msteams", conversationId: team.generalChannelId }]);
    const row = await waitFor(
      async () => (await new DeliveryRepository(stack.storage).listForAlert("after-removal")).find((d) => d.state === "dead"),
      { timeoutMs: 30_000 },
    );
    expect(row.reason).toMatch(/no longer in this conversation/);
    // No card: a reply in an earlier card's thread (a line still settling from the steps before) is not one.
    expect(stack.teams.calls.filter((c) => c.operation === "send" && !c.conversationId?.includes(";messageid="))).toEqual([]);
  });
});
