// A late edit of an answered interaction's message (`@original`) tried again after a failure carries the card as it
// is drawn when the try goes, not the one the first try carried: the issue may have changed in between, and a
// retry must not put an older state back on the card. Through the real REST client against the Discord emulator.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../../dev/emulators/discord";
import { InteractionWebhook } from "../../../shared/discord/interaction-webhook";
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
  { bucketLimit: 100 },
);

async function deferredClick() {
  const { messageId, token } = await clicks.deferredClickOnNewMessage("card v1: unresolved");
  const path = `/webhooks/${discord.applicationId}/${token}/messages/@original`;
  const webhook = new InteractionWebhook(new DiscordRest({ apiUrl: discord.apiUrl, botToken: discord.botToken }), discord.applicationId, token, {
    sleep: async () => {},
  });
  const tries = () => discord.calls.filter((c) => c.path === path).map((c) => `${c.status} ${(c.body as { content?: string }).content}`);
  return { messageId, path, webhook, tries };
}

describe("an edit of @original tried again", () => {
  it("after a 503, the retry carries the card drawn again: the message shows the newer state, not the first try's", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: click.path, failure: { status: 503 } });
    const drawings = ["card v3: unresolved by ben"];

    const sent = await click.webhook.editOriginal({ content: "card v2: resolved by ana" }, { redraw: async () => ({ content: drawings.shift() }) });

    expect(sent.kind).toBe("ok");
    expect(discord.message(channelId, click.messageId)!.content).toBe("card v3: unresolved by ben");
    expect(click.tries()).toEqual(["503 card v2: resolved by ana", "200 card v3: unresolved by ben"]);
  });

  it("drawn again before every retry, each time the state as it is then", async () => {
    const click = await deferredClick();
    discord.failNext({ pathIncludes: click.path, failure: "drop", times: 2 });
    const drawings = ["card v3", "card v4"];

    await click.webhook.editOriginal({ content: "card v2" }, { redraw: async () => ({ content: drawings.shift() }) });

    expect(discord.message(channelId, click.messageId)!.content).toBe("card v4");
    expect(click.tries()).toEqual(["0 card v2", "0 card v3", "200 card v4"]);
  });

  it("a first try that goes through is not drawn again", async () => {
    const click = await deferredClick();
    let redrawn = 0;

    await click.webhook.editOriginal({ content: "card v2" }, { redraw: async () => ({ content: `card v${3 + redrawn++}` }) });

    expect(redrawn).toBe(0);
    expect(discord.message(channelId, click.messageId)!.content).toBe("card v2");
  });
});
