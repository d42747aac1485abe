// (e) Intake under a storm, set up as test/e2e/storm.test.ts does: `alerts` alerts for 10 issues of a
// project that a Teams channel and a Slack channel subscribe to, all enqueued at once. Times come from
// the host's log (alert taken, delivery settled) and the emulators' request logs (card content); the
// delivery table is read once at the end to check nothing was lost.
import type { RecordedCall } from "../../dev/emulators/teams";
import type { ApiCall } from "../../dev/emulators/slack";
import { TABLES } from "../../shared/storage/clients";
import { anAlert } from "../../test/fixtures/issues";
import { messageCount } from "../../test/support/queues";
import { waitFor } from "../../test/support/wait";
import { cardOf, cardText } from "../../test/e2e/card-helpers";
import { blocksText } from "../../test/e2e/slack-helpers";
import { mostInAnyWindow, summarize, type Summary } from "../stats";
import { invocations, type Invocation } from "./host-logs";
import { pause } from "./observe";
import { addTeamsTeam, BUSY_QUEUES, type World } from "./world";

export const STORM_ISSUES = 10;
export const SEND_CONCURRENCY = 50;
const TIMEOUT_MS = 180_000;
const PROJECT = "stormbench";

export interface StormResult {
  alerts: number;
  issues: number;
  /** All times from the first send. Putting every alert on the queue (overlaps with the app taking them). */
  enqueueMs: number;
  /** The last alert taken: issue updated, deliveries planned. */
  takenMs: number;
  /** The last of the alerts × 2 deliveries settled (sent or dead). */
  settledMs: number;
  /** Every card on both platforms showing the final count; undefined when some never did. */
  cardsFinalMs?: number;
  /** The last card that did reach the final count got it, per platform (undefined: none did). */
  lastConvergedMs: Record<Platform, number | undefined>;
  /** Cards still behind once the app had nothing left to do (every delivery settled, its queues empty). */
  staleCards: StaleCard[];
  teamsPutsPerCard: Summary;
  slackUpdatesPerCard: Summary;
  /** The host's work during the storm, from its log. */
  work: StormWork;
  throttled: { teams429: number; slackRateLimited: number };
  /** Successful chat.update calls in the busiest 60 s: Slack allows 50 a minute per workspace (Tier 3). */
  slackUpdatesBusiestMinute: number;
  deliveryRows: { total: number; sent: number; dead: number; pending: number };
}

export interface StormWork {
  /** Duration of each successful alertsQueue invocation (under the storm's load). */
  alertsQueueMs: Summary;
  /** Failed invocations (retried by the host). */
  failures: Record<string, number>;
  /** cardRefreshQueue invocations, how many of them ended after the last delivery settled, and when the last one ended. */
  refreshRuns: number;
  refreshRunsAfterSettled: number;
  lastRefreshMs: number;
}

export interface StaleCard {
  platform: Platform;
  issueId: string;
  shows: number;
  final: number;
  postedMs: number;
  /** When the issue's last card refresh finished. */
  lastRefreshMs?: number;
}

export type Platform = "Teams" | "Slack";

/** One card of the storm as the platform has it, with the requests that made it. */
interface StormCard {
  platform: Platform;
  issueId: string;
  /** The event count it shows now. */
  shows: number;
  postedAt: number;
  /** When the first request carrying the final count arrived. */
  finalAt?: number;
  /** Successful Teams PUTs or Slack chat.updates of it. */
  updates: number;
}

interface Places {
  teamsChannel: string;
  slackChannel: string;
}

