// The Discord emulator's threads, seen from a plain HTTP client as Discord answers them: a thread started from a
// message shares its id, one message has at most one thread (160004), posting in an archived thread unarchives it
// unless it is locked (160005, 50083), a deleted thread is an unknown channel, a bot without the thread permissions
// is refused (50013), a nonce with enforce_nonce posts once, and the rate limits and injected failures apply.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../dev/emulators/discord";

let discord: DiscordEmulator;
let guildId: string;
/** Where the last card was posted: each card has a channel of its own, so that no test spends another's buckets. */
let channelId: string;

beforeAll(async () => {
  discord = await startDiscordEmulator();
  guildId = discord.addGuild("Checkout", []).guild.id;
});
afterAll(async () => {
  await discord?.stop();
});

const call = (method: string, path: string, body?: unknown) =>
  fetch(`${discord.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bot ${discord.botToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as Record<string, unknown> });
/** A message of the bot's (a card), to start threads from: in a new channel of the server, or in `channel`. */
async function aCard(channel?: string): Promise<string> {
  if (!channel) channelId = discord.addChannel(guildId, "alerts").id;
  const posted = await json(await call("POST", `/channels/${channel ?? channelId}/messages`, { content: "a card" }));
  expect(posted.status).toBe(200);
  return String(posted.body.id);
}
const startThread = (messageId: string, body: unknown = { name: "CHECKOUT-12: TypeError", auto_archive_duration: 1440 }, channel = channelId) =>
  call("POST", `/channels/${channel}/messages/${messageId}/threads`, body);
const postIn = (threadId: string, body: Record<string, unknown>) => call("POST", `/channels/${threadId}/messages`, body);

describe("starting a thread from a message", () => {
  it("creates a public thread with the message's id, in the message's channel and server, named as asked", async () => {
    const messageId = await aCard();
    const started = await json(await startThread(messageId));
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      id: messageId,
      type: 11,
      guild_id: guildId,
      parent_id: channelId,
      name: "CHECKOUT-12: TypeError",
      thread_metadata: { archived: false, locked: false, auto_archive_duration: 1440 },
    });
    expect(discord.thread(messageId)).toMatchObject({ id: messageId, parentId: channelId, archived: false, locked: false });
    // The thread is a channel: GET answers it, and messages go in with the channel routes.
    expect((await json(await call("GET", `/channels/${messageId}`))).body).toMatchObject({ id: messageId, type: 11, parent_id: channelId });
    expect((await postIn(messageId, { content: "Resolved by Ana" })).status).toBe(200);
    expect(discord.messages(messageId).map((m) => m.content)).toEqual(["Resolved by Ana"]);
    expect(discord.messages(channelId).some((m) => m.content === "Resolved by Ana")).toBe(false);
  });

  it("a message's second thread: 400, code 160004 (whoever started the first: here a person, in the client)", async () => {
    const messageId = await aCard();
    discord.startThreadAsUser({ channelId, messageId, name: "started by a person" });
    const again = await json(await startThread(messageId));
    expect(again).toEqual({ status: 400, body: { code: 160004, message: "A thread has already been created for this message" } });
    expect(discord.thread(messageId)!.name).toBe("started by a person");
  });

  it("refuses what Discord refuses: no name, a name over 100 characters, an unknown duration, an unknown message or channel, a DM", async () => {
    const messageId = await aCard();
    for (const body of [{}, { name: "" }, { name: "x".repeat(101) }, { name: "ok", auto_archive_duration: 30 }]) {
      expect(await json(await startThread(messageId, body))).toMatchObject({ status: 400, body: { code: 50035 } });
    }
    expect(await json(await startThread("1100000000000000001"))).toMatchObject({ status: 404, body: { code: 10008 } });
    expect(await json(await startThread(messageId, undefined, "1100000000000000002"))).toMatchObject({ status: 404, body: { code: 10003 } });
    const user = discord.addUser("ana");
    const dm = await json(await call("POST", "/users/@me/channels", { recipient_id: user.id }));
    const inDm = await aCard(String(dm.body.id));
    expect(await json(await startThread(inDm, undefined, String(dm.body.id)))).toMatchObject({ status: 400, body: { code: 50024 } });
    expect(discord.thread(messageId)).toBeUndefined();
  });

  it("without Create Public Threads / Send Messages in Threads: 403 Missing Permissions (50013), to start or to post", async () => {
    const messageId = await aCard();
    expect((await startThread(messageId)).status).toBe(201);
    const parent = channelId;
    discord.noThreadPermission.add(parent);
    try {
      expect(await json(await startThread(await aCard(parent)))).toMatchObject({
        status: 403,
        body: { code: 50013, message: "Missing Permissions" },
      });
      expect(await json(await postIn(messageId, { content: "no" }))).toMatchObject({ status: 403, body: { code: 50013 } });
    } finally {
      discord.noThreadPermission.delete(parent);
    }
    expect(discord.messages(messageId)).toEqual([]);
  });
});

describe("posting in a thread", () => {
  it("an archived thread is unarchived by the post", async () => {
    const threadId = await aCard();
    await startThread(threadId);
    discord.archiveThread(threadId);
    expect(discord.thread(threadId)!.archived).toBe(true);
    expect((await postIn(threadId, { content: "Unresolved by Ana" })).status).toBe(200);
    expect(discord.thread(threadId)!.archived).toBe(false);
    expect(discord.messages(threadId).map((m) => m.content)).toEqual(["Unresolved by Ana"]);
  });

  it("a locked thread takes nothing: 403 Thread is locked (160005), and once also archived, 403 Thread is archived (50083)", async () => {
    const threadId = await aCard();
    await startThread(threadId);
    discord.lockThread(threadId);
    expect(await json(await postIn(threadId, { content: "no" }))).toEqual({ status: 403, body: { code: 160005, message: "Thread is locked" } });
    discord.archiveThread(threadId);
    expect(await json(await postIn(threadId, { content: "no" }))).toEqual({ status: 403, body: { code: 50083, message: "Thread is archived" } });
    expect(discord.thread(threadId)!.archived).toBe(true);
    expect(discord.messages(threadId)).toEqual([]);
  });

  it("a deleted thread is an unknown channel (10003), and the message keeps no thread", async () => {
    const threadId = await aCard();
    await startThread(threadId);
    discord.deleteThread(threadId);
    expect(await json(await postIn(threadId, { content: "no" }))).toMatchObject({ status: 404, body: { code: 10003 } });
    expect(discord.thread(threadId)).toBeUndefined();
  });

  it("a nonce with enforce_nonce posts once: the same post again answers the first message", async () => {
    const threadId = await aCard();
    await startThread(threadId);
    const first = await json(await postIn(threadId, { content: "line", nonce: "line-1", enforce_nonce: true }));
    const again = await json(await postIn(threadId, { content: "line", nonce: "line-1", enforce_nonce: true }));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(discord.messages(threadId)).toHaveLength(1);
    // Without enforce_nonce, a nonce checks nothing.
    await postIn(threadId, { content: "line", nonce: "line-1" });
    expect(discord.messages(threadId)).toHaveLength(2);
  });
});

describe("rate limits and injected failures on the thread routes", () => {
  it("each thread is a bucket of its own (its id is the major parameter), with Discord's headers, and 429 past the limit", async () => {
    const a = await aCard();
    expect((await startThread(a)).status).toBe(201);
    const b = await aCard();
    expect((await startThread(b)).status).toBe(201);
    const answers = [];
    for (let n = 0; n < 6; n++) answers.push(await postIn(a, { content: `a${n}` }));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers[0]!.headers.get("x-ratelimit-bucket")).toBeTruthy();
    expect(answers[4]!.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(await answers[5]!.json()).toMatchObject({ message: "You are being rate limited.", global: false });
    expect((await postIn(b, { content: "b0" })).status).toBe(200);
  });

  it("throttleNext and failNext apply to starting a thread and to posting in one", async () => {
    const threadId = await aCard();
    discord.throttleNext({ pathIncludes: `/messages/${threadId}/threads`, retryAfterSeconds: 2 });
    const throttled = await startThread(threadId);
    expect(throttled.status).toBe(429);
    expect(await throttled.json()).toMatchObject({ retry_after: 2 });
    expect(discord.thread(threadId)).toBeUndefined();
    expect((await startThread(threadId)).status).toBe(201);
    // A post that lands but whose answer is lost, sent again with its nonce: one message.
    discord.failNext({ pathIncludes: `/channels/${threadId}/messages`, failure: "drop", afterApplying: true });
    await expect(postIn(threadId, { content: "once", nonce: "once-1", enforce_nonce: true })).rejects.toThrow();
    expect((await postIn(threadId, { content: "once", nonce: "once-1", enforce_nonce: true })).status).toBe(200);
    expect(discord.messages(threadId).map((m) => m.content)).toEqual(["once"]);
  });
});
