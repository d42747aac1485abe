// (e) Intake under a storm, set up as test/e2e/storm.test.ts does: `alerts` alerts for 10 issues of a
// project that a Teams channel and a Slack channel subscribe to, all enqueued at once. While the alerts
// are being taken, someone assigns and unassigns each issue through the issue API a few times, so the
// cards' threads (on by default) have something to say. Times come from the host's log (alert taken,
// delivery settled) and the emulators' request logs (card content, thread replies); the delivery table
// is read once at the end to check nothing was lost.
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
/**
 * Each round assigns every issue to ASSIGNEE, then unassigns it: two state changes per issue and round. The
 * pauses before the second and third rounds: the first inside the card-refresh coalescing window (5 s by
 * default, so those two rounds share a line), the second past it (so the third round can get its own line).
 */
export const ROUND_GAPS_MS = [2_000, 8_000];
export const CHANGE_ROUNDS = ROUND_GAPS_MS.length + 1;
export const ACTOR = "ana@contoso.com";
export const ASSIGNEE = "ben@contoso.com";
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
  /** The state changes made through the API during the storm. */
  changes: StormChanges;
  /** What each channel received: cards and the lines in their threads. */
  channels: Record<Platform, ChannelPosts>;
}

export interface StormChanges {
  /** PATCH requests sent, and those that changed the issue (200 with `changed: true`). */
  requests: number;
  made: number;
  /** Answers other than 200. */
  failed: number;
  /** From the first send: the first and the last change made. */
  firstMs: number;
  lastMs: number;
}

export interface ChannelPosts {
  /** Successful posts into the channel: new cards, replies in their threads. */
  cards: number;
  threadReplies: number;
  /** Thread lines in each storm card's thread. */
  linesPerCard: Summary;
  /** State changes made after each card was posted (every one belongs in its thread), over all cards. */
  changesCovered: number;
  /** All thread lines of storm cards. */
  lines: number;
  /** Cards whose issue changed after they were posted and whose thread got no line. */
  cardsWithoutLine: number;
  /** 429s (Teams) or `ratelimited` (Slack) answered to card posts and updates, and to thread replies. */
  throttledCards: number;
  throttledReplies: number;
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
  /** Replies in its thread. */
  lines: number;
}

interface StateChange {
  issueId: string;
  /** When the request was sent. */
  at: number;
  status: number;
  changed: boolean;
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
  const changing = changeStatesDuringStorm(world, places, progress);
  // Awaited once the cards are final; until then a failure must not count as unhandled (it is thrown there).
  changing.catch(() => undefined);
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
  const changes = await changing;
  // Thread lines wait for each issue to be quiet; once nothing is queued for the app, every line is posted.
  await waitFor(async () => ((await appIsQuiet(world)) ? true : undefined), {
    timeoutMs: TIMEOUT_MS,
    intervalMs: 1000,
    description: "the app to go quiet after the storm's thread lines",
  });
  const all = invocations(stack.host.logs());
  const stale = staleCards(cards, perIssue, all, started);
  progress(stale.length ? `storm: ${stale.length} card(s) never showed the final count` : "storm: every card shows the final count");
  const threaded = [...teamsCards(world, places.teamsChannel, perIssue), ...slackCards(world, places.slackChannel, perIssue)];

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
    changes: changeSummary(changes, started),
    channels: {
      Teams: channelPosts(world, "Teams", places, threaded, changes),
      Slack: channelPosts(world, "Slack", places, threaded, changes),
    },
  };
}

/**
 * Once every issue's cards are up on both platforms (a line only goes to a card that was live when the change
 * was made), CHANGE_ROUNDS rounds of assign and unassign on every issue through PATCH /api/issues/{id}, as a
 * person in the incident would, while the app is still taking the storm's alerts.
 */
async function changeStatesDuringStorm(world: World, places: Places, progress: (line: string) => void): Promise<StateChange[]> {
  await waitFor(
    () =>
      teamsCardPosts(world, places.teamsChannel) >= STORM_ISSUES && slackCardPosts(world, places.slackChannel) >= STORM_ISSUES ? true : undefined,
    {
      timeoutMs: TIMEOUT_MS,
      intervalMs: 100,
      description: "the storm's first cards on both platforms",
    },
  );
  const issueIds = Array.from({ length: STORM_ISSUES }, (_, n) => `${PROJECT}-${n}`);
  const changes: StateChange[] = [];
  for (let round = 0; round < CHANGE_ROUNDS; round++) {
    if (round > 0) await pause(ROUND_GAPS_MS[round - 1]!);
    const bodies: Record<string, string>[] = [
      { action: "assign", assignee: ASSIGNEE, actor: ACTOR },
      { action: "unassign", actor: ACTOR },
    ];
    for (const body of bodies) {
      changes.push(...(await Promise.all(issueIds.map((issueId) => changeIssue(world, issueId, body)))));
    }
  }
  progress(`storm: ${changes.filter((c) => c.changed).length} state changes made through the API`);
  return changes;
}