export async function measureStorm(world: World, alerts: number, progress: (line: string) => void): Promise<StormResult> {
  const { stack } = world;
  const places = await subscribeBothPlatforms(world);
  const perIssue = Math.ceil(alerts / STORM_ISSUES);
  stack.teams.clearCalls();
  stack.slack.clearCalls();

  const started = Date.now();
  await sendAll(world, stormAlerts(alerts));
  const enqueueMs = Date.now() - started;
  progress(`storm: ${alerts} alerts enqueued in ${enqueueMs} ms`);
  const log = await waitFor(() => lastTakenAndSettled(invocations(stack.host.logs()), started, alerts), {
    timeoutMs: TIMEOUT_MS,
    intervalMs: 500,
    description: "the host's log of every alert taken and delivery settled",
  });
  progress(`storm: all taken after ${log.takenAt - started} ms, all settled after ${log.settledAt - started} ms`);
  const cards = await waitFor(() => cardsFinalOrStalled(world, places, perIssue), {
    timeoutMs: TIMEOUT_MS,
    intervalMs: 1000,
    description: "every storm card to show the final count, or the app to go quiet",
  });
  const all = invocations(stack.host.logs());
  const stale = staleCards(cards, perIssue, all, started);
  progress(stale.length ? `storm: ${stale.length} card(s) never showed the final count` : "storm: every card shows the final count");

  const converged = (platform?: Platform) =>
    cards
      .filter((card) => platform === undefined || card.platform === platform)
      .flatMap((card) => (card.finalAt === undefined ? [] : [card.finalAt - started]));
  const lastOf = (times: number[]) => (times.length ? Math.max(...times) : undefined);
  const updates = (platform: Platform) => summarize(cards.filter((card) => card.platform === platform).map((card) => card.updates));
  return {
    alerts,
    issues: STORM_ISSUES,
    enqueueMs,
    takenMs: log.takenAt - started,
    settledMs: log.settledAt - started,
    cardsFinalMs: stale.length === 0 ? lastOf(converged()) : undefined,
    lastConvergedMs: { Teams: lastOf(converged("Teams")), Slack: lastOf(converged("Slack")) },
    staleCards: stale,
    teamsPutsPerCard: updates("Teams"),
    slackUpdatesPerCard: updates("Slack"),
    work: hostWork(all, started, log.settledAt),
    throttled: {
      teams429: stack.teams.calls.filter((c) => c.status === 429).length,
      slackRateLimited: stack.slack.calls.filter((c) => c.error === "ratelimited").length,
    },
    slackUpdatesBusiestMinute: mostInAnyWindow(
      stack.slack
        .callsTo("chat.update")
        .filter((c) => c.ok)
        .map((c) => c.at),
      60_000,
    ),
    deliveryRows: await deliveryRows(world),
  };
}

async function subscribeBothPlatforms(world: World): Promise<Places> {
  const { stack, slack } = world;
  const teams = await addTeamsTeam(stack, "Storm");
  const subscribe = stack.teams.message({ conversation: teams.channel, from: teams.user, text: `subscribe ${PROJECT} info` });
  if ((await stack.teams.post(`${stack.api}/messages`, subscribe)).status !== 200) throw new Error("Teams subscribe failed");
  const slackChannel = stack.slack.addChannel(slack.teamId, { name: "storm" }).id;
  const command = stack.slack.slashCommand({
    teamId: slack.teamId,
    user: slack.user,
    channel: slackChannel,
    command: "/triage",
    text: `subscribe ${PROJECT} info`,
  });
  if ((await stack.slack.sendCommand(`${stack.api}/slack/commands`, command)).status !== 200) throw new Error("Slack subscribe failed");
  return { teamsChannel: teams.channel, slackChannel };
}

/** Round-robin over the issues; each issue's count and lastSeen move forward with every alert. */
function stormAlerts(alerts: number) {
  return Array.from({ length: alerts }, (_, n) => {
    const count = Math.floor(n / STORM_ISSUES) + 1;
    return anAlert({
      alertId: `${PROJECT}-${String(n).padStart(5, "0")}`,
      issue: {
        id: `${PROJECT}-${n % STORM_ISSUES}`,
        project: PROJECT,
        title: `TypeError in storm ${n % STORM_ISSUES}`,
        count,
        lastSeen: new Date(Date.UTC(2026, 10, 21, 12, 0, 0) + count * 1000).toISOString(),
      },
    });
  });
}

