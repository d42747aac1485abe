// A click answered deferred is finished by editing the card through the interaction's webhook, and a failed edit
// is tried again for up to 15 s. Meanwhile the issue can change again (another click on the card, or a change
// elsewhere whose card refresh edits the message). The late edit must not put the older state back on the card:
// whatever order things land in, the card ends on the issue's latest state, and once it has shown a state it
// never goes back to an older one.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordMessage, DiscordUser } from "../../dev/emulators/discord";
import { discordMessageVersion } from "../../shared/cards/discord-message";
import { QUEUES } from "../../shared/storage/clients";
import { IssueRepository } from "../../shared/storage/issues";
import { messageCount } from "../support/queues";
import { waitFor } from "../support/wait";
import { useSlowDiscordStack, type SlowDiscordStack } from "./discord-helpers";

let app: SlowDiscordStack;
let discord: DiscordEmulator;
let channelId: string;

useSlowDiscordStack((started) => {
  app = started;
  ({ discord, channelId } = started);
});

const storedIssue = async (issueId: string) => (await new IssueRepository(app.stack.storage).get(issueId))!.issue;
const cardRefreshesLeft = () => messageCount(app.stack.azurite.connectionString, QUEUES.cardRefresh);

/** Every issue version the card showed, in order (from its embed's footer), from now on. */
function versionsShown(messageId: string): { versions: number[]; stop: () => void } {
  const versions: number[] = [];
  const stop = discord.onMessage((message) => {
    if (message.id === messageId) versions.push(discordMessageVersion(message.embeds as { footer?: { text?: string } }[]) ?? -1);
  });
  return { versions, stop };
}

/**
 * Ana's Resolve, answered deferred (storage slow), whose edits of the card fail `failures` times (503) before one
 * goes through; resolves once her resolve is stored and her first edit has failed.
 */
async function resolveWhoseEditFails(ana: DiscordUser, issueId: string, messageId: string, failures: number) {
  const interaction = discord.componentClick({ user: ana, channelId, messageId, customId: `resolve~${issueId}` });
  const webhookPath = `/webhooks/${discord.applicationId}/${String(interaction.token)}/messages/@original`;
  const edits = () => discord.calls.filter((c) => c.method === "PATCH" && c.path === webhookPath);
  discord.failNext({ pathIncludes: webhookPath, failure: { status: 503 }, times: failures });
  await app.withSlowStorage(3_000, async () => {
    expect(await discord.sendInteraction(app.interactionsUrl, interaction)).toEqual({ status: 200, body: { type: 6 } });
  });
  await waitFor(() => edits().length > 0, { timeoutMs: 30_000, description: "Ana's first edit of the card" });
  expect((await storedIssue(issueId)).status).toBe("resolved");
  return { edits, landed: () => edits().some((c) => c.status === 200) };
}

/** `user`'s click on the card, sent in time (storage not slow): Discord's answer. */
const click = (user: DiscordUser, messageId: string, customId: string) =>
  discord.sendInteraction(app.interactionsUrl, discord.componentClick({ user, channelId, messageId, customId }));

/** Ben's Unresolve, answered with the new card at once: the issue it stored. */
async function bensUnresolve(ben: DiscordUser, issueId: string, messageId: string) {
  const answer = await click(ben, messageId, `unresolve~${issueId}`);
  expect(answer.body?.type).toBe(7);
  const unresolved = await storedIssue(issueId);
  expect(unresolved.status).toBe("unresolved");
  return unresolved;
}

/** The card once the app is done with it: Ana's edit landed and no card refresh is left to run. */
async function settledCard(issueId: string, anaEditLanded: () => boolean): Promise<DiscordMessage> {
  await waitFor(() => anaEditLanded(), { timeoutMs: 30_000, description: "Ana's edit going through" });
  await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
  // A refresh a late edit asks for goes through the 1 s coalescing window first.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
  return app.cardOf(issueId)!;
}

/**
 * The card once the app is done with it ends on `latest` (the issue still there, its card drawing it, by `who`), and
 * showed no older state after it had shown `latest`.
 */
