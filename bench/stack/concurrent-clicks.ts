// (f) Clicks under concurrency: c people click at the same instant, on c different issues or all on one
// issue's card, on Teams (invoke → response with the card) and Slack (click → ack, then the clicked message
// replaced). Each figure is read against a no-op function served by a second host process the same way
// (same local host, same host.json), hit by the same client with the same request body at the same
// concurrency, just before the clicks.
import { join } from "node:path";
import type { TeamsUser } from "../../dev/emulators/teams";
import { QUEUES } from "../../shared/storage/clients";
import { action, cardOf, cardText } from "../../test/e2e/card-helpers";
import { blocksText, click, controls } from "../../test/e2e/slack-helpers";
import { startHostProcess, type HostProcess } from "../../test/support/host-process";
import { messageCount } from "../../test/support/queues";
import { waitFor } from "../../test/support/wait";
import { ROOT } from "../paths";
import { summarize, type Summary } from "../stats";
import { pause, slackPostedAt, teamsPostedAt, waitUntil } from "./observe";
import { alertFor, quiesce, type World } from "./world";

/** `BENCH_CLICK_CONCURRENCIES` (e.g. `20`) picks some of them, for a quick comparison. */
export const CONCURRENCIES: readonly number[] = chosenConcurrencies([1, 5, 20, 50], process.env.BENCH_CLICK_CONCURRENCIES);

function chosenConcurrencies(all: number[], chosen: string | undefined): number[] {
  const picked = (chosen ?? "")
    .split(",")
    .map((c) => Number(c.trim()))
    .filter((c) => Number.isInteger(c) && c > 0);
  return picked.length ? picked : all;
}
export const NOOP_APP = "bench/noop/app.js";
/** After every round, once its cards show their new state and its hand-offs are answered. */
export const PAUSE_BETWEEN_ROUNDS_MS = 250;
const WARMUP_BATCH = 5;
/** The no-op is cheap: more rounds of it make the divisor steady. */
const NOOP_ROUNDS_FACTOR = 3;
/** Issue 11's goal: clicks at 20 concurrent, median at most this many times the no-op's. */
export const CLICK_RATIO_GOAL = 5;
export const GOAL_CONCURRENCY = 20;
/**
 * Cards are spread over this many channels on each platform, as alerts are in real teams: every click also
 * posts a thread line in the card's channel, and one channel's pacing (Slack ~1 post/s, Teams 60 per 30 s)
 * would otherwise be what the quiet wait between rows measures.
 */
const CHANNELS = 10;

export type ClickMode = "different issues" | "one issue";
export type ClickPlatform = "Teams" | "Slack";

export interface ClickRow {
  platform: ClickPlatform;
  mode: ClickMode;
  concurrency: number;
  rounds: number;
  /** Teams: the invoke's HTTP response (it carries the new card). Slack: the HTTP 200. */
  ackMs: Summary;
  /** Click sent → the clicked card shows the new state (Teams: the same response; Slack: the message replaced). */
  updatedMs: Summary;
  /** Slack: clicks the app handed to the slack-actions queue (hand-off log lines during this row). */
  handedOff: number;
  /** Slack: acks slower than Slack's 3 s (the emulator gives up then). */
  pastDeadline: number;
}

export interface NoopRow {
  concurrency: number;
  rounds: number;
  responseMs: Summary;
}

export interface ConcurrentClicksResult {
  samplesPerRow: number;
  /** Clickers per warm-up round. */
  warmupBatch: number;
  noop: NoopRow[];
  rows: ClickRow[];
}

interface TeamsCard {
  issueId: string;
  channel: string;
  activityId: string;
  card: unknown;
}

interface SlackCard {
  issueId: string;
  channel: string;
  ts: string;
}

interface Place {
  teamsUsers: TeamsUser[];
  teamsCards: TeamsCard[];
  slackTeam: string;
  slackUsers: string[];
  slackCards: SlackCard[];
}

const toggled = (text: string) => (/Resolved by/.test(text) ? "Unresolve" : "Resolve");
const expectedAfter = (button: string) => (button === "Resolve" ? "Resolved by" : "Unresolved by");

/**
 * At the goal's concurrency, at least this many rounds: a round's clicks meet whatever the round before left
 * running (its card refreshes and thread lines), and with three rounds the Teams median was 4.2 ×, 5.2 × and 6.3 ×
 * the no-op in three runs of the same code: one slow round moved it. Ten rounds give each round a tenth of the say.
 */
export const GOAL_ROW_ROUNDS = 10;

/** Rounds for a row: about `samples` clicks, at least two rounds (GOAL_ROW_ROUNDS at the goal's concurrency). */
export function roundsFor(concurrency: number, samples: number): number {
  return Math.max(concurrency === GOAL_CONCURRENCY ? GOAL_ROW_ROUNDS : 2, Math.ceil(samples / concurrency));
}