async function sendAll(world: World, alerts: ReturnType<typeof stormAlerts>): Promise<void> {
  for (let i = 0; i < alerts.length; i += SEND_CONCURRENCY) {
    await Promise.all(alerts.slice(i, i + SEND_CONCURRENCY).map((alert) => world.sendAlert(alert)));
  }
}

/** From the host's log: when the last storm alert was taken and the last delivery settled. */
function lastTakenAndSettled(all: Invocation[], since: number, alerts: number): { takenAt: number; settledAt: number } | undefined {
  const taken = new Map<string, number>();
  const settled = new Map<string, number>();
  for (const invocation of all) {
    if (invocation.end < since || !invocation.succeeded) continue;
    if (invocation.fn === "alertsQueue" && invocation.messageId && !taken.has(invocation.messageId)) taken.set(invocation.messageId, invocation.end);
    if (invocation.fn !== "deliveriesQueue" && invocation.fn !== "alertsQueue") continue;
    // Posts: a new issue's first cards (by the alerts handler, or through the deliveries queue when throttled).
    for (const line of invocation.lines) {
      const delivery = new RegExp(`^Delivery (.+ of ${PROJECT}-\\d+): (sent|dead)( \\(posted by the alerts handler\\))?$`).exec(line)?.[1];
      if (delivery && !settled.has(delivery)) settled.set(delivery, invocation.end);
    }
  }
  // A repeat alert's deliveries to live cards are settled by the alerts handler as it takes the alert (recorded
  // "updated the live card"; the card refresh brings the copies up to date): the posts are what is left to wait for.
  if (taken.size < alerts || settled.size < STORM_ISSUES * 2) return undefined;
  const takenAt = Math.max(...taken.values());
  return { takenAt, settledAt: Math.max(takenAt, ...settled.values()) };
}

function hostWork(all: Invocation[], started: number, settledAt: number): StormWork {
  const during = all.filter((invocation) => invocation.end >= started);
  const refreshes = during.filter((invocation) => invocation.fn === "cardRefreshQueue");
  const failures: Record<string, number> = {};
  for (const invocation of during) if (!invocation.succeeded) failures[invocation.fn] = (failures[invocation.fn] ?? 0) + 1;
  return {
    alertsQueueMs: summarize(during.filter((i) => i.fn === "alertsQueue" && i.succeeded).map((i) => i.end - i.start)),
    failures,
    refreshRuns: refreshes.length,
    refreshRunsAfterSettled: refreshes.filter((invocation) => invocation.end > settledAt).length,
    lastRefreshMs: refreshes.length ? Math.max(...refreshes.map((i) => i.end)) - started : 0,
  };
}

/**
 * The cards once every one shows the final count, or once the app has gone quiet with some behind.
 * Undefined while the storm is still being worked through.
 */
async function cardsFinalOrStalled(world: World, places: Places, perIssue: number): Promise<StormCard[] | undefined> {
  const cards = [...teamsCards(world, places.teamsChannel, perIssue), ...slackCards(world, places.slackChannel, perIssue)];
  if (cards.length < STORM_ISSUES * 2) return undefined;
  if (cards.every((card) => card.shows === perIssue)) return cards;
  return (await appIsQuiet(world)) ? cards : undefined;
}

/** Nothing queued for the app, delayed messages included, twice a second apart (a handler may be between two sends). */
async function appIsQuiet(world: World): Promise<boolean> {
  for (let check = 0; check < 2; check++) {
    if (check > 0) await pause(1000);
    const counts = await Promise.all(BUSY_QUEUES.map((queue) => messageCount(world.stack.azurite.connectionString, queue)));
    if (counts.some((n) => n > 0)) return false;
  }
  return true;
}

