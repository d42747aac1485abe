// A click answered deferred is finished by editing the card through the interaction's webhook, and a failed edit
// is tried again for up to 15 s. Meanwhile the issue can change again (another click on the card, or a change
// elsewhere whose card refresh edits the message). The late edit must not put the older state back on the card:
// whatever order things land in, the card ends on the issue's latest state, and once it has shown a state it
// never goes back to an older one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordEmulator, DiscordMessage, DiscordUser } from "../../dev/emulators/discord";
import { discordMessageVersion } from "../../shared/cards/discord-message";
import { QUEUES } from "../../shared/storage/clients";
import { IdentityRepository } from "../../shared/storage/identities";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { startHostProcess, type HostProcess } from "../support/host-process";
import { messageCount, sendBase64Json } from "../support/queues";
import { startSlowStorage, type SlowStorage } from "../support/slow-storage";
import { waitFor } from "../support/wait";
import { startStack, type Stack } from "./stack";

let stack: Stack;
let discord: DiscordEmulator;
let slow: SlowStorage;
let host: HostProcess;
let guildId: string;
let channelId: string;

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  discord = stack.discord!;
  ({
    guild: { id: guildId },
    channels: [{ id: channelId }],
  } = discord.addGuild("Checkout", ["alerts"]) as unknown as { guild: { id: string }; channels: [{ id: string }] });
  slow = await startSlowStorage(stack.azurite);
  await stack.host.stop();
  // The app on the same port (link URLs), its storage behind the slow proxy so that a click can be answered deferred.
  const port = Number(new URL(stack.env.PUBLIC_BASE_URL!).port);
  host = await startHostProcess({ env: { ...stack.env, AzureWebJobsStorage: slow.connectionString }, port });
}, 120_000);
afterAll(async () => {
  await host?.stop();
  await slow?.stop();
  await stack?.stop();
});

const url = () => `${host.url}/api/discord/interactions`;
const cardOf = (issueId: string) => discord.messages(channelId).find((m) => !m.ephemeral && JSON.stringify(m.components).includes(`~${issueId}`));
const storedIssue = async (issueId: string) => (await new IssueRepository(stack.storage).get(issueId))!.issue;
const cardRefreshesLeft = () => messageCount(stack.azurite.connectionString, QUEUES.cardRefresh);

async function postedCard(issueId: string): Promise<DiscordMessage> {
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({ alertId: `alert-${issueId}`, issue: { id: issueId, tags: {} }, targets: [{ provider: "discord", channelId }] }),
  );
  const card = await waitFor(() => cardOf(issueId), { timeoutMs: 30_000 });
  await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000 });
  return card;
}

async function linkedUser(name: string): Promise<DiscordUser> {
  const user = discord.addUser(name, name);
  await new IdentityRepository(stack.storage).link({
    provider: "discord",
    scope: guildId,
    chatUserId: user.id,
    person: { email: `${name}@contoso.com`, name },
    how: "explicit",
    linkedAt: new Date().toISOString(),
  });
  return user;
}

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
  slow.setDelay(3_000);
  try {
    expect(await discord.sendInteraction(url(), interaction)).toEqual({ status: 200, body: { type: 6 } });
  } finally {
    slow.setDelay(0);
  }
  await waitFor(() => edits().length > 0, { timeoutMs: 30_000, description: "Ana's first edit of the card" });
  expect((await storedIssue(issueId)).status).toBe("resolved");
  return { edits, landed: () => edits().some((c) => c.status === 200) };
}

/** The card once the app is done with it: Ana's edit landed and no card refresh is left to run. */
async function settledCard(issueId: string, anaEditLanded: () => boolean): Promise<DiscordMessage> {
  await waitFor(() => anaEditLanded(), { timeoutMs: 30_000, description: "Ana's edit going through" });
  await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
  // A refresh a late edit asks for goes through the 1 s coalescing window first.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
  return cardOf(issueId)!;
}