async function changeIssue(world: World, issueId: string, body: Record<string, string>): Promise<StateChange> {
  const at = Date.now();
  const response = await fetch(`${world.stack.api}/issues/${issueId}`, {
    method: "PATCH",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => undefined)) as { changed?: boolean } | undefined;
  return { issueId, at, status: response.status, changed: response.status === 200 && answer?.changed === true };
}

function changeSummary(changes: StateChange[], started: number): StormChanges {
  const made = changes.filter((change) => change.changed);
  const times = made.map((change) => change.at - started);
  return {
    requests: changes.length,
    made: made.length,
    failed: changes.filter((change) => change.status !== 200).length,
    firstMs: times.length ? Math.min(...times) : 0,
    lastMs: times.length ? Math.max(...times) : 0,
  };
}

function channelPosts(world: World, platform: Platform, places: Places, cards: StormCard[], changes: StateChange[]): ChannelPosts {
  const mine = cards.filter((card) => card.platform === platform);
  const covered = mine.map(
    (card) => changes.filter((change) => change.changed && change.issueId === card.issueId && change.at > card.postedAt).length,
  );
  const lines = mine.map((card) => card.lines);
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  const cardsWithoutLine = mine.filter((card, n) => covered[n]! > 0 && card.lines === 0).length;
  if (platform === "Teams") {
    const calls = world.stack.teams.calls.filter((c) => c.conversationId?.startsWith(places.teamsChannel));
    const posted = (c: RecordedCall) => c.operation === "send" && c.status < 300;
    return {
      cards: calls.filter((c) => posted(c) && !isTeamsReply(c)).length,
      threadReplies: calls.filter((c) => posted(c) && isTeamsReply(c)).length,
      linesPerCard: summarize(lines),
      changesCovered: sum(covered),
      lines: sum(lines),
      cardsWithoutLine,
      throttledCards: calls.filter((c) => c.status === 429 && !isTeamsReply(c)).length,
      throttledReplies: calls.filter((c) => c.status === 429 && isTeamsReply(c)).length,
    };
  }
  const calls = world.stack.slack.calls.filter((c) => c.params.channel === places.slackChannel);
  const posts = calls.filter((c) => c.ok && c.method === "chat.postMessage");
  const limited = calls.filter((c) => c.error === "ratelimited");
  return {
    cards: posts.filter((c) => !c.params.thread_ts).length,
    threadReplies: posts.filter((c) => c.params.thread_ts).length,
    linesPerCard: summarize(lines),
    changesCovered: sum(covered),
    lines: sum(lines),
    cardsWithoutLine,
    throttledCards: limited.filter((c) => !c.params.thread_ts).length,
    throttledReplies: limited.filter((c) => c.params.thread_ts).length,
  };
}

/** A post into a channel thread: the channel's conversation id with `;messageid=<root>`. */
function isTeamsReply(call: RecordedCall): boolean {
  return call.conversationId?.includes(";messageid=") ?? false;
}

function teamsCardPosts(world: World, channel: string): number {
  return world.stack.teams.messages(channel).filter((m) => m.threadId === undefined && cardText(cardOf(m.activity)).includes("TypeError in storm"))
    .length;
}

function slackCardPosts(world: World, channel: string): number {
  return world.stack.slack.messages(channel).filter((m) => !m.ephemeral && !m.threadTs && m.text.includes("TypeError in storm")).length;
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
  const messages = world.stack.teams.messages(channel);
  return messages
    .filter((m) => m.threadId === undefined && cardText(cardOf(m.activity)).includes("TypeError in storm"))
    .map((m) => {
      const issueId = issueIdOf(m.activity);
      const posts = calls.filter((c) => c.operation === "send" && !isTeamsReply(c) && JSON.stringify(c.body).includes(`"issueId":"${issueId}"`));
      const puts = calls.filter((c) => c.operation === "update" && c.activityId === m.activityId);
      const lines = messages.filter((reply) => reply.threadId === m.activityId).length;
      return stormCard("Teams", issueId, events(m.activity), posts, puts, (c: RecordedCall) => events(c.body), perIssue, lines);
    });
}

function slackCards(world: World, channel: string, perIssue: number): StormCard[] {
  const calls = world.stack.slack.calls.filter((c) => c.ok && c.params.channel === channel);
  const events = (blocks: unknown) => eventCount(blocksText(typeof blocks === "string" ? JSON.parse(blocks) : blocks), /\*Events\*\n([\d,]+)/);
  const messages = world.stack.slack.messages(channel);
  return messages
    .filter((m) => !m.ephemeral && !m.threadTs && m.text.includes("TypeError in storm"))
    .map((m) => {
      const issueId = issueIdOf(m.blocks);
      const posts = calls.filter(
        (c) => c.method === "chat.postMessage" && !c.params.thread_ts && String(c.params.blocks).includes(`"triage:${issueId}"`),
      );
      const updates = calls.filter((c) => c.method === "chat.update" && c.params.ts === m.ts);
      const lines = messages.filter((reply) => reply.threadTs === m.ts).length;
      return stormCard("Slack", issueId, events(m.blocks), posts, updates, (c: ApiCall) => events(c.params.blocks), perIssue, lines);
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
  lines: number,
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
    lines,
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
