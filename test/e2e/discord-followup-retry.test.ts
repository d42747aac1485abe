// A click answered deferred (storage slow) is finished through the interaction's webhook: the card edited
// (@original) or a followup sent. When Discord fails that request at the network boundary, the person still
// ends up seeing the answer: an edit is tried again after any transient failure; a followup only when it can't
// have been posted (so it never shows twice); an expired token (404 Unknown Webhook) is final, and the card
// refresh redraws the card instead.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordUser } from "../../dev/emulators/discord";
import { INTERACTION_TOKEN_LIFETIME_MS } from "../../dev/emulators/discord";
import { waitFor } from "../support/wait";
import { useSlowDiscordStack, type SlowDiscordStack } from "./discord-helpers";

let app: SlowDiscordStack;
let discord: DiscordEmulator;
let channelId: string;

useSlowDiscordStack((started) => {
  app = started;
  ({ discord, channelId } = started);
});

const linkPrompts = (user: DiscordUser) =>
  discord.messages(channelId).filter((m) => m.ephemeral && m.visibleTo === user.id && /link your Discord account/.test(m.content ?? ""));
const deferredAnswerLost = () => app.host.logs().filter((line) => line.includes("a deferred answer could not be sent"));

/** A click sent while storage is slow: answered DEFERRED_UPDATE_MESSAGE, the rest left to the interaction's webhook. */
async function deferredClick(user: DiscordUser, issueId: string, messageId: string, slowMs: number) {
  const interaction = discord.componentClick({ user, channelId, messageId, customId: `resolve~${issueId}` });
  const token = String(interaction.token);
  const webhookPath = `/webhooks/${discord.applicationId}/${token}`;
  const send = () =>
    app.withSlowStorage(slowMs, async () => {
      expect(await discord.sendInteraction(app.interactionsUrl, interaction)).toEqual({ status: 200, body: { type: 6 } });
    });
  const webhookCalls = () => discord.calls.filter((c) => c.path.startsWith(webhookPath)).map((c) => `${c.method} ${c.status}`);
  return { token, webhookPath, send, webhookCalls };
}

/** `name`'s Resolve, answered deferred, whose first edit of the card fails so; resolves once the card shows it resolved. */
async function resolveWhoseFirstEditFails(name: string, issueId: string, failure: { status: number } | "drop") {
  const user = await app.linkedUser(name);
  const card = await app.postedCard(issueId);
  const click = await deferredClick(user, issueId, card.id, 1_000);
  discord.failNext({ pathIncludes: `${click.webhookPath}/messages/@original`, failure });

  await click.send();

  await waitFor(() => JSON.stringify(app.cardOf(issueId)!.embeds).includes(`Resolved by ${name}`), { timeoutMs: 30_000 });
  return click;
}

describe("a deferred click's card edit (idempotent) fails at first", () => {
  it("the first edit is answered 502: tried again, and the card shows Resolved", async () => {
    const click = await resolveWhoseFirstEditFails("ana", "edit-502", { status: 502 });

    expect(JSON.stringify(app.cardOf("edit-502")!.components)).toContain("unresolve~edit-502");
    expect(click.webhookCalls()).toEqual(["PATCH 502", "PATCH 200"]);
  }, 90_000);

  it("the first edit's connection is reset before any answer: tried again, and the card shows Resolved", async () => {
    const click = await resolveWhoseFirstEditFails("ben", "edit-reset", "drop");

    expect(click.webhookCalls()).toEqual(["PATCH 0", "PATCH 200"]);
  }, 90_000);

  it("the token has expired when the edit goes (404 Unknown Webhook): not tried again; the card refresh shows Resolved on the card", async () => {
    const cai = await app.linkedUser("cai");
    const card = await app.postedCard("edit-expired");
    const click = await deferredClick(cai, "edit-expired", card.id, 3_000);

    await click.send();
    // Still working (slow storage): its token is 15 minutes old by the time the edit goes.
    discord.ageInteraction(click.token, INTERACTION_TOKEN_LIFETIME_MS + 1_000);

    await waitFor(() => JSON.stringify(app.cardOf("edit-expired")!.embeds).includes("Resolved by cai"), { timeoutMs: 30_000 });
    expect(click.webhookCalls()).toEqual(["PATCH 404"]);
    expect(discord.calls.filter((c) => c.method === "PATCH" && c.path === `/channels/${channelId}/messages/${card.id}`).map((c) => c.status)).toEqual(
      [200],
    );
  }, 90_000);
});

describe("a deferred click's followup (a new message: sent again only when it can't have been posted)", () => {
  it("Discord unreachable when the link prompt goes (connection refused): it is sent once Discord is back", async () => {
    const dan = discord.addUser("dan", "Dan");
    const card = await app.postedCard("followup-refused");
    const click = await deferredClick(dan, "followup-refused", card.id, 3_000);
    const lostBefore = deferredAnswerLost().length;

    await discord.refuseConnections();
    try {
      await click.send();
      // The click's work ends (and its followup goes) while Discord stays unreachable for a while.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
    } finally {
      await discord.acceptConnections();
    }

    await waitFor(() => linkPrompts(dan).length > 0 || deferredAnswerLost().length > lostBefore, { timeoutMs: 30_000 });
    expect(linkPrompts(dan)).toHaveLength(1);
    expect(linkPrompts(dan)[0]!.content).toMatch(/\/api\/link\?token=/);
    expect(click.webhookCalls()).toEqual(["POST 200"]);
    expect(app.cardOf("followup-refused")!.edits).toBe(0);
  }, 90_000);

  it("the link prompt is answered 500 after Discord posted it: not sent again, so it shows once, not twice", async () => {
    const eve = discord.addUser("eve", "Eve");
    const card = await app.postedCard("followup-500");
    const click = await deferredClick(eve, "followup-500", card.id, 3_000);
    discord.failNext({ pathIncludes: click.webhookPath, method: "POST", failure: { status: 500 }, afterApplying: true });
    const lostBefore = deferredAnswerLost().length;

    await click.send();

    // The app is done with this answer once it says it couldn't be sent (or it has shown the prompt twice).
    await waitFor(() => deferredAnswerLost().length > lostBefore || linkPrompts(eve).length > 1, { timeoutMs: 30_000 });
    expect(linkPrompts(eve)).toHaveLength(1);
    expect(click.webhookCalls()).toEqual(["POST 500"]);
    expect(deferredAnswerLost().at(-1)).toContain("error 500");
  }, 90_000);
});