export async function measureConcurrentClicks(world: World, samples: number, progress: (line: string) => void): Promise<ConcurrentClicksResult> {
  const most = Math.max(...CONCURRENCIES);
  const place = await setUpPlace(world, most, progress).catch((error: unknown) => {
    progress(`clicks: setting up failed; the app's last lines:\n${appLines(world).slice(-40).join("\n")}`);
    throw error;
  });
  const noopHost = await startHostProcess({
    env: { AzureWebJobsStorage: world.stack.azurite.connectionString },
    args: ["--app", join(ROOT, NOOP_APP)],
  });
  try {
    const noopUrl = `${noopHost.url}/api/noop`;
    // Warm-up: everyone clicks once, a few at a time, which also links them (a first click reads the clicker's
    // profile from the platform, whose own rate limits are not what this measures).
    for (let first = 0; first < most; first += WARMUP_BATCH) {
      await teamsRound(world, place, WARMUP_BATCH, "different issues", first);
      await slackRound(world, place, WARMUP_BATCH, "different issues", first);
    }
    await noopRound(world, place, noopUrl, most);
    const noop: NoopRow[] = [];
    const rows: ClickRow[] = [];
    for (const concurrency of CONCURRENCIES) {
      const rounds = roundsFor(concurrency, samples);
      // Each row starts on a quiet app: the card refreshes the previous row's changes announced are done.
      await quiesce(world.stack);
      noop.push(await measureNoop(world, place, noopUrl, concurrency, rounds * NOOP_ROUNDS_FACTOR));
      for (const mode of ["different issues", "one issue"] as const) {
        await quiesce(world.stack);
        rows.push(await measureTeams(world, place, concurrency, mode, rounds));
        await quiesce(world.stack);
        rows.push(await measureSlack(world, place, concurrency, mode, rounds));
        progress(`clicks: ${concurrency} concurrent, ${mode}: ${rounds} rounds on each platform`);
      }
    }
    return { samplesPerRow: samples, warmupBatch: WARMUP_BATCH, noop, rows };
  } catch (error) {
    progress(`clicks failed; the app's last lines:\n${appLines(world).slice(-40).join("\n")}`);
    throw error;
  } finally {
    await noopHost.stop();
  }
}

async function setUpPlace(world: World, people: number, progress: (line: string) => void): Promise<Place> {
  const { stack } = world;
  const teamsUsers = Array.from({ length: people }, (_, i) => stack.teams.addUser({ name: `Clicker ${i}`, email: `clicker${i}@teams.example` }));
  const team = stack.teams.addTeam({ name: "Clickers", members: teamsUsers });
  const added = await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: teamsUsers[0]! }));
  if (added.status !== 200) throw new Error(`adding the bot to the clickers' team failed: ${added.status}`);
  const slackTeam = world.slack.teamId;
  const slackUsers = Array.from(
    { length: people },
    (_, i) => stack.slack.addUser(slackTeam, { name: `clicker${i}`, realName: `Clicker ${i}`, email: `clicker${i}@slack.example` }).id,
  );
  const slackChannels = Array.from({ length: CHANNELS }, (_, i) => stack.slack.addChannel(slackTeam, { name: `clicks-${i}` }).id);
  const teamsChannels = [
    team.generalChannelId,
    ...Array.from({ length: CHANNELS - 1 }, (_, i) => stack.teams.addChannel(team, `clicks-${i + 1}`).id),
  ];
  // The app learns where it may post in a team from the activities it receives there.
  for (const conversation of teamsChannels.slice(1)) {
    const answer = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.message({ conversation, from: teamsUsers[0]!, text: "subscriptions" }),
    );
    if (answer.status !== 200) throw new Error(`a message in the clickers' channel answered ${answer.status}`);
  }

  const teamsIssues = Array.from({ length: people }, (_, i) => `bench-click-teams-${String(i).padStart(3, "0")}`);
  const slackIssues = Array.from({ length: people }, (_, i) => `bench-click-slack-${String(i).padStart(3, "0")}`);
  const slackChannelOf = (i: number) => slackChannels[i % CHANNELS]!;
  const teamsChannelOf = (i: number) => teamsChannels[i % CHANNELS]!;
  for (const [i, issueId] of teamsIssues.entries()) {
    await world.sendAlert(alertFor(issueId, `${issueId}-a`, [{ provider: "msteams", conversationId: teamsChannelOf(i) }]));
    await world.sendAlert(alertFor(slackIssues[i]!, `${slackIssues[i]}-a`, [{ provider: "slack", teamId: slackTeam, channel: slackChannelOf(i) }]));
  }
  progress(`clicks: ${people} Teams and ${people} Slack cards requested`);
  await waitUntil(
    () => teamsIssues.every((id, i) => teamsPostedAt(stack, teamsChannelOf(i), id) !== undefined) || undefined,
    "every Teams card for the click benchmark",
    120_000,
  );
  await waitUntil(
    () => slackIssues.every((id, i) => slackPostedAt(stack, slackChannelOf(i), id) !== undefined) || undefined,
    "every Slack card for the click benchmark",
    120_000,
  );
  const teamsCards = teamsIssues.map((issueId, i) => {
    const channel = teamsChannelOf(i);
    const posted = stack.teams.messages(channel).find((m) => JSON.stringify(m.activity).includes(issueId))!;
    return { issueId, channel, activityId: posted.activityId, card: cardOf(posted.activity) };
  });
  const slackCards = slackIssues.map((issueId, i) => {
    const posted = stack.slack
      .messages()
      .find((m) => !m.ephemeral && m.channel === slackChannelOf(i) && JSON.stringify(m.blocks).includes(`"triage:${issueId}"`))!;
    return { issueId, channel: posted.channel, ts: posted.ts };
  });
  return { teamsUsers, teamsCards, slackTeam, slackUsers, slackCards };
}

