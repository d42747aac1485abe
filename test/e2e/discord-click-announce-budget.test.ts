// A Discord click answered deferred (storage slow) is finished by editing the clicked card through the interaction's
// webhook, tried again for up to 15 s when it fails. The change it made is announced meanwhile, not after: the issue's
// other copies (here a Slack card) and its issue events show it within seconds though Discord keeps refusing that edit,
// and the clicked card is redrawn by the card refresh the change announced.
import { describe, expect, it } from "vitest";
import type { DiscordEmulator } from "../../dev/emulators/discord";
import { QUEUES } from "../../shared/storage/clients";
import { anAlert } from "../fixtures/issues";
import { drainIssueEventActions, messageCount, sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { useSlowDiscordStack, type SlowDiscordStack } from "./discord-helpers";
import { blocksText } from "./slack-helpers";
import { installSlackWorkspace } from "./stack";

const ISSUE = "announce-while-edit-fails";
/** Well under the 15 s the edit is tried for: a card refresh polls its queue at most every 2 s, then goes. */
const SHOWN_WITHIN_MS = 8_000;

let app: SlowDiscordStack;
let discord: DiscordEmulator;
let channelId: string;

useSlowDiscordStack((started) => {
  app = started;
  ({ discord, channelId } = started);
});

/** The issue's cards in #alerts on Discord and in a Slack channel, their refreshes over; the Slack card's finder. */
async function cardsOnDiscordAndSlack() {
  const teamId = await installSlackWorkspace(app.stack, "Contoso");
  const slackChannel = app.stack.slack.addChannel(teamId, { name: "alerts" }).id;
  await sendBase64Json(
    app.stack.azurite.connectionString,
    "alerts",
    anAlert({
      alertId: `${ISSUE}-1`,
      issue: { id: ISSUE },
      targets: [
        { provider: "discord", channelId },
        { provider: "slack", teamId, channel: slackChannel },
      ],
    }),
  );
  const slackCard = () =>
    app.stack.slack.messages(slackChannel).find((m) => !m.ephemeral && !m.threadTs && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
  const discordCard = await waitFor(() => slackCard() && app.cardOf(ISSUE), { timeoutMs: 30_000, description: "the cards in Discord and Slack" });
  await waitFor(async () => (await messageCount(app.stack.azurite.connectionString, QUEUES.cardRefresh)) === 0, { timeoutMs: 30_000 });
  await drainIssueEventActions(app.stack.azurite.connectionString, ISSUE);
  return { discordCard, slackCard };
}

describe("a deferred Discord click whose card edit keeps failing", () => {
  it("Ana's Resolve: the Slack card and the issue events show it within seconds, and the clicked card ends resolved all the same", async () => {
    const ana = await app.linkedUser("ana");
    const { discordCard, slackCard } = await cardsOnDiscordAndSlack();
    const interaction = discord.componentClick({ user: ana, channelId, messageId: discordCard.id, customId: `resolve~${ISSUE}` });
    const webhookPath = `/webhooks/${discord.applicationId}/${String(interaction.token)}/messages/@original`;
    const edits = () => discord.calls.filter((c) => c.method === "PATCH" && c.path === webhookPath);
    discord.failNext({ pathIncludes: webhookPath, failure: { status: 503 }, times: 1_000 });

    const answer = await app.withSlowStorage(3_000, () => discord.sendInteraction(app.interactionsUrl, interaction));

    expect(answer).toEqual({ status: 200, body: { type: 6 } });
    await waitFor(() => edits().length > 0, { timeoutMs: 30_000, description: "Ana's first edit of the card" });
    const firstEditFailedAt = Date.now();
    await waitFor(() => /Resolved by ana/.test(blocksText(slackCard()!.blocks)), { timeoutMs: 30_000, description: "the Slack card resolved" });
    expect(Date.now() - firstEditFailedAt).toBeLessThan(SHOWN_WITHIN_MS);
    const events: string[] = [];
    await waitFor(
      async () => {
        events.push(...(await drainIssueEventActions(app.stack.azurite.connectionString, ISSUE)));
        return events.includes("resolve");
      },
      { timeoutMs: 30_000, description: "the resolve on the issue-events queue" },
    );
    expect(Date.now() - firstEditFailedAt).toBeLessThan(SHOWN_WITHIN_MS);

    await waitFor(() => JSON.stringify(app.cardOf(ISSUE)!.embeds).includes("Resolved by ana"), {
      timeoutMs: 30_000,
      description: "the clicked card redrawn resolved",
    });
    expect(JSON.stringify(app.cardOf(ISSUE)!.components)).toContain(`unresolve~${ISSUE}`);
    // Redrawn by the card refresh, through the channel's route: no edit through the interaction's webhook landed.
    expect(edits().every((c) => c.status === 503)).toBe(true);
    const refreshEdits = discord.calls.filter((c) => c.method === "PATCH" && c.path === `/channels/${channelId}/messages/${discordCard.id}`);
    expect(refreshEdits.map((c) => c.status)).toContain(200);
  }, 120_000);
});
