import { LogLevel, WebClient, type Logger } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackEmulator, type SlackEmulator, type WorkspaceHandle } from "../../dev/emulators/slack";

// What the app's Slack Assign menu relies on, played as Slack does: users_select block_actions, users.info.
const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let emu: SlackEmulator;
let ws: WorkspaceHandle;
let channel: string;
let ana: string;
let dee: string;
let robot: string;
let outsider: string;

beforeAll(async () => {
  emu = await startSlackEmulator({ signingSecret: "s".repeat(32), enforceRateLimits: false });
  ws = emu.addWorkspace({ name: "Contoso" });
  channel = emu.addChannel(ws.teamId, { name: "alerts" }).id;
  ana = emu.addUser(ws.teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  dee = emu.addUser(ws.teamId, { name: "dee", realName: "Dee Ng" }).id;
  robot = emu.addUser(ws.teamId, { name: "deploybot", realName: "Deploy Bot", isBot: true }).id;
  const other = emu.addWorkspace({ name: "Fabrikam" });
  outsider = emu.addUser(other.teamId, { name: "omar", realName: "Omar" }).id;
});
afterAll(async () => {
  await emu?.stop();
});

const web = (token = ws.botToken) => new WebClient(token, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: silent });

describe("users_select", () => {
  it("block_actions carries selected_user, with the element's initial_user and placeholder", async () => {
    const blocks = [
      {
        type: "actions",
        block_id: "triage:i-1",
        elements: [
          { type: "users_select", action_id: "triage.assign-user", placeholder: { type: "plain_text", text: "Assign…" }, initial_user: ana },
        ],
      },
    ];
    const posted = await web().chat.postMessage({ channel, text: "card", blocks });
    const payload = emu.blockActions({
      teamId: ws.teamId,
      user: ana,
      channel,
      messageTs: posted.ts!,
      actions: [{ action_id: "triage.assign-user", selected_user: dee }],
    });
    expect(payload.actions[0]).toMatchObject({
      type: "users_select",
      block_id: "triage:i-1",
      action_id: "triage.assign-user",
      selected_user: dee,
      initial_user: ana,
      placeholder: { type: "plain_text", text: "Assign…" },
    });
    expect(typeof payload.actions[0]!.action_ts).toBe("string");
    // Slack's menu only offers the workspace's own users.
    expect(() =>
      emu.blockActions({
        teamId: ws.teamId,
        user: ana,
        channel,
        messageTs: posted.ts!,
        actions: [{ action_id: "triage.assign-user", selected_user: outsider }],
      }),
    ).toThrow(/no user/);
    expect(emu.users(ws.teamId).map((u) => u.id)).toEqual(expect.arrayContaining([ana, dee, robot, ws.botUserId]));
  });
});

describe("users.info", () => {
  it("a person: profile email and is_email_confirmed, with users:read.email", async () => {
    const { user } = await web().users.info({ user: ana });
    expect(user).toMatchObject({
      id: ana,
      team_id: ws.teamId,
      is_bot: false,
      is_email_confirmed: true,
      real_name: "Ana Lima",
      profile: { email: "ana@contoso.com" },
    });
  });

  it("no email: none in the profile, is_email_confirmed false; a bot: is_bot and a bot_id, no email", async () => {
    const noEmail = (await web().users.info({ user: dee })).user;
    expect(noEmail?.is_email_confirmed).toBe(false);
    expect(noEmail?.profile?.email).toBeUndefined();
    const bot = (await web().users.info({ user: robot })).user;
    expect(bot).toMatchObject({ is_bot: true, profile: { bot_id: expect.stringMatching(/^B/) } });
    expect(bot?.profile?.email).toBeUndefined();
  });

  it("without users:read.email, neither the email nor its confirmation; another workspace's user is user_not_found", async () => {
    const narrow = emu.addWorkspace({ name: "Narrow", scopes: ["chat:write", "users:read"] });
    const eve = emu.addUser(narrow.teamId, { name: "eve", email: "eve@narrow.example" }).id;
    const { user } = await web(narrow.botToken).users.info({ user: eve });
    expect(user?.profile?.email).toBeUndefined();
    expect(user).not.toHaveProperty("is_email_confirmed");
    await expect(web().users.info({ user: outsider })).rejects.toMatchObject({ data: { error: "user_not_found" } });
  });
});
