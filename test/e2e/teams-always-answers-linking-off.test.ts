// With no sign-in provider (OIDC_* unset) explicit linking is off: the prompt sent to someone not linked says so
// ("Your account isn't linked … can't be linked by sign-in"), and what they are told beside it says the same,
// never "I've sent you a link".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { alertCardInTeams, startStack, type Stack } from "./stack";

let stack: Stack;
let messagesUrl: string;
let ana: TeamsUser;
let ben: TeamsUser;
let team: TeamsTeam;

beforeAll(async () => {
  // Auto-link off too: members are linked by nothing, so every click and `link` takes the prompt path.
  stack = await startStack({
    env: { OIDC_ISSUER: undefined, OIDC_CLIENT_ID: undefined, OIDC_CLIENT_SECRET: undefined, IDENTITY_AUTO_LINK: "false" },
  });
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ben] });
  expect((await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }))).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const said = (conversationId: string) =>
  stack.teams
    .messages(conversationId)
    .map((m) => `${String(m.activity.text ?? "")} ${cardText(cardOf(m.activity))}`)
    .join("\n");
const personalChat = (user: TeamsUser) => stack.teams.personalConversation(user).id;

describe("explicit linking off", () => {
  it("a card click by someone not linked: the answer says accounts can't be linked by sign-in here, not that a link was sent", async () => {
    const posted = await alertCardInTeams(stack, team.generalChannelId, { alertId: "off-1", issueId: "off-issue" });
    const resolve = action(cardOf(posted.activity), "Resolve");

    const response = await stack.teams.post(
      messagesUrl,
      stack.teams.invokeAction({
        conversation: team.generalChannelId,
        from: ana,
        replyToId: posted.activityId,
        verb: resolve.verb!,
        data: resolve.data,
      }),
    );

    const answer = cardText((response.body as { value: unknown }).value);
    expect(answer).toMatch(/Nothing was changed/);
    expect(answer).toMatch(/can't be linked by sign-in on this app/);
    expect(answer).not.toMatch(/sent you a link|sending you a link/);
    await waitFor(() => said(personalChat(ana)).includes("Your account isn't linked"), { description: "the prompt in Ana's 1:1 chat" });
    expect(said(personalChat(ana))).not.toMatch(/Link your account/);
  });

  it("'link' typed in a channel: the reply says accounts can't be linked by sign-in here, not that a link was sent", async () => {
    await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team.generalChannelId, from: ben, text: "link" }));

    const reply = said(team.generalChannelId);
    expect(reply).toMatch(/can't be linked by sign-in on this app/);
    expect(reply).not.toMatch(/sent you a link/);
    expect(said(personalChat(ben))).toMatch(/Your account isn't linked/);
  });
});