const appLines = (world: World) => world.stack.host.logs().filter((line) => /Slack|Teams|Failed|Delivery/.test(line));

/** Card i for clicker i (different issues), or card 0 for everyone (one issue). */
const cardIndex = (mode: ClickMode, clicker: number) => (mode === "one issue" ? 0 : clicker);

// ---- no-op ---------------------------------------------------------------------------------------

async function measureNoop(world: World, place: Place, url: string, concurrency: number, rounds: number): Promise<NoopRow> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    times.push(...(await noopRound(world, place, url, concurrency)));
    await pause(PAUSE_BETWEEN_ROUNDS_MS);
  }
  return { concurrency, rounds, responseMs: summarize(times) };
}

/** The same client and the same signed body as a Slack click, sent to the no-op. */
async function noopRound(world: World, place: Place, url: string, concurrency: number): Promise<number[]> {
  const { stack } = world;
  const card = place.slackCards[0]!;
  const message = stack.slack.message(card.channel, card.ts)!;
  const clicked = click(message.blocks, toggled(blocksText(message.blocks)));
  const payloads = Array.from({ length: concurrency }, (_, i) =>
    stack.slack.blockActions({ teamId: place.slackTeam, user: place.slackUsers[i]!, channel: card.channel, messageTs: card.ts, actions: [clicked] }),
  );
  const results = await Promise.all(payloads.map((payload) => stack.slack.sendInteraction(url, payload)));
  for (const result of results)
    if (result.status !== 200) throw new Error(`the no-op answered ${result.timedOut ? "nothing within 3 s" : result.status}`);
  return results.map((result) => result.elapsedMs);
}

// ---- Teams ---------------------------------------------------------------------------------------

async function measureTeams(world: World, place: Place, concurrency: number, mode: ClickMode, rounds: number): Promise<ClickRow> {
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    times.push(...(await teamsRound(world, place, concurrency, mode)));
    await pause(PAUSE_BETWEEN_ROUNDS_MS);
  }
  const summary = summarize(times);
  return { platform: "Teams", mode, concurrency, rounds, ackMs: summary, updatedMs: summary, handedOff: 0, pastDeadline: 0 };
}

/** `first`: the first clicker (and, on different issues, card) of the round. */
async function teamsRound(world: World, place: Place, concurrency: number, mode: ClickMode, first = 0): Promise<number[]> {
  const { stack } = world;
  const token = await stack.teams.signChannelToken({ serviceUrl: stack.teams.serviceUrl });
  const clicks = Array.from({ length: concurrency }, (_, i) => {
    const clicker = first + i;
    const target = place.teamsCards[cardIndex(mode, clicker)]!;
    const title = toggled(cardText(target.card));
    const button = action(target.card, title);
    const activity = stack.teams.invokeAction({
      conversation: target.channel,
      from: place.teamsUsers[clicker]!,
      replyToId: target.activityId,
      verb: button.verb!,
      data: button.data,
    });
    return { target, title, activity };
  });
  const results = await Promise.all(
    clicks.map(async ({ activity }) => {
      const started = performance.now();
      const response = await stack.teams.post(`${stack.api}/messages`, activity, { token });
      return { response, elapsed: performance.now() - started };
    }),
  );
  for (const [i, { response }] of results.entries()) {
    const body = response.body as { statusCode?: number; value?: unknown } | undefined;
    if (response.status !== 200 || body?.statusCode !== 200)
      throw new Error(`Teams ${clicks[i]!.title} invoke answered ${response.status}: ${response.text.slice(0, 300)}`);
    const shown = cardText(body.value);
    // The card each clicker gets back is the issue as it now is; keep the one showing the state clicked for.
    if (shown.includes(expectedAfter(clicks[i]!.title))) clicks[i]!.target.card = body.value;
  }
  return results.map((result) => result.elapsed);
}

