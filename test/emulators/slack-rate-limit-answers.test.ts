// The Slack emulator's opt-in rate-limit answers, seen through the real @slack/web-api client the app uses:
// a 429 without Retry-After, and the lower conversations.history limits of a distributed app not on the Marketplace.
import { LogLevel, WebClient, type Logger, type WebAPIRateLimitedError } from "@slack/web-api";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createManualClock,
  NON_MARKETPLACE_HISTORY_LIMIT,
  startSlackEmulator,
  type ManualClock,
  type SlackEmulator,
  type WorkspaceHandle,
} from "../../dev/emulators/slack";
import { DEFAULT_BOT_SCOPES } from "../../dev/emulators/slack/world";

const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

let clock: ManualClock;
let emu: SlackEmulator;
let ws: WorkspaceHandle;
let channel: string;
let alice: string;

beforeEach(async () => {
  clock = createManualClock(Date.now());
  emu = await startSlackEmulator({ signingSecret: "s".repeat(32), enforceRateLimits: false, clock });
  ws = emu.addWorkspace({ name: "Acme", scopes: [...DEFAULT_BOT_SCOPES, "channels:history"] });
  channel = emu.addChannel(ws.teamId, { name: "alerts", botIsMember: true }).id;
  alice = emu.addUser(ws.teamId, { name: "alice" }).id;
});
afterEach(async () => {
  await emu.stop();
});

/** The client as the app configures it: a 429 is thrown at once, never retried inside the call. */
function web(): WebClient {
  return new WebClient(ws.botToken, { slackApiUrl: emu.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 }, logger: silent });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to fail");
}

/** `count` messages by a person, one clock second apart: the channel's chatter. */
function chatter(count: number): string[] {
  return Array.from({ length: count }, (_, n) => {
    clock.advance(1000);
    return emu.addMessage(channel, { user: alice, text: `message ${n}` }).ts;
  });
}

describe("a 429 without Retry-After", () => {
  it("is answered on request, and the client throws a plain Error for it, not its rate-limited error", async () => {
    emu.injectError({ method: "chat.postMessage", channel, error: "ratelimited", withoutRetryAfter: true });

    const raw = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ws.botToken}` },
      body: JSON.stringify({ channel, text: "hi" }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get("retry-after")).toBeNull();
    expect(await raw.json()).toEqual({ ok: false, error: "ratelimited" });

    emu.injectError({ method: "chat.postMessage", channel, error: "ratelimited", withoutRetryAfter: true });
    const thrown = await rejection(web().chat.postMessage({ channel, text: "hi" }));
    // What @slack/web-api 8.x throws (WebClient.makeRequest): no `code`, no `retryAfter`.
    expect(thrown).not.toHaveProperty("code");
    expect(thrown.message).toMatch(/^Retry header did not contain a valid timeout/);
    expect(emu.messages(channel)).toHaveLength(0);
  });

  it("with Retry-After, as before: the client's rate-limited error with the wait", async () => {
    emu.injectError({ method: "chat.postMessage", channel, error: "ratelimited", retryAfterSec: 7 });
    const thrown = (await rejection(web().chat.postMessage({ channel, text: "hi" }))) as WebAPIRateLimitedError;
    expect(thrown).toMatchObject({ code: "slack_webapi_rate_limited_error", retryAfter: 7 });
  });
});

describe("conversations.history paging", () => {
  it("walks the channel newest first with the cursor, to the oldest message", async () => {
    const posted = chatter(7);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await web().conversations.history({ channel, limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.messages!.map((m) => m.ts!));
      cursor = page.response_metadata?.next_cursor || undefined;
      expect(page.has_more).toBe(cursor !== undefined);
    } while (cursor);
    expect(seen).toEqual([...posted].reverse());
  });

  it("keeps `oldest` on every page", async () => {
    const posted = chatter(6);
    const first = await web().conversations.history({ channel, oldest: posted[1], limit: 2 });
    const second = await web().conversations.history({ channel, oldest: posted[1], limit: 2, cursor: first.response_metadata!.next_cursor! });
    expect(second.messages!.map((m) => m.ts)).toEqual([posted[3], posted[2]]);
    expect(second.has_more).toBe(false);
  });

  it("refuses a cursor it never gave", async () => {
    const thrown = await rejection(web().conversations.history({ channel, cursor: "bm9wZQ==" }));
    expect(thrown).toMatchObject({ data: { error: "invalid_cursor" } });
  });
});

describe("the non-Marketplace conversations.history limits (opt-in)", () => {
  it("caps `limit` at 15 and allows one request a minute, even with the other limits off", async () => {
    chatter(40);
    emu.setHistoryAccess("non-marketplace");

    const first = await web().conversations.history({ channel, limit: 200 });
    expect(first.messages).toHaveLength(NON_MARKETPLACE_HISTORY_LIMIT);
    expect(first.has_more).toBe(true);

    const cursor = first.response_metadata!.next_cursor!;
    clock.advance(30_000);
    const throttled = (await rejection(web().conversations.history({ channel, cursor }))) as WebAPIRateLimitedError;
    expect(throttled.code).toBe("slack_webapi_rate_limited_error");
    expect(throttled.retryAfter).toBeGreaterThanOrEqual(30);

    clock.advance(30_000);
    const second = await web().conversations.history({ channel, cursor });
    expect(second.messages).toHaveLength(NON_MARKETPLACE_HISTORY_LIMIT);
    expect(second.messages![0]!.ts! < first.messages!.at(-1)!.ts!).toBe(true);
  });

  it("answers 15 messages by default; standard access answers 100", async () => {
    chatter(120);
    expect((await web().conversations.history({ channel })).messages).toHaveLength(100);
    emu.setHistoryAccess("non-marketplace");
    expect((await web().conversations.history({ channel })).messages).toHaveLength(NON_MARKETPLACE_HISTORY_LIMIT);
  });

  it("leaves other methods at their tiers", async () => {
    emu.setHistoryAccess("non-marketplace");
    for (let n = 0; n < 5; n++) await web().conversations.info({ channel });
    expect(emu.callsTo("conversations.info").every((c) => c.ok)).toBe(true);
  });
});
