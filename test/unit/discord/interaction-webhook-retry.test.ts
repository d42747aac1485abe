// An answered interaction's late answer (edit @original, or a followup) through the real REST client against the
// Discord emulator, which fails the first tries at the network boundary: 5xx answers, connections dropped before
// or after the request took effect, connections refused.
import { describe, expect, it } from "vitest";
import { INTERACTION_TOKEN_LIFETIME_MS, type DiscordEmulator } from "../../../dev/emulators/discord";
import { InteractionWebhook, RETRY_BUDGET_MS } from "../../../shared/discord/interaction-webhook";
import { DiscordRest } from "../../../shared/discord/rest";
import { useDiscordAnsweringDeferred, type DiscordAnsweringDeferred } from "../../support/discord";

let discord: DiscordEmulator;
let channelId: string;
let clicks: DiscordAnsweringDeferred;

useDiscordAnsweringDeferred(
  (started) => {
    clicks = started;
    ({ discord, channelId } = started);
  },
  // Every test posts its own card: room for them all in the channel's bucket.
  { bucketLimit: 100 },
);

/** A card in the channel, clicked and answered deferred: its interaction's token and webhook path. */
async function deferredClick() {
  const { messageId, token } = await clicks.deferredClickOnNewMessage("card: unresolved");
  const path = `/webhooks/${discord.applicationId}/${token}`;
  return { token, messageId, path, calls: () => discord.calls.filter((c) => c.path.startsWith(path)).map((c) => `${c.method} ${c.status}`) };
}

function webhook(token: string, options: { sleep?: (ms: number) => Promise<void>; now?: () => number } = {}) {
  return new InteractionWebhook(new DiscordRest({ apiUrl: discord.apiUrl, botToken: discord.botToken }), discord.applicationId, token, options);
}
const followupsSaying = (content: string) => discord.messages(channelId).filter((m) => m.content === content);

describe("a followup (a new message: sent again only when it can't have been posted)", () => {
  it("Discord unreachable at first (connection refused): sent once Discord is back, and shown once", async () => {
    const click = await deferredClick();
    const waits: number[] = [];
    await discord.refuseConnections();
    let sent;
    try {
      sent = await webhook(click.token, {
        sleep: async (ms) => {
          waits.push(ms);
          await discord.acceptConnections();
        },
      }).followup({ content: "link your account (refused first)", flags: 64 });
    } finally {
      await discord.acceptConnections();
    }
    expect(sent.kind).toBe("ok");
    expect(waits).toHaveLength(1);
    expect(followupsSaying("link your account (refused first)")).toHaveLength(1);
    expect(click.calls()).toEqual(["POST 200"]);
  });

  it("a 502 (Discord: no gateway available, retry): sent again, shown once", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: click.path, method: "POST", failure: { status: 502 } });
    const sent = await webhook(click.token).followup({ content: "after a 502", flags: 64 });
    expect(sent.kind).toBe("ok");
    expect(followupsSaying("after a 502")).toHaveLength(1);
    expect(click.calls()).toEqual(["POST 502", "POST 200"]);
  });

  it("a 500 answered after Discord posted it: not sent again, so it shows once, not twice", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: click.path, method: "POST", failure: { status: 500 }, afterApplying: true });
    const sent = await webhook(click.token).followup({ content: "posted, then a 500", flags: 64 });
    expect(sent).toMatchObject({ kind: "error", status: 500 });
    expect(followupsSaying("posted, then a 500")).toHaveLength(1);
    expect(click.calls()).toEqual(["POST 500"]);
  });

  it("the connection reset after Discord posted it: not sent again, shown once", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: click.path, method: "POST", failure: "drop", afterApplying: true });
    const sent = await webhook(click.token).followup({ content: "posted, then reset", flags: 64 });
    expect(sent.kind).toBe("unanswered");
    expect(followupsSaying("posted, then reset")).toHaveLength(1);
    expect(click.calls()).toEqual(["POST 0"]);
  });
});

describe("an edit of the original message (idempotent: tried again after any transient failure)", () => {
  it("a 503, then a connection reset before any answer: tried again, the message edited", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: `${click.path}/messages/@original`, failure: { status: 503 } });
    discord.failNext({ pathIncludes: `${click.path}/messages/@original`, failure: "drop" });
    const sent = await webhook(click.token).editOriginal({ content: "card: resolved" });
    expect(sent.kind).toBe("ok");
    expect(discord.message(channelId, click.messageId)).toMatchObject({ content: "card: resolved", edits: 1 });
    expect(click.calls()).toEqual(["PATCH 503", "PATCH 0", "PATCH 200"]);
  });

  it("Discord unreachable at first: tried again, the message edited", async () => {
    const click = await deferredClick();
    await discord.refuseConnections();
    let sent;
    try {
      sent = await webhook(click.token, { sleep: () => discord.acceptConnections() }).editOriginal({ content: "card: resolved (refused first)" });
    } finally {
      await discord.acceptConnections();
    }
    expect(sent.kind).toBe("ok");
    expect(discord.message(channelId, click.messageId)!.content).toBe("card: resolved (refused first)");
  });

  it("404 Unknown Webhook (the token outlived its 15 minutes): not tried again", async () => {
    const click = await deferredClick();
    discord.ageInteraction(click.token, INTERACTION_TOKEN_LIFETIME_MS + 1_000);
    const waits: number[] = [];
    const sent = await webhook(click.token, { sleep: async (ms) => void waits.push(ms) }).editOriginal({ content: "too late" });
    expect(sent).toMatchObject({ kind: "error", status: 404, code: 10015 });
    expect(waits).toEqual([]);
    expect(click.calls()).toEqual(["PATCH 404"]);
    expect(discord.message(channelId, click.messageId)!.edits).toBe(0);
  });

  it("failing for longer than the budget: gives up without starting a try after it (the card refresh redraws the copy)", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: `${click.path}/messages/@original`, failure: { status: 503 }, times: 1_000 });
    let now = 0;
    const sent = await webhook(click.token, { now: () => now, sleep: async (ms) => void (now += ms) }).editOriginal({ content: "never" });
    expect(sent).toMatchObject({ kind: "error", status: 503 });
    expect(now).toBeLessThan(RETRY_BUDGET_MS);
    expect(click.calls().length).toBeGreaterThan(3);
    expect(discord.message(channelId, click.messageId)!.edits).toBe(0);
  });
});
