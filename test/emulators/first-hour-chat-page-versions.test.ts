import { WebClient } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChatPage, type ChatPage } from "../../dev/chat-page";
import { startSlackEmulator, type SlackEmulator } from "../../dev/emulators/slack";
import { startTeamsEmulator, type TeamsEmulator, type TeamsTeam } from "../../dev/emulators/teams";
import { renderSlackMessage } from "../../shared/cards/slack-message";
import { teamsCardAttachment } from "../../shared/cards/teams-card";
import { buildIssueView } from "../../shared/cards/view";
import { anIssue } from "../fixtures/issues";

// Updates to one card can land out of order: the refresh an earlier click started may finish after a later
// click's answer. The dev chat page keeps the newest render (by the issue version on the card) until the
// message catches up, on both platforms (issue 14).
const APP_ID = "11111111-1111-4111-8111-111111111111";
const TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";

let slack: SlackEmulator;
let teams: TeamsEmulator;
let chat: ChatPage;
let web: WebClient;
let teamId: string;
let channel: string;
let team: TeamsTeam;

beforeAll(async () => {
  slack = await startSlackEmulator({ signingSecret: "s".repeat(32), enforceRateLimits: false });
  teams = await startTeamsEmulator({ appId: APP_ID, tenantId: TENANT_ID });
  const workspace = slack.addWorkspace({ name: "Contoso" });
  teamId = workspace.teamId;
  channel = slack.addChannel(teamId, { name: "alerts" }).id;
  const ana = slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  web = new WebClient(workspace.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  const lee = teams.addUser({ name: "Lee Chan", email: "lee@contoso.com" });
  team = teams.addTeam({ name: "Checkout", members: [lee] });
  chat = await startChatPage({
    teams,
    slack,
    appUrl: "http://127.0.0.1:9",
    people: { slack: [{ teamId, users: { "Ana Lima": ana }, channels: { alerts: channel } }] },
  });
});
afterAll(async () => {
  await chat?.stop();
  await slack?.stop();
  await teams?.stop();
});

const statusAt = (version: number) =>
  version === 3 ? { status: "resolved" as const, statusChangedBy: "Ana Lima" } : { status: "unresolved" as const };
const issueAt = (version: number) => anIssue({ id: "ordering", version, ...statusAt(version) });

async function timeline(key: string) {
  const response = await fetch(`${chat.url}/api/poll?c=${encodeURIComponent(key)}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { timeline: { id: string; version?: number; blocks?: unknown; cards?: unknown }[] }).timeline;
}

describe("the dev chat page never shows an older render over a newer one", () => {
  it("Slack: a chat.update carrying an older version than the message showed keeps the newer render", async () => {
    const render = (version: number) => renderSlackMessage(buildIssueView(issueAt(version)));
    const posted = await web.chat.postMessage({ channel, text: render(1).text, blocks: render(1).blocks as never });
    await web.chat.update({ channel, ts: posted.ts!, text: render(3).text, blocks: render(3).blocks as never }); // the click's answer
    await web.chat.update({ channel, ts: posted.ts!, text: render(2).text, blocks: render(2).blocks as never }); // an earlier refresh, late
    expect(slack.message(channel, posted.ts!)!.text).not.toContain("Resolved"); // the emulator, like Slack, holds the last write

    const [entry] = await timeline(`slack:${teamId}:${channel}`);
    expect(entry).toMatchObject({ id: posted.ts, version: 3 });
    expect(JSON.stringify(entry!.blocks)).toContain("Resolved by Ana Lima");

    // The message catches up: the page follows it again.
    await web.chat.update({ channel, ts: posted.ts!, text: render(4).text, blocks: render(4).blocks as never });
    expect((await timeline(`slack:${teamId}:${channel}`))[0]).toMatchObject({ version: 4 });
  });

  it("Teams: an update carrying an older version than the card showed keeps the newer render", async () => {
    const token = await botToken();
    const path = `${teams.serviceUrl}v3/conversations/${encodeURIComponent(team.generalChannelId)}/activities`;
    const send = (method: string, url: string, version: number) =>
      fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "message", attachments: [teamsCardAttachment(buildIssueView(issueAt(version)))] }),
      });
    const posted = (await (await send("POST", path, 1)).json()) as { id: string };
    expect((await send("PUT", `${path}/${posted.id}`, 3)).status).toBe(200);
    expect((await send("PUT", `${path}/${posted.id}`, 2)).status).toBe(200);

    const entry = (await timeline(`teams:${team.generalChannelId}`)).find((e) => e.id === posted.id);
    expect(entry).toMatchObject({ version: 3 });
    expect(JSON.stringify(entry!.cards)).toContain("Resolved by Ana Lima");
  });
});

async function botToken(): Promise<string> {
  const url = `${teams.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent("https://api.botframework.com")}&client_id=${APP_ID}`;
  const response = await fetch(url, { headers: { "x-identity-header": teams.identityHeader } });
  return ((await response.json()) as { access_token: string }).access_token;
}
