import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam } from "../../dev/emulators/teams";
import { TABLES } from "../../shared/storage/clients";
import { anAlert } from "../fixtures/issues";
import { queueClient } from "../support/queues";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

const ISSUES = 10;
const ALERTS_PER_ISSUE = 100;
const WINDOW_SECONDS = 10;

let stack: Stack;
let team: TeamsTeam;
let teamId: string;
let channel: string;

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: String(WINDOW_SECONDS) } });
  const ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Storm", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  await stack.teams.post(
    `${stack.api}/messages`,
    stack.teams.message({ conversation: team.generalChannelId, from: ana, text: "subscribe storm info" }),
  );
  teamId = await installSlackWorkspace(stack, "Storm");
  channel = stack.slack.addChannel(teamId, { name: "storm" }).id;
  const slackAna = stack.slack.addUser(teamId, { name: "ana", email: "ana@contoso.com" }).id;
  await stack.slack.sendCommand(
    `${stack.api}/slack/commands`,
    stack.slack.slashCommand({ teamId, user: slackAna, channel, command: "/triage", text: "subscribe storm info" }),
  );
});
afterAll(async () => {
  await stack?.stop();
});

/** At most this many of `times` fall within any window of `windowMs`. */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j < sorted.length && sorted[j]! - sorted[i]! < windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe("storm control", () => {
  it(`${ISSUES * ALERTS_PER_ISSUE} alerts for ${ISSUES} issues: one card per issue per channel, coalesced updates, final counts, nothing lost or duplicated`, async () => {
    const alerts = Array.from({ length: ISSUES * ALERTS_PER_ISSUE }, (_, n) => {
      const issue = n % ISSUES;
      const count = Math.floor(n / ISSUES) + 1;
      return anAlert({
        alertId: `storm-${n}`,
        issue: {
          id: `storm-${issue}`,
          project: "storm",
          title: `TypeError in storm ${issue}`,
          count,
          lastSeen: new Date(Date.UTC(2026, 10, 21, 12, 0, count)).toISOString(),
        },
      });
    });
    const queue = queueClient(stack.azurite.connectionString, "alerts");
    await queue.createIfNotExists();
    for (let i = 0; i < alerts.length; i += 50) {
      await Promise.all(alerts.slice(i, i + 50).map((alert) => queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"))));
    }

    const teamsCards = () => stack.teams.messages(team.generalChannelId).filter((m) => cardText(cardOf(m.activity)).includes("TypeError in storm"));
    const slackCards = () => stack.slack.messages(channel).filter((m) => !m.ephemeral && m.text.includes("TypeError in storm"));
    await waitFor(
      () => {
        const teams = teamsCards();
        const slack = slackCards();
        return teams.length === ISSUES &&
          slack.length === ISSUES &&
          teams.every((m) => cardText(cardOf(m.activity)).includes(`Events: ${ALERTS_PER_ISSUE}`)) &&
          slack.every((m) => blocksText(m.blocks).includes(`*Events*\n${ALERTS_PER_ISSUE}`))
          ? true
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1000, description: "every card to show the final count" },
    );

    // Exactly one post per issue per channel.
    expect(stack.teams.calls.filter((c) => c.operation === "send" && c.conversationId === team.generalChannelId && c.status < 300)).toHaveLength(
      ISSUES + 1,
    ); // + the welcome card
    expect(stack.slack.callsTo("chat.postMessage").filter((c) => c.ok && c.params.channel === channel)).toHaveLength(ISSUES);

    // Coalesced: no copy is updated more than twice within one window.
    const windowMs = WINDOW_SECONDS * 1000;
    for (const card of teamsCards()) {
      const updates = stack.teams.calls
        .filter((c) => c.operation === "update" && c.activityId === card.activityId && c.status < 300)
        .map((c) => c.at);
      expect(mostInAnyWindow(updates, windowMs)).toBeLessThanOrEqual(2);
    }
    for (const card of slackCards()) {
      const updates = stack.slack
        .callsTo("chat.update")
        .filter((c) => c.ok && c.params.ts === card.ts)
        .map((c) => c.at);
      expect(mostInAnyWindow(updates, windowMs)).toBeLessThanOrEqual(2);
    }

    // Nothing lost: every alert × target delivery is settled as sent, once. A card can show the final count before
    // the last alert's delivery rows are written (the change is announced first) or its post's row is marked sent.
    const deliveries = await stack.storage.table(TABLES.deliveries);
    const stormRows = async () => {
      const rows: { state: string; partitionKey: string }[] = [];
      for await (const row of deliveries.listEntities<{ state: string }>()) {
        if (row.partitionKey?.startsWith("storm-")) rows.push({ state: row.state, partitionKey: row.partitionKey });
      }
      return rows;
    };
    const rows = await waitFor(
      async () => {
        const listed = await stormRows();
        return listed.length >= ISSUES * ALERTS_PER_ISSUE * 2 && listed.every((r) => r.state === "sent" || r.state === "dead") ? listed : undefined;
      },
      { intervalMs: 500, description: "every delivery row written and settled" },
    );
    expect(rows).toHaveLength(ISSUES * ALERTS_PER_ISSUE * 2);
    expect(rows.filter((r) => r.state !== "sent")).toEqual([]);
  }, 300_000);
});
