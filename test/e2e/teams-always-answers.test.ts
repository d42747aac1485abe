// Teams always gets an answer. A command from someone Teams can't be asked about just now (member reads throttled or
// failing) is answered, never a 500 and silence: `help` needs nobody's identity, and a command that does says Teams
// couldn't look them up. A card click is answered within a bounded time however slow the Bot Connector is (Teams
// gives up after 10–15 s and shows "Unable to reach app"); the link prompt for someone not linked goes out
// alongside the answer, and still arrives when the answer can't wait for it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { StorageClients } from "../../shared/storage/clients";
import { logsOnceLogged } from "../support/host-process";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { alertCardInTeams, startStack, type Stack } from "./stack";

let stack: Stack;
let messagesUrl: string;
let ana: TeamsUser;
let ivy: TeamsUser;
let jo: TeamsUser;
let nia: TeamsUser;
let ola: TeamsUser;
let team: TeamsTeam;

beforeAll(async () => {
  stack = await startStack();
  messagesUrl = `${stack.api}/messages`;
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  ivy = stack.teams.addUser({ name: "Ivy Chen", email: "ivy@contoso.com" });
  jo = stack.teams.addUser({ name: "Jo Park", email: "jo@contoso.com" });
  // New to the app: in no team where it is installed, so nobody has linked them yet.
  nia = stack.teams.addUser({ name: "Nia Obi", email: "nia@contoso.com" });
  ola = stack.teams.addUser({ name: "Ola Berg", email: "ola@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana, ivy, jo] });
  expect((await stack.teams.post(messagesUrl, stack.teams.botAddedToTeam({ team, from: ana }))).status).toBe(200);
  await waitFor(async () => (await linkedEmails()).includes(jo.email), { description: "the team's members linked by their emails" });
  // Ivy and Jo unlink themselves (in the channel), so a click of theirs takes the link-prompt path.
  for (const member of [ivy, jo]) {
    await stack.teams.post(messagesUrl, stack.teams.message({ conversation: team.generalChannelId, from: member, text: "unlink" }));
  }
  expect(await linkedEmails()).not.toContain(ivy.email);
}, 120_000);
afterEach(() => {
  stack.teams.clearFaults();
});
afterAll(async () => {
  await stack?.stop();
});

const freshIdentities = () =>
  new IdentityRepository(new StorageClients({ kind: "connectionString", connectionString: stack.azurite.connectionString }));
const linkedEmails = async () => (await freshIdentities().people("msteams", stack.teams.tenantId)).map((person) => person.email);
const isLinked = async (user: TeamsUser) =>
  (await freshIdentities().lookup("msteams", stack.teams.tenantId, user.aadObjectId)).identity !== undefined;

/** What the bot has said in a conversation: message text and card text. */
const said = (conversationId: string) =>
  stack.teams
    .messages(conversationId)
    .map((m) => `${String(m.activity.text ?? "")} ${cardText(cardOf(m.activity))}`)
    .join("\n");
const personalChat = (user: TeamsUser) => stack.teams.personalConversation(user).id;

/** Types `text` to the bot in the user's 1:1 chat; the HTTP status the app answered. */
async function typeInPersonalChat(user: TeamsUser, text: string): Promise<number> {
  return (await stack.teams.post(messagesUrl, stack.teams.message({ conversation: personalChat(user), from: user, text }))).status;
}

describe("a command from someone new while Teams can't say who they are", () => {
  it("help, member reads throttled (429): HTTP 200 and the help arrives", async () => {
    stack.teams.injectFault({ operation: "getMember", status: 429, times: 10 });

    expect(await typeInPersonalChat(nia, "help")).toBe(200);

    expect(said(personalChat(nia))).toMatch(/I post alert cards you can act on/);
  });

  it("status, member reads failing (503): HTTP 200, told Teams couldn't look them up and to try again, the reason logged without who they are", async () => {
    stack.teams.injectFault({ operation: "getMember", status: 503, times: 10 });
    const logsBefore = stack.host.logs().length;

    expect(await typeInPersonalChat(ola, "status")).toBe(200);

    const reply = said(personalChat(ola));
    expect(reply).toMatch(/I couldn't look you up in Teams just now[\s\S]*try again in a minute/i);
    expect(reply).not.toMatch(/not linked/);
    const logs = await logsOnceLogged(stack.host, /HTTP 503/, logsBefore);
    for (const detail of [ola.email, ola.name, ola.aadObjectId, ola.id]) expect(logs).not.toContain(detail);
    expect(await isLinked(ola)).toBe(false);
  });

  it("status again once Teams answers: linked by their email, and told so", async () => {
    expect(await typeInPersonalChat(ola, "status")).toBe(200);

    expect(said(personalChat(ola))).toContain(`You're linked as ${ola.email}`);
  });
});

describe("a click by someone not linked while the Bot Connector is slow", () => {
  let issues = 0;
  /** A new issue's card in the General channel, clicked Resolve by `from` as Agents Playground sends it (no object id). */
  async function clickResolveOnNewCard(from: TeamsUser) {
    issues++;
    const posted = await alertCardInTeams(stack, team.generalChannelId, { alertId: `always-${issues}`, issueId: `always-issue-${issues}` });
    const resolve = action(cardOf(posted.activity), "Resolve");
    const activity = stack.teams.invokeAction({
      conversation: team.generalChannelId,
      from,
      replyToId: posted.activityId,
      verb: resolve.verb!,
      data: resolve.data,
    });
    return { issueId: `always-issue-${issues}`, activity: withoutObjectId(activity) };
  }

  /** Posts the click as Teams does (giving up after 15 s); how long the answer took, and what it says. */
  async function answerTo(activity: Activity) {
    const started = Date.now();
    const response = await stack.teams.post(messagesUrl, activity);
    const body = response.body as { type?: string; value?: unknown };
    return { status: response.status, ms: Date.now() - started, text: typeof body.value === "string" ? body.value : cardText(body.value) };
  }

  it("each call takes 3–4 s: the click is answered within 6 s, saying the link is on its way, and the link arrives", async () => {
    const { activity } = await clickResolveOnNewCard(ivy);
    stack.teams.injectFault({ operation: "getMember", status: 200, delayMs: 3_000, times: 5 });
    for (const operation of ["createConversation", "send"] as const) stack.teams.injectFault({ operation, status: 200, delayMs: 4_000, times: 5 });

    const answer = await answerTo(activity);

    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(6_000);
    expect(answer.text).toMatch(/Nothing was changed: link your account first\. I'm sending you a link in your chat with Triage Relay/);
    await waitFor(() => said(personalChat(ivy)).includes("Link your account"), { description: "the link prompt in Ivy's 1:1 chat" });
  });

  it("looking up the clicker takes 9 s: answered within 9 s all the same (still working on it), and the link prompt arrives afterwards", async () => {
    const { issueId, activity } = await clickResolveOnNewCard(jo);
    stack.teams.injectFault({ operation: "getMember", status: 200, delayMs: 9_000, times: 5 });
    for (const operation of ["createConversation", "send"] as const) stack.teams.injectFault({ operation, status: 200, delayMs: 3_000, times: 5 });

    const answer = await answerTo(activity);

    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(9_000);
    expect(answer.text).toMatch(/still working on it/i);
    await waitFor(() => said(personalChat(jo)).includes("Link your account"), { timeoutMs: 45_000, description: "the link prompt in Jo's 1:1 chat" });
    expect(await new IssueRepository(stack.storage).get(issueId)).toMatchObject({ issue: { status: "unresolved" } });
  }, 90_000);
});

/** The activity as Agents Playground and Microsoft's samples send it: `from` without the Entra object id. */
function withoutObjectId(activity: Activity): Activity {
  const { aadObjectId: _, ...from } = activity.from as Record<string, unknown>;
  return { ...activity, from };
}
