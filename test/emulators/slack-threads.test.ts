import { LogLevel, WebClient, type Logger } from "@slack/web-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSlackEmulator, type SlackEmulator, type WorkspaceHandle } from "../../dev/emulators/slack";

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
let web: WebClient;

beforeAll(async () => {
  emu = await startSlackEmulator({
    signingSecret: "threads-signing-secret-0123456789",
    clientId: "111.222",
    clientSecret: "s3cret",
    enforceRateLimits: false,
  });
  ws = emu.addWorkspace({ id: "T0THREADS1", name: "Threads" });
  channel = emu.addChannel(ws.teamId, { id: "C0THREADS1", name: "alerts" }).id;
  web = new WebClient(ws.botToken, { slackApiUrl: emu.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logger: silent });
});
afterAll(async () => {
  await emu.stop();
});

describe("thread replies", () => {
  it("keeps thread_ts, and marks a reply_broadcast reply as Slack lists it (subtype thread_broadcast)", async () => {
    const root = await web.chat.postMessage({ channel, text: "the card" });
    const quiet = await web.chat.postMessage({ channel, thread_ts: root.ts!, text: "Resolved by Ana", reply_broadcast: false });
    const loud = await web.chat.postMessage({ channel, thread_ts: root.ts!, text: "Regressed", reply_broadcast: true });

    expect(emu.message(channel, quiet.ts!)).toMatchObject({ threadTs: root.ts });
    expect(emu.message(channel, quiet.ts!)!.replyBroadcast).toBeUndefined();
    expect(emu.message(channel, loud.ts!)).toMatchObject({ threadTs: root.ts, replyBroadcast: true });
    expect(quiet.message).toMatchObject({ thread_ts: root.ts });
    expect(quiet.message?.subtype).toBeUndefined();
    expect(loud.message).toMatchObject({ thread_ts: root.ts, subtype: "thread_broadcast" });
  });

  it("reply_broadcast without thread_ts is an ordinary message", async () => {
    const posted = await web.chat.postMessage({ channel, text: "top level", reply_broadcast: true } as never);
    expect(emu.message(channel, posted.ts!)!.replyBroadcast).toBeUndefined();
  });
});