function teamsCards(world: World, channel: string, perIssue: number): StormCard[] {
  const calls = world.stack.teams.calls.filter((c) => c.status < 300 && c.conversationId?.startsWith(channel));
  const events = (activity: unknown) => eventCount(cardText(cardOf(activity as Record<string, unknown>)), /Events: ([\d,]+)/);
  return world.stack.teams
    .messages(channel)
    .filter((m) => cardText(cardOf(m.activity)).includes("TypeError in storm"))
    .map((m) => {
      const issueId = issueIdOf(m.activity);
      const posts = calls.filter((c) => c.operation === "send" && JSON.stringify(c.body).includes(`"issueId":"${issueId}"`));
      const puts = calls.filter((c) => c.operation === "update" && c.activityId === m.activityId);
      return stormCard("Teams", issueId, events(m.activity), posts, puts, (c: RecordedCall) => events(c.body), perIssue);
    });
}

function slackCards(world: World, channel: string, perIssue: number): StormCard[] {
  const calls = world.stack.slack.calls.filter((c) => c.ok && c.params.channel === channel);
  const events = (blocks: unknown) => eventCount(blocksText(typeof blocks === "string" ? JSON.parse(blocks) : blocks), /\*Events\*\n([\d,]+)/);
  return world.stack.slack
    .messages(channel)
    .filter((m) => !m.ephemeral && m.text.includes("TypeError in storm"))
    .map((m) => {
      const issueId = issueIdOf(m.blocks);
      const posts = calls.filter((c) => c.method === "chat.postMessage" && String(c.params.blocks).includes(`"triage:${issueId}"`));
      const updates = calls.filter((c) => c.method === "chat.update" && c.params.ts === m.ts);
      return stormCard("Slack", issueId, events(m.blocks), posts, updates, (c: ApiCall) => events(c.params.blocks), perIssue);
    });
}

function stormCard<C extends { at: number }>(
  platform: Platform,
  issueId: string,
  shows: number,
  posts: C[],
  updates: C[],
  events: (call: C) => number,
  perIssue: number,
): StormCard {
  if (posts.length === 0) throw new Error(`no post of the ${platform} card for ${issueId} was recorded`);
  const final = [...posts, ...updates].filter((call) => events(call) === perIssue).map((call) => call.at);
  return {
    platform,
    issueId,
    shows,
    postedAt: Math.min(...posts.map((call) => call.at)),
    finalAt: final.length ? Math.min(...final) : undefined,
    updates: updates.length,
  };
}

function eventCount(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1]?.replace(/,/g, "") ?? Number.NaN);
}

function issueIdOf(card: unknown): string {
  const match = new RegExp(`"(?:issueId|block_id)":"(?:triage:)?(${PROJECT}-\\d+)"`).exec(JSON.stringify(card));
  if (!match) throw new Error("a storm card without its issue id");
  return match[1]!;
}

function staleCards(cards: StormCard[], perIssue: number, all: Invocation[], started: number): StaleCard[] {
  return cards
    .filter((card) => card.shows !== perIssue)
    .map((card) => {
      const refreshes = all.filter(
        (i) => i.fn === "cardRefreshQueue" && i.lines.some((line) => line.startsWith(`Card refresh for ${card.issueId}:`)),
      );
      return {
        platform: card.platform,
        issueId: card.issueId,
        shows: card.shows,
        final: perIssue,
        postedMs: card.postedAt - started,
        lastRefreshMs: refreshes.length ? Math.max(...refreshes.map((i) => i.end)) - started : undefined,
      };
    });
}

async function deliveryRows(world: World): Promise<StormResult["deliveryRows"]> {
  const table = await world.stack.storage.table(TABLES.deliveries);
  const rows = { total: 0, sent: 0, dead: 0, pending: 0 };
  const filter = `PartitionKey ge '${PROJECT}-' and PartitionKey lt '${PROJECT}.'`;
  for await (const row of table.listEntities<{ state: "sent" | "dead" | "pending" }>({ queryOptions: { filter, select: ["state"] } })) {
    rows.total++;
    rows[row.state]++;
  }
  return rows;
}