async function expectCardEndsUnresolved(
  issueId: string,
  latest: { version: number },
  who: string,
  { anaEditLanded, shown }: { anaEditLanded: () => boolean; shown: { versions: number[] } },
): Promise<DiscordMessage> {
  const final = await settledCard(issueId, anaEditLanded);
  expect(await storedIssue(issueId)).toMatchObject({ status: "unresolved", version: latest.version });
  expect(discordMessageVersion(final.embeds as { footer?: { text?: string } }[])).toBe(latest.version);
  expect(JSON.stringify(final.embeds)).toContain(`Unresolved by ${who}`);
  const fromLatest = shown.versions.slice(shown.versions.indexOf(latest.version));
  expect(fromLatest).toEqual(fromLatest.map(() => latest.version));
  return final;
}

describe("a deferred click's card edit, retried after a newer change was shown", () => {
  it("Ben unresolves while Ana's Resolve edit is being retried: the card shows Ben's Unresolve, and never Ana's Resolve after it", async () => {
    const ISSUE = "stale-edit-click";
    const ana = await app.linkedUser("ana");
    const ben = await app.linkedUser("ben");
    const card = await app.postedCard(ISSUE);
    const shown = versionsShown(card.id);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 4);

      const unresolved = await bensUnresolve(ben, ISSUE, card.id);
      // The race this test is about: Ben's answer was on the card before Ana's edit went through.
      expect(anas.landed()).toBe(false);

      const final = await expectCardEndsUnresolved(ISSUE, unresolved, "ben", { anaEditLanded: anas.landed, shown });
      expect(JSON.stringify(final.components)).toContain(`"resolve~${ISSUE}"`);
      expect(JSON.stringify(final.components)).not.toContain(`unresolve~${ISSUE}`);
    } finally {
      shown.stop();
    }
  }, 120_000);

  it("Ana's Resolve changed nothing (Ben had just resolved it) and Ben unresolves while her edit is being retried: the card ends unresolved", async () => {
    const ISSUE = "stale-edit-unchanged";
    const ana = await app.linkedUser("eve");
    const ben = await app.linkedUser("finn");
    const card = await app.postedCard(ISSUE);
    const bensResolve = await click(ben, card.id, `resolve~${ISSUE}`);
    expect(bensResolve.body?.type).toBe(7);
    await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
    const shown = versionsShown(card.id);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 4);

      const unresolved = await bensUnresolve(ben, ISSUE, card.id);
      expect(anas.landed()).toBe(false);

      await expectCardEndsUnresolved(ISSUE, unresolved, "finn", { anaEditLanded: anas.landed, shown });
    } finally {
      shown.stop();
    }
  }, 120_000);

  it("the issue is unresolved through the API (its card refresh edits the message) while Ana's edit is being retried: the card ends unresolved, never going back", async () => {
    const ISSUE = "stale-edit-refresh";
    const ana = await app.linkedUser("cai");
    const card = await app.postedCard(ISSUE);
    const shown = versionsShown(card.id);
    const refreshEdits = () => discord.calls.filter((c) => c.method === "PATCH" && c.path === `/channels/${channelId}/messages/${card.id}`);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 5);

      const response = await fetch(`${app.host.url}/api/issues/${ISSUE}`, {
        method: "PATCH",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ action: "unresolve", actor: "dan@contoso.com" }),
      });
      expect(response.status).toBe(200);
      const unresolved = await storedIssue(ISSUE);
      expect(unresolved.status).toBe("unresolved");
      await waitFor(() => refreshEdits().some((c) => c.status === 200), { timeoutMs: 30_000, description: "the card refresh's edit" });
      // The race this test is about: the refresh drew the unresolve before Ana's edit went through.
      expect(anas.landed()).toBe(false);

      await expectCardEndsUnresolved(ISSUE, unresolved, "dan@contoso.com", { anaEditLanded: anas.landed, shown });
    } finally {
      shown.stop();
    }
  }, 120_000);
});
