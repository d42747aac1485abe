import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { TeamsInstallations } from "../../shared/storage/teams-installations";
import { IssueRepository } from "../../shared/storage/issues";
import { swallowedMarkup, teamsTexts } from "../unit/cards/teams-markup";
import { action, cardOf, cardText } from "./card-helpers";
import { waitFor } from "../support/wait";
import { alertCardInTeams, startStack, type Stack } from "./stack";

// Bugs a newcomer met in the first hour (issue 14), through the built app, Azurite and the Teams emulator.

let stack: Stack;
let messagesUrl: string;
let ana: TeamsUser;
let ben: TeamsUser;
let dan: TeamsUser;
let team: TeamsTeam;

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  dan = stack.teams.addUser({ name: "Dan Ruiz", email: "dan@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ben, dan] });
  await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * The sender as Microsoft's published samples show it: `from` with the `29:` id and a name, no
 * `aadObjectId` (Learn, "Card actions": the Action.Submit incoming message example; "Work with Universal
 * Actions for Adaptive Cards": the adaptiveCard/action invoke). Agents Playground sends the same.
 */
function asPublishedSample(activity: Activity): Activity {
  const from = activity.from as { id: string; name?: string };
  return { ...activity, from: { id: from.id, name: from.name } };
}

describe("Teams text shows as typed: nothing in angle brackets is swallowed by the renderer", () => {
  it("welcome cards, help and usage answers", async () => {
    await stack.teams.post(messagesUrl, stack.teams.personalInstall({ user: ana }));
    const typed = ["help", "subscribe", "unsubscribe", "subscriptions", "frobnicate"];
    for (const text of typed) await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team.generalChannelId, from: ana, text }));
    for (const text of ["help", "frobnicate"])
      await stack.teams.post(messagesUrl, stack.teams.message({ conversation: stack.teams.personalConversation(ana).id, from: ana, text }));
    const sent = [...stack.teams.messages(team.generalChannelId), ...stack.teams.messages(stack.teams.personalConversation(ana).id)];
    const texts = sent.flatMap((m) => teamsTexts(m.activity));
    expect(texts.join("\n")).toMatch(/subscribe PROJECT \[LEVEL\]/);
    expect(sent.length).toBeGreaterThanOrEqual(typed.length + 4);
    for (const text of texts) expect(swallowedMarkup(text), text).toEqual([]);
  });
});

describe("link, typed in a personal chat", () => {
  it("answers in the chat it was typed in, even when another stored personal chat for the person is gone", async () => {
    const personal = stack.teams.personalConversation(dan);
    await stack.teams.post(messagesUrl, stack.teams.personalInstall({ user: dan }));
    // An older 1:1 chat for Dan, stored before his current one (it sorts first) and long gone from Teams.
    const installations = new TeamsInstallations(stack.storage);
    const current = (await installations.get(stack.teams.tenantId, personal.id))!;
    await installations.save({ ...current, conversationId: "a:0gone-chat", updatedAt: new Date(0).toISOString() });
    const before = stack.teams.messages(personal.id).length;

    await stack.teams.post(messagesUrl, stack.teams.message({ conversation: personal.id, from: dan, text: "link" }));
    const answers = stack.teams.messages(personal.id).slice(before);
    expect(answers.map((m) => cardText(cardOf(m.activity)) || String(m.activity.text)).join("\n")).toMatch(/Link your account/);
    expect(answers.map((m) => String(m.activity.text ?? "")).join("\n")).not.toMatch(/object id|isn't reachable/);
  });
});

describe("a card click without from.aadObjectId (Microsoft's published samples)", () => {
  const postedCard = (alertId: string, issueId: string) => alertCardInTeams(stack, team.generalChannelId, { alertId, issueId });

  it("Action.Execute: the clicker is found through the Bot Connector by from.id and the action is theirs", async () => {
    const posted = await postedCard("fh-click-1", "fh-issue-1");
    const resolve = action(cardOf(posted.activity), "Resolve");
    const invoke = asPublishedSample(
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: ben,
        replyToId: posted.activityId,
        verb: resolve.verb!,
        data: resolve.data,
      }),
    );
    const response = await stack.teams.post(messagesUrl, invoke);
    expect(response.status).toBe(200);
    const body = response.body as { value: unknown };
    expect(cardText(body.value)).toMatch(/Resolved by Ben Okafor/);
    expect(cardText(body.value)).not.toMatch(/couldn't tell who you are/);
    expect((await new IssueRepository(stack.storage).get("fh-issue-1"))!.issue.status).toBe("resolved");
  });

  it("Action.Submit fallback: the same", async () => {
    const posted = await postedCard("fh-click-2", "fh-issue-2");
    const resolve = action(cardOf(posted.activity), "Resolve");
    const submit = asPublishedSample(
      stack.teams.message({
        conversation: team.generalChannelId,
        from: dan,
        value: resolve.fallbackData,
        replyToId: posted.activityId,
        mentionBot: false,
      }),
    );
    expect((await stack.teams.post(messagesUrl, submit)).status).toBe(200);
    expect((await new IssueRepository(stack.storage).get("fh-issue-2"))!.issue.status).toBe("resolved");
    // Updated for everyone (a refresh of the new card still in flight converges on the same state).
    await waitFor(() =>
      /Resolved by Dan Ruiz/.test(
        cardText(cardOf(stack.teams.messages(team.generalChannelId).find((m) => m.activityId === posted.activityId)!.activity)),
      ),
    );
  });
});

describe("a personal install without from.aadObjectId", () => {
  it("stores the chat under the person's object id (found through the Bot Connector) and links them", async () => {
    const eve = stack.teams.addUser({ name: "Eve Park", email: "eve@contoso.com" });
    await stack.teams.post(messagesUrl, asPublishedSample(stack.teams.personalInstall({ user: eve })));
    const chat = await new TeamsInstallations(stack.storage).findPersonal(stack.teams.tenantId, eve.aadObjectId);
    expect(chat?.conversationId).toBe(stack.teams.personalConversation(eve).id);
    await stack.teams.post(messagesUrl, asPublishedSample(stack.teams.message({ conversation: chat!.conversationId, from: eve, text: "status" })));
    expect(
      stack.teams
        .messages(chat!.conversationId)
        .map((m) => String(m.activity.text ?? ""))
        .join("\n"),
    ).toContain("You're linked as eve@contoso.com");
  });
});

describe("the card's words", () => {
  it("Unignore reads 'Unignored by …' on the card, after storage round trips", async () => {
    const posted = await alertCardInTeams(stack, team.generalChannelId, { alertId: "fh-words-1", issueId: "fh-words" });
    const click = async (card: unknown, title: string | RegExp) => {
      const button = action(card, title);
      const response = await stack.teams.post(
        messagesUrl,
        stack.teams.invokeAction({
          conversation: team.generalChannelId,
          from: ana,
          replyToId: posted.activityId,
          verb: button.verb!,
          data: button.data,
        }),
      );
      return (response.body as { value: unknown }).value;
    };
    const ignored = await click(cardOf(posted.activity), "Forever");
    expect(cardText(ignored)).toMatch(/Ignored forever by Ana Lima/i);
    expect(cardText(await click(ignored, "Unignore"))).toMatch(/Unignored by Ana Lima/);
  });
});