// ---- Slack ---------------------------------------------------------------------------------------

async function measureSlack(world: World, place: Place, concurrency: number, mode: ClickMode, rounds: number): Promise<ClickRow> {
  const ack: number[] = [];
  const updated: number[] = [];
  let pastDeadline = 0;
  const handOffsBefore = handOffLines(world);
  for (let round = 0; round < rounds; round++) {
    const result = await slackRound(world, place, concurrency, mode);
    ack.push(...result.ack);
    updated.push(...result.updated);
    pastDeadline += result.pastDeadline;
    await pause(PAUSE_BETWEEN_ROUNDS_MS);
  }
  return {
    platform: "Slack",
    mode,
    concurrency,
    rounds,
    ackMs: summarize(ack),
    updatedMs: summarize(updated),
    handedOff: handOffLines(world) - handOffsBefore,
    pastDeadline,
  };
}

function handOffLines(world: World): number {
  return world.stack.hosts.flatMap((host) => host.logs()).filter((line) => line.includes("click handed to the slack-actions queue")).length;
}

async function slackRound(
  world: World,
  place: Place,
  concurrency: number,
  mode: ClickMode,
  first = 0,
): Promise<{ ack: number[]; updated: number[]; pastDeadline: number }> {
  const { stack } = world;
  const clicks = Array.from({ length: concurrency }, (_, i) => {
    const clicker = first + i;
    const card = place.slackCards[cardIndex(mode, clicker)]!;
    const message = stack.slack.message(card.channel, card.ts)!;
    const label = toggled(blocksText(message.blocks));
    if (!controls(message.blocks).some((c) => c.label === label)) throw new Error(`no ${label} control on the Slack card for ${card.issueId}`);
    // A button, or an option of a menu (Resolve is a menu when the issue names a release).
    const payload = stack.slack.blockActions({
      teamId: place.slackTeam,
      user: place.slackUsers[clicker]!,
      channel: card.channel,
      messageTs: card.ts,
      actions: [click(message.blocks, label)],
    });
    return { card, expected: expectedAfter(label), payload };
  });
  const sentAt = Date.now();
  const results = await Promise.all(clicks.map(({ payload }) => stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)));
  const pastDeadline = results.filter((result) => result.timedOut).length;
  for (const result of results) if (result.status !== 200 && !result.timedOut) throw new Error(`a Slack click answered ${result.status}`);
  // One wait per clicked message (on one issue, every clicker looks at the same one).
  const waits = new Map<SlackCard, Promise<number>>();
  for (const { card, expected } of clicks) {
    if (waits.has(card)) continue;
    const ids = new Set(clicks.filter((c) => c.card === card).map((c) => responseUrlId(c.payload.response_url)));
    waits.set(
      card,
      waitUntil(() => replacedAt(world, card, sentAt, expected, ids), `the Slack card for ${card.issueId} to show "${expected}"`),
    );
  }
  const updated = await Promise.all(clicks.map(({ card }) => waits.get(card)!));
  // Clicks handed off (a busy issue, the deadline) are answered by the worker: let it finish before the next round.
  await waitFor(async () => (await messageCount(stack.azurite.connectionString, QUEUES.slackActions)) === 0, {
    timeoutMs: 60_000,
    intervalMs: 100,
    description: "the slack-actions queue to be empty",
  });
  return { ack: results.filter((r) => !r.timedOut).map((r) => r.elapsedMs), updated: updated.map((at) => at - sentAt), pastDeadline };
}

/**
 * When the message first showed `expected` after `since`: a response_url post that replaced it (any clicker's,
 * as everyone looking at that message sees it), or a chat.update of it (the card-refresh path).
 */
function replacedAt(world: World, card: SlackCard, since: number, expected: string, responseUrlIds: Set<string>): number | undefined {
  const { stack } = world;
  const current = stack.slack.message(card.channel, card.ts);
  if (!current || !blocksText(current.blocks).includes(expected)) return undefined;
  const shows = (body: unknown) => blocksText((body as { blocks?: unknown }).blocks).includes(expected);
  const times = [
    ...stack.slack.responses
      .filter(
        (r) =>
          responseUrlIds.has(r.responseUrlId) &&
          r.status === 200 &&
          (r.body as { replace_original?: boolean }).replace_original === true &&
          shows(r.body),
      )
      .map((r) => r.at),
    ...stack.slack
      .callsTo("chat.update")
      .filter((c) => c.at >= since && c.ok && c.params.channel === card.channel && c.params.ts === card.ts && shows(c.params))
      .map((c) => c.at),
  ];
  return times.length ? Math.min(...times) : undefined;
}

/** The emulator's response_url is `<emulator>/response/<id>`. */
function responseUrlId(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}
