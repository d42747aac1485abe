import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { TABLES } from "../../shared/storage/clients";
import { TeamsInstallations, type TeamsInstallation } from "../../shared/storage/teams-installations";
import { signInAs, TestBrowser } from "../support/browser";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { alertCardInTeams, startStack, type Stack } from "./stack";

// A 1:1 chat on record that Teams no longer knows (404 ConversationNotFound) is marked inactive on every path
// that sends to it, a new 1:1 chat takes the message, and the person is told what happened (issue 14).
// Auto-link is off so that card clicks by members take the link-prompt path.
let stack: Stack;
let messagesUrl: string;
let ana: TeamsUser;
let fay: TeamsUser;
let gus: TeamsUser;
let team: TeamsTeam;
let card: { activityId: string; resolve: ReturnType<typeof action> };

beforeAll(async () => {
  stack = await startStack({ env: { IDENTITY_AUTO_LINK: "false" } });
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  fay = stack.teams.addUser({ name: "Fay Moss", email: "fay@contoso.com" });
  gus = stack.teams.addUser({ name: "Gus Roy", email: "gus@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, fay, gus] });
  await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const installations = () => new TeamsInstallations(stack.storage);
const texts = (conversationId: string) =>
  stack.teams
    .messages(conversationId)
    .map((m) => `${String(m.activity.text ?? "")} ${cardText(cardOf(m.activity))}`)
    .join("\n");

/** A 1:1 chat on record for `user` that Teams doesn't know: an id from before, long gone. */
async function goneChatOnRecord(user: TeamsUser, conversationId: string): Promise<void> {
  const chat: TeamsInstallation = {
    tenantId: stack.teams.tenantId,
    conversationId,
    serviceUrl: stack.teams.serviceUrl,
    conversationType: "personal",
    userAadObjectId: user.aadObjectId,
    active: true,
    updatedAt: new Date(0).toISOString(),
  };
  await installations().save(chat);
}

describe("a 1:1 chat on record that Teams says is gone", () => {
  it("'link' in a channel: the chat is marked inactive, the link goes to a new 1:1 chat, and the answer says so", async () => {
    await goneChatOnRecord(fay, "a:0gone-fay");
    await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team.generalChannelId, from: fay, text: "link" }));

    expect((await installations().get(stack.teams.tenantId, "a:0gone-fay"))?.active).toBe(false);
    const fresh = stack.teams.personalConversation(fay).id;
    expect((await installations().get(stack.teams.tenantId, fresh))?.active).toBe(true);
    expect(texts(fresh)).toMatch(/Link your account/);
    const answer = texts(team.generalChannelId);
    expect(answer).toMatch(/Our 1:1 chat was gone from Teams, so I started a new one and sent you a link there/);
    expect(answer).not.toMatch(/couldn't reach our 1:1 chat/);
  });

  it("a card click by someone not linked: the link prompt goes to a new 1:1 chat, the click's answer says it was sent", async () => {
    await goneChatOnRecord(gus, "a:0gone-gus");
    const posted = await alertCardInTeams(stack, team.generalChannelId, { alertId: "fh-closed-1", issueId: "fh-closed" });
    const resolve = action(cardOf(posted.activity), "Resolve");
    card = { activityId: posted.activityId, resolve };
    const response = await stack.teams.post(
      messagesUrl,
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: gus,
        replyToId: posted.activityId,
        verb: resolve.verb!,
        data: resolve.data,
      }),
    );

    expect(cardText((response.body as { value: unknown }).value)).toMatch(/I've sent you a link in your chat with Triage Relay/);
    expect((await installations().get(stack.teams.tenantId, "a:0gone-gus"))?.active).toBe(false);
    expect(texts(stack.teams.personalConversation(gus).id)).toMatch(/Link your account/);
  });

  it("confirming a link whose chat was deleted since: the confirmation goes to a new 1:1 chat, and the page says so", async () => {
    const personal = stack.teams.personalConversation(gus);
    const prompt = stack.teams.messages(personal.id).find((m) => cardText(cardOf(m.activity)).includes("Link your account"))!;
    const url = (cardOf(prompt.activity) as { actions: { type: string; url: string }[] }).actions.find((a) => a.type === "Action.OpenUrl")!.url;
    const browser = new TestBrowser();
    const confirm = await signInAs(browser, await browser.get(url), "ana@triage.dev");
    stack.teams.deleteConversation(personal.id); // deleted in Teams after the link was sent
    stack.teams.clearCalls();

    const page = await browser.submitForm(confirm);

    expect(page.status).toBe(200);
    expect(page.text).toMatch(/The Teams chat you asked from is gone, so Triage Relay said so in a new 1:1 chat with you/);
    expect(stack.teams.calls.some((call) => call.operation === "createConversation")).toBe(true);
    expect(texts(stack.teams.personalConversation(gus).id)).toContain("You're linked as ana@triage.dev");
    expect((await installations().get(stack.teams.tenantId, personal.id))?.active).toBe(true); // Teams gave the same 1:1 id back
  });

  it("a private notice after a click from Teams mobile (Action.Submit; Gus is linked now): the chat deleted in Teams is replaced and the notice arrives", async () => {
    const click = () =>
      stack.teams.post(
        messagesUrl,
        stack.teams.message({
          conversation: team.generalChannelId,
          from: gus,
          value: card.resolve.fallbackData,
          replyToId: card.activityId,
          mentionBot: false,
        }),
      );
    await click(); // resolves it
    // Only the chat Teams deleted is on record now, so nothing but that chat's 404 can lead to a new one.
    const table = await stack.storage.table(TABLES.installations);
    await table.deleteEntity(`msteams:${stack.teams.tenantId}`, "a:0gone-gus");
    const personal = stack.teams.personalConversation(gus);
    expect((await installations().findPersonal(stack.teams.tenantId, gus.aadObjectId))?.conversationId).toBe(personal.id);
    stack.teams.deleteConversation(personal.id);
    stack.teams.clearCalls();

    await click(); // already resolved: told privately

    await waitFor(() => (texts(stack.teams.personalConversation(gus).id).match(/already resolved/) ? true : undefined), { timeoutMs: 30_000 });
    expect(stack.teams.calls.some((call) => call.operation === "createConversation")).toBe(true);
  });
});
