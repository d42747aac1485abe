// The REST client's rate limits against the Discord emulator's real bucket headers and 429s.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDiscordEmulator, type DiscordEmulator } from "../../../dev/emulators/discord";
import { DiscordRest, GLOBAL_REQUESTS_PER_SECOND, routeOf } from "../../../shared/discord/rest";

let discord: DiscordEmulator;
let channelId: string;
let otherChannelId: string;

beforeAll(async () => {
  discord = await startDiscordEmulator({ bucketLimit: 2, bucketWindowMs: 60_000 });
  [channelId, otherChannelId] = discord.addGuild("Contoso", ["alerts", "ops"]).channels.map((c) => c.id) as [string, string];
});
afterAll(async () => {
  await discord?.stop();
});

const client = (options: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}) =>
  new DiscordRest({ apiUrl: discord.apiUrl, botToken: discord.botToken, ...options });
const post = (rest: DiscordRest, channel: string) => rest.request<{ id: string }>("POST", `/channels/${channel}/messages`, { content: "hi" });
const callsTo = (channel: string) => discord.calls.filter((c) => c.path === `/channels/${channel}/messages`).length;

describe("Discord REST rate limits", () => {
  it("learns a bucket from its headers and holds back the request it has no room for, without sending it", async () => {
    const rest = client();
    const before = callsTo(channelId);
    expect((await post(rest, channelId)).kind).toBe("ok");
    expect((await post(rest, channelId)).kind).toBe("ok");
    const third = await post(rest, channelId);
    expect(third).toMatchObject({ kind: "throttled", global: false, sent: false });
    expect(third.kind === "throttled" && third.retryAfterSeconds).toBeGreaterThan(50);
    expect(callsTo(channelId) - before).toBe(2);
    // Another channel is another bucket (major parameter): it still goes.
    expect((await post(rest, otherChannelId)).kind).toBe("ok");
  });

  it("answers a route 429 with its retry_after, and holds that route until then", async () => {
    const rest = client();
    const channel = discord.addChannel([...discord.guilds.keys()][0]!, "route-429").id;
    discord.throttleNext({ retryAfterSeconds: 7.5, pathIncludes: channel });
    expect(await post(rest, channel)).toEqual({ kind: "throttled", retryAfterSeconds: 7.5, global: false, sent: true });
    const before = callsTo(channel);
    expect(await post(rest, channel)).toMatchObject({ kind: "throttled", sent: false });
    expect(callsTo(channel)).toBe(before);
  });

  it("a global 429 (X-RateLimit-Global) stops every route until it passes", async () => {
    let now = Date.now();
    const rest = client({ now: () => now });
    const channel = discord.addChannel([...discord.guilds.keys()][0]!, "global-429").id;
    discord.throttleNext({ scope: "global", retryAfterSeconds: 3 });
    expect(await post(rest, channel)).toEqual({ kind: "throttled", retryAfterSeconds: 3, global: true, sent: true });
    const calls = discord.calls.length;
    const held = await rest.request("POST", "/users/@me/channels", { recipient_id: "1" });
    expect(held).toMatchObject({ kind: "throttled", global: true, sent: false });
    expect(discord.calls.length).toBe(calls);
    now += 3001;
    expect((await post(rest, channel)).kind).toBe("ok");
  });

  it("keeps to 50 requests a second within the instance: the 51st waits for the window", async () => {
    const now = Date.now();
    const waits: number[] = [];
    const rest = client({ now: () => now, sleep: async (ms) => void waits.push(ms) });
    const channels = Array.from({ length: GLOBAL_REQUESTS_PER_SECOND + 1 }, (_, i) => discord.addChannel([...discord.guilds.keys()][0]!, `c${i}`).id);
    for (const channel of channels) expect((await post(rest, channel)).kind).toBe("ok");
    expect(waits).toEqual([1000]);
  });

  it("tells errors by Discord's code: Unknown Channel, Missing Access", async () => {
    const rest = client();
    expect(await post(rest, "1100000000000000999")).toMatchObject({ kind: "error", status: 404, code: 10003, message: "Unknown Channel" });
    const hidden = discord.addChannel([...discord.guilds.keys()][0]!, "hidden").id;
    discord.noAccess.add(hidden);
    expect(await post(rest, hidden)).toMatchObject({ kind: "error", status: 403, code: 50001, message: "Missing Access" });
  });

  it("keys routes by template and major parameter", () => {
    expect(routeOf("PATCH", "/channels/1100000000000000001/messages/1100000000000000002")).toEqual({
      key: "PATCH /channels/:id/messages/:id",
      major: "/channels/1100000000000000001",
    });
    expect(routeOf("PATCH", "/webhooks/1100000000000000001/tok.en/messages/@original").key).toBe("PATCH /webhooks/:id/:token/messages/@original");
  });
});