describe("a deferred click's card edit, retried after a newer change was shown", () => {
  it("Ben unresolves while Ana's Resolve edit is being retried: the card shows Ben's Unresolve, and never Ana's Resolve after it", async () => {
    const ISSUE = "stale-edit-click";
    const ana = await linkedUser("ana");
    const ben = await linkedUser("ben");
    const card = await postedCard(ISSUE);
    const shown = versionsShown(card.id);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 4);

      const bens = await discord.sendInteraction(
        url(),
        discord.componentClick({ user: ben, channelId, messageId: card.id, customId: `unresolve~${ISSUE}` }),
      );
      expect(bens.body?.type).toBe(7);
      const unresolved = await storedIssue(ISSUE);
      expect(unresolved.status).toBe("unresolved");
      // The race this test is about: Ben's answer was on the card before Ana's edit went through.
      expect(anas.landed()).toBe(false);

      const final = await settledCard(ISSUE, anas.landed);
      expect(await storedIssue(ISSUE)).toMatchObject({ status: "unresolved", version: unresolved.version });
      expect(discordMessageVersion(final.embeds as { footer?: { text?: string } }[])).toBe(unresolved.version);
      expect(JSON.stringify(final.embeds)).toContain("Unresolved by ben");
      expect(JSON.stringify(final.components)).toContain(`"resolve~${ISSUE}"`);
      expect(JSON.stringify(final.components)).not.toContain(`unresolve~${ISSUE}`);
      const fromBens = shown.versions.slice(shown.versions.indexOf(unresolved.version));
      expect(fromBens).toEqual(fromBens.map(() => unresolved.version));
    } finally {
      shown.stop();
    }
  }, 120_000);

  it("Ana's Resolve changed nothing (Ben had just resolved it) and Ben unresolves while her edit is being retried: the card ends unresolved", async () => {
    const ISSUE = "stale-edit-unchanged";
    const ana = await linkedUser("eve");
    const ben = await linkedUser("finn");
    const card = await postedCard(ISSUE);
    const bensResolve = await discord.sendInteraction(
      url(),
      discord.componentClick({ user: ben, channelId, messageId: card.id, customId: `resolve~${ISSUE}` }),
    );
    expect(bensResolve.body?.type).toBe(7);
    await waitFor(async () => (await cardRefreshesLeft()) === 0, { timeoutMs: 30_000, intervalMs: 200 });
    const shown = versionsShown(card.id);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 4);

      const bensUnresolve = await discord.sendInteraction(
        url(),
        discord.componentClick({ user: ben, channelId, messageId: card.id, customId: `unresolve~${ISSUE}` }),
      );
      expect(bensUnresolve.body?.type).toBe(7);
      const unresolved = await storedIssue(ISSUE);
      expect(unresolved.status).toBe("unresolved");
      expect(anas.landed()).toBe(false);

      const final = await settledCard(ISSUE, anas.landed);
      expect(await storedIssue(ISSUE)).toMatchObject({ status: "unresolved", version: unresolved.version });
      expect(discordMessageVersion(final.embeds as { footer?: { text?: string } }[])).toBe(unresolved.version);
      expect(JSON.stringify(final.embeds)).toContain("Unresolved by finn");
      const fromBens = shown.versions.slice(shown.versions.indexOf(unresolved.version));
      expect(fromBens).toEqual(fromBens.map(() => unresolved.version));
    } finally {
      shown.stop();
    }
  }, 120_000);

  it("the issue is unresolved through the API (its card refresh edits the message) while Ana's edit is being retried: the card ends unresolved, never going back", async () => {
    const ISSUE = "stale-edit-refresh";
    const ana = await linkedUser("cai");
    const card = await postedCard(ISSUE);
    const shown = versionsShown(card.id);
    const refreshEdits = () => discord.calls.filter((c) => c.method === "PATCH" && c.path === `/channels/${channelId}/messages/${card.id}`);
    try {
      const anas = await resolveWhoseEditFails(ana, ISSUE, card.id, 5);

      const response = await fetch(`${host.url}/api/issues/${ISSUE}`, {
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

      const final = await settledCard(ISSUE, anas.landed);
      expect(await storedIssue(ISSUE)).toMatchObject({ status: "unresolved", version: unresolved.version });
      expect(discordMessageVersion(final.embeds as { footer?: { text?: string } }[])).toBe(unresolved.version);
      expect(JSON.stringify(final.embeds)).toContain("Unresolved by dan@contoso.com");
      const fromRefresh = shown.versions.slice(shown.versions.indexOf(unresolved.version));
      expect(fromRefresh).toEqual(fromRefresh.map(() => unresolved.version));
    } finally {
      shown.stop();
    }
  }, 120_000);
});
