// A late answer's tries end within RETRY_BUDGET_MS of the first, not only start within it: the click's announcement
// (every other copy, thread lines, issue events) waits for them. A try Discord never answers is given up when the
// budget runs out, not after the REST client's own 10 s; so is the card's redraw before a try, and no try follows it.
// Through the real REST client. The clock is real time plus the backoff's waits, which are skipped; with no jitter
// the tries start at 0, 0.25, 0.75, 1.75, 3.75 … 11.75 and 13.75 s, so the last one has 1.25 s of the budget left.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../../dev/emulators/discord";
import { InteractionWebhook, RETRY_BUDGET_MS } from "../../../shared/discord/interaction-webhook";
import { DiscordRest } from "../../../shared/discord/rest";
import { clickedCopyAfterEdit } from "../../../shared/inbound/discord/clicked-card";
import { useDiscordAnsweringDeferred, type DiscordAnsweringDeferred } from "../../support/discord";

/** From here on the test makes the last try (13.75 s) hang. */
const LAST_TRY_FROM_MS = 13_000;
/** Timers fire a little late, and the answer takes a moment to come back. */
const TIMER_SLACK_MS = 250;

let discord: DiscordEmulator;
let channelId: string;
let clicks: DiscordAnsweringDeferred;

useDiscordAnsweringDeferred(
  (started) => {
    clicks = started;
    ({ discord, channelId } = started);
  },
  { bucketLimit: 100 },
);

/** Real time, plus every backoff wait the webhook asked for (skipped, not waited). */
function skippingClock() {
  const startedAt = Date.now();
  let skipped = 0;
  const now = () => Date.now() + skipped;
  return {
    now,
    sleep: async (ms: number) => void (skipped += ms),
    elapsed: () => now() - startedAt,
  };
}

/** Discord in an outage: every request answered 503, until `stopAnswering()`; from then on requests get no answer at all. */
async function startDiscordInAnOutage() {
  let answering = true;
  const unanswered: ServerResponse[] = [];
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    requests++;
    if (!answering) return void unanswered.push(res);
    res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ message: "Service Unavailable", code: 0 }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v10`,
    stopAnswering: () => void (answering = false),
    requests: () => requests,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let outage: Awaited<ReturnType<typeof startDiscordInAnOutage>> | undefined;
afterEach(async () => {
  await outage?.stop();
  outage = undefined;
});

describe("a late edit of @original ends within the budget", () => {
  it("Discord stops answering on the last try: the edit gives up when the budget runs out, not 10 s later", async () => {
    outage = await startDiscordInAnOutage();
    const clock = skippingClock();
    const webhook = new InteractionWebhook(new DiscordRest({ apiUrl: outage.apiUrl, botToken: "bot-token" }), "1100000000000000001", "token", {
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms);
        if (clock.elapsed() >= LAST_TRY_FROM_MS) outage!.stopAnswering();
      },
      random: () => 0,
    });

    const sent = await webhook.editOriginal({ content: "card: resolved" }, { redraw: async () => ({ content: "card: resolved" }) });

    expect(clock.elapsed()).toBeLessThan(RETRY_BUDGET_MS + TIMER_SLACK_MS);
    expect(sent.kind).toBe("unanswered");
    expect(outage.requests()).toBe(10);
  }, 30_000);

  it("the card's redraw before the last try takes longer than the budget has left: no try after it, the edit ends by the budget", async () => {
    const { messageId, token } = await clicks.deferredClickOnNewMessage("card v1: unresolved");
    const path = `/webhooks/${discord.applicationId}/${token}/messages/@original`;
    const tries = () => discord.calls.filter((c) => c.path === path);
    discord.failNext({ pathIncludes: path, failure: { status: 503 }, times: 1_000 });
    const clock = skippingClock();
    let slowRedraw: Promise<unknown> | undefined;
    const redraw = () => {
      if (clock.elapsed() < LAST_TRY_FROM_MS) return Promise.resolve({ content: "card v2: resolved" });
      // Storage slow to answer: the drawing comes back 3 s later, past the budget.
      slowRedraw = new Promise((resolve) => setTimeout(() => resolve({ content: "card v3: drawn too late" }), 3_000));
      return slowRedraw;
    };
    const webhook = new InteractionWebhook(new DiscordRest({ apiUrl: discord.apiUrl, botToken: discord.botToken }), discord.applicationId, token, {
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
    });

    const sent = await webhook.editOriginal({ content: "card v2: resolved" }, { redraw });

    expect(clock.elapsed()).toBeLessThan(RETRY_BUDGET_MS + TIMER_SLACK_MS);
    expect(sent).toMatchObject({ kind: "error", status: 503 });
    expect(slowRedraw).toBeDefined();
    await slowRedraw;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(tries()).toHaveLength(9);
    expect(discord.message(channelId, messageId)).toMatchObject({ content: "card v1: unresolved", edits: 0 });
  }, 30_000);
});

describe("a late edit still being tried when the click's card refresh went ahead", () => {
  it("its first try landed (the answer lost to a 503), then Discord was unreachable until the budget ran out: the clicked copy is recorded as perhaps showing it, so the refresh redraws it", async () => {
    const { messageId, token } = await clicks.deferredClickOnNewMessage("card v1: unresolved");
    const path = `/webhooks/${discord.applicationId}/${token}/messages/@original`;
    discord.failNext({ pathIncludes: path, failure: { status: 503 }, afterApplying: true });
    const clock = skippingClock();
    const webhook = new InteractionWebhook(new DiscordRest({ apiUrl: discord.apiUrl, botToken: discord.botToken }), discord.applicationId, token, {
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms);
        await discord.refuseConnections();
      },
      random: () => 0,
    });
    let sent;
    try {
      sent = await webhook.editOriginal({ content: "card v2: resolved" });
    } finally {
      await discord.acceptConnections();
    }

    expect(sent.kind).toBe("unanswered");
    expect(discord.message(channelId, messageId)!.content).toBe("card v2: resolved");
    expect(clickedCopyAfterEdit(sent, 2, { refreshWentAhead: true })).toEqual({ kind: "unknown" });
  });
});
