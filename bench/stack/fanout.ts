// (f) Fan-out at the platforms' ceiling: `alerts` alerts for `issues` issues of one project, subscribed by
// `teamsChannels` Teams channels (one tenant) and `slackChannels` Slack channels (one workspace), with every
// platform limit enforced by the emulators. Measures how long until every card copy is final against the
// floor the published limits allow, posts per issue × conversation, 429s, storage requests per new and per
// repeat alert (through a counting proxy in front of Azurite), and the host's peak RSS. Own stack, so it can
// run with several host processes. Diagnostics: BENCH_FANOUT_DUMP=<file> writes every platform call, the hosts'
// logs and every storage request (with their paths and queries when STORAGE_PROXY_URLS is set);
// BENCH_FANOUT_STORAGE_DETAIL prints the storage requests of each progress interval.
import { QueueClient } from "@azure/storage-queue";
import { readFileSync, writeFileSync } from "node:fs";
import { setPriority } from "node:os";
import { POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND } from "../../dev/emulators/slack/rate-limits";
import { LIMITS as TEAMS_LIMITS } from "../../dev/emulators/teams/faults";
import {
  PACING_SHARE,
  pacedWindows,
  SETTLE_MS,
  SLACK_CHANNEL_LIMITS,
  TEAMS_CONVERSATION_LIMITS,
  TEAMS_MARGIN_MS,
  TEAMS_TENANT_LIMITS,
} from "../../shared/delivery/pacing";
import type { Alert } from "../../shared/domain/alert";
import { anAlert } from "../../test/fixtures/issues";
import { messageCount } from "../../test/support/queues";
import { waitFor } from "../../test/support/wait";
import { workRequests, type StorageRequest } from "../../test/support/storage-proxy";
import { TABLES } from "../../shared/storage/clients";
import { cardOf, cardText } from "../../test/e2e/card-helpers";
import { blocksText } from "../../test/e2e/slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "../../test/e2e/stack";
import { summarize } from "../stats";
import { pause } from "./observe";
import { addTeamsTeam, BUSY_QUEUES } from "./world";

export interface FanoutShape {
  alerts: number;
  issues: number;
  teamsChannels: number;
  slackChannels: number;
  hosts: number;
  /** Give up waiting for every card to be final after this long. */
  timeoutMs: number;
}

export interface FanoutResult {
  shape: FanoutShape;
  /** From the first alert sent until every copy shows its issue's final count (undefined: never within the timeout). */
  allFinalMs?: number;
  /** The shortest time the published limits allow for the first posts alone (see `floorMs`). */
  floorMs: number;
  /** The same at the app's own pacing (90 % of each limit, one instance's windows): what a perfect run of this app takes. */
  pacedFloorMs: number;
  /** From the first alert sent until the alerts queue was first seen empty (every alert taken, give or take a second). */
  intakeMs?: number;
  /** floor ÷ actual: the share of the limits' throughput achieved (1 = at the ceiling). */
  throughputOfLimit?: number;
  /** Copies still not final when the run ended. */
  notFinal: number;
  /** issue × conversation pairs: with no card, with exactly one, with more than one. */
  pairs: { expected: number; missing: number; one: number; duplicated: number; extraPosts: number };
  /** Card copies marked dead by the app (rows with `dead` in the cards table, or dead deliveries). */
  deadDeliveries: number;
  calls: { teams: number; teams429: number; slack: number; slackRateLimited: number };
  /** Storage requests the app made (through the proxy) for one alert of a new issue and one repeat alert, each to every subscribed conversation, on a quiet app. */
  storagePerNewAlert: number;
  /** The median of `storagePerRepeatAlertEach`. */
  storagePerRepeatAlert: number;
  /** Each repeat alert measured, in order (the first may land on a host that has not taken an alert yet). */
  storagePerRepeatAlertEach?: number[];
  /**
   * Each repeat alert's requests apart: the alert's own work, and a host's upkeep, paid at most once per interval or
   * per process however many alerts it takes (`repeatAlertParts`). A repeat alert on a busy host pays only its own work.
   */
  storagePerRepeatAlertParts?: RepeatAlertParts[];
  /**
   * Storage requests the app made for the whole fan-out (`workRequests`: queue polls left out), from the first alert
   * sent until every copy was final (or the run ended), and the part until every alert was taken. Azurite's speed
   * varies from run to run on a shared machine; this count does not, and it is what Azure bills and throttles.
   */
  storageDuringFanout: { total: number; untilIntake?: number };
  /** Peak resident set size of each host process, MiB. */
  hostRssPeakMiB: number[];
  /** The emulators' process ran at a higher CPU priority than Azurite and the hosts (see `emulatorsFirst`). */
  emulatorsAhead: boolean;
}

const PROJECT = "fanoutbench";

export function fanoutShape(env: NodeJS.ProcessEnv, hosts: number): FanoutShape {
  const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    alerts: number("BENCH_FANOUT_ALERTS", 1000),
    issues: number("BENCH_FANOUT_ISSUES", 100),
    teamsChannels: number("BENCH_FANOUT_TEAMS", 10),
    slackChannels: number("BENCH_FANOUT_SLACK", 10),
    hosts,
    timeoutMs: number("BENCH_FANOUT_TIMEOUT_S", 900) * 1000,
  };
}

/**
 * The floor: each conversation must receive one post per issue. It comes from the platforms' rules as the
 * emulators enforce them (never from the app's own pacing, which stays below them): Slack a burst of 3 posts,
 * then one per second per channel; Teams 7/1 s, 8/2 s, 60/30 s, 1800/h per conversation and 50/s per tenant.
 * Channels are served in parallel, so the floor is the slowest platform's time for its share; later updates can
 * ride on the same budget only if the post already carries the final state, so this is the lower bound for
 * "every card final".
 */
export function floorMs(shape: FanoutShape): number {
  const slack = shape.slackChannels > 0 ? (Math.max(0, shape.issues - POST_MESSAGE_BURST) / POST_MESSAGE_PER_SECOND) * 1000 : 0;
  const windows = (limits: readonly (readonly [number, number])[]) => limits.map(([ms, limit]) => ({ ms, limit }));
  const teamsPerConversation = shape.teamsChannels > 0 ? windowsFloorMs(shape.issues, windows(TEAMS_LIMITS.write)) : 0;
  const teamsTenant = windowsFloorMs(shape.issues * shape.teamsChannels, windows(TEAMS_LIMITS.tenant));
  return Math.max(slack, teamsPerConversation, teamsTenant);
}

/** `floorMs` at the app's own pacing (docs/pacing.md): Slack one post per 1.112 s per channel, no burst counted on. */
export function pacedFloorMs(shape: FanoutShape): number {
  const slack = shape.slackChannels > 0 ? windowsFloorMs(shape.issues, pacedWindows(SLACK_CHANNEL_LIMITS, PACING_SHARE)) : 0;
  const teamsPerConversation =
    shape.teamsChannels > 0 ? windowsFloorMs(shape.issues, pacedWindows(TEAMS_CONVERSATION_LIMITS, PACING_SHARE, TEAMS_MARGIN_MS)) : 0;
  const teamsTenant = windowsFloorMs(shape.issues * shape.teamsChannels, pacedWindows(TEAMS_TENANT_LIMITS, PACING_SHARE, TEAMS_MARGIN_MS));
  return Math.max(slack, teamsPerConversation, teamsTenant);
}

/** The earliest time the n-th request can go out under sliding windows, sending as early as every window allows. */
function windowsFloorMs(n: number, windows: { ms: number; limit: number }[]): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = times.length ? times[times.length - 1]! : 0;
    for (const window of windows) {
      if (i >= window.limit) t = Math.max(t, times[i - window.limit]! + window.ms);
    }
    times.push(t);
  }
  return times.length ? times[times.length - 1]! : 0;
}

export async function measureFanout(shape: FanoutShape, progress: (line: string) => void): Promise<FanoutResult> {
  const stack = await startStack({ hosts: shape.hosts, countStorage: true, slackRateLimits: true });
  const servicesFirst = emulatorsFirst();
  try {
    stack.teams.enforceRateLimits(true);
    const rss = watchRss(stack);
    const places = await subscribe(stack, shape);
    progress(
      `fanout (${shape.hosts} host${shape.hosts > 1 ? "s" : ""}): ${places.teams.length} Teams + ${places.slack.length} Slack conversations subscribed`,
    );
    const queue = new QueueClient(stack.azurite.connectionString, "alerts");
    await queue.createIfNotExists();
    const send = (alert: Alert) => queue.sendMessage(Buffer.from(JSON.stringify(alert)).toString("base64"));

    const storage = await storagePerAlert(stack, send);
    progress(`fanout: storage requests per new alert ${storage.newAlert}, per repeat alert ${storage.repeatAlerts.map(describeParts).join(", ")}`);
    stack.teams.clearCalls();
    stack.slack.clearCalls();

    const perIssue = Math.ceil(shape.alerts / shape.issues);
    const fanoutMark = stack.storageProxy?.mark() ?? 0;
    let intakeMark: number | undefined;
    const started = Date.now();
    const alerts = fanoutAlerts(shape);
    for (let i = 0; i < alerts.length; i += 50) await Promise.all(alerts.slice(i, i + 50).map(send));
    progress(`fanout: ${alerts.length} alerts enqueued in ${Date.now() - started} ms`);

    let lastReport = 0;
    let intakeMs: number | undefined;
    let storageMark = stack.storageProxy?.requests.length ?? 0;
    const slackChannels = new Set(places.slack.map((place) => place.channel));
    const final = await waitFor(
      async () => {
        if (intakeMs === undefined && ((await queue.getProperties()).approximateMessagesCount ?? 0) === 0) {
          intakeMs = Date.now() - started;
          intakeMark = stack.storageProxy?.mark();
        }
        const copies = readCopies(stack, places, shape.issues);
        const behind =
          copies.filter((copy) => copy.shows !== perIssue).length + (shape.issues * (places.teams.length + places.slack.length) - copies.length);
        if (Date.now() - lastReport > 15_000) {
          lastReport = Date.now();
          const waiting = (await queue.getProperties()).approximateMessagesCount ?? 0;
          const onSlack = copies.filter((copy) => slackChannels.has(copy.conversation));
          const onTeams = copies.filter((copy) => !slackChannels.has(copy.conversation));
          const tally = (list: Copy[]) => `${list.length} posted, ${list.filter((copy) => copy.shows === perIssue).length} final`;
          progress(
            `fanout: ${((Date.now() - started) / 1000).toFixed(0)} s, ${behind} copies not final yet (alerts waiting ${waiting}; Teams ${tally(onTeams)}; Slack ${tally(onSlack)})`,
          );
          if (process.env.BENCH_FANOUT_STORAGE_DETAIL) {
            const proxy = stack.storageProxy!;
            const recent = proxy.requests.slice(storageMark);
            storageMark = proxy.requests.length;
            const byResource = new Map<string, number>();
            for (const r of recent) byResource.set(`${r.method} ${r.resource}`, (byResource.get(`${r.method} ${r.resource}`) ?? 0) + 1);
            const top = [...byResource].sort((a, b) => b[1] - a[1]).slice(0, 8);
            progress(`  storage ${recent.length}: ${top.map(([k, n]) => `${k} ${n}`).join(", ")}`);
          }
        }
        if (behind === 0) return { copies, at: Date.now() };
        return (await appIsQuiet(stack)) ? { copies, at: undefined } : undefined;
      },
      { timeoutMs: shape.timeoutMs, intervalMs: 1000, description: "every fan-out card to be final, or the app to go quiet" },
    ).catch(() => ({ copies: readCopies(stack, places, shape.issues), at: undefined }));

    if (process.env.BENCH_FANOUT_DUMP) {
      const at = (t: number) => t - started;
      const slack = stack.slack.calls.map((c) => ({
        at: at(c.at),
        method: c.method,
        channel: (c.params as { channel?: string }).channel,
        error: c.error,
      }));
      const teams = stack.teams.calls.map((c) => ({ at: at(c.at), operation: c.operation, conversation: c.conversationId, status: c.status }));
      writeFileSync(
        process.env.BENCH_FANOUT_DUMP,
        JSON.stringify({
          started,
          slack,
          teams,
          logs: stack.hosts.map((host) => host.logs()),
          storage: (stack.storageProxy?.requests ?? []).map((r) => ({ ...r, at: r.at - started, sentAt: r.sentAt - started })),
        }),
      );
    }
    const fanoutRequests = stack.storageProxy?.requests ?? [];
    const storageDuringFanout = {
      total: workRequests(fanoutRequests.slice(fanoutMark)).total,
      ...(intakeMark !== undefined ? { untilIntake: workRequests(fanoutRequests.slice(fanoutMark, intakeMark)).total } : {}),
    };
    const floor = floorMs(shape);
    const allFinalMs = final.at === undefined ? undefined : final.at - started;
    const copies = final.copies;
    const postsPerPair = new Map<string, number>();
    for (const copy of copies)
      postsPerPair.set(`${copy.issueId}|${copy.conversation}`, (postsPerPair.get(`${copy.issueId}|${copy.conversation}`) ?? 0) + 1);
    const expected = shape.issues * (places.teams.length + places.slack.length);
    const counts = [...postsPerPair.values()];
    return {
      shape,
      allFinalMs,
      floorMs: floor,
      pacedFloorMs: pacedFloorMs(shape),
      intakeMs,
      throughputOfLimit: allFinalMs === undefined ? undefined : floor / allFinalMs,
      notFinal: expected - copies.filter((copy) => copy.shows === perIssue).length,
      pairs: {
        expected,
        missing: expected - postsPerPair.size,
        one: counts.filter((n) => n === 1).length,
        duplicated: counts.filter((n) => n > 1).length,
        extraPosts: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
      },
      deadDeliveries: await deadDeliveries(stack),
      calls: {
        teams: stack.teams.calls.length,
        teams429: stack.teams.calls.filter((c) => c.status === 429).length,
        slack: stack.slack.calls.length,
        slackRateLimited: stack.slack.calls.filter((c) => c.error === "ratelimited").length,
      },
      storagePerNewAlert: storage.newAlert,
      storagePerRepeatAlert: storage.repeatAlert,
      storagePerRepeatAlertEach: storage.repeatAlerts.map((parts) => parts.total),
      storagePerRepeatAlertParts: storage.repeatAlerts,
      storageDuringFanout,
      hostRssPeakMiB: rss.stop(),
      emulatorsAhead: servicesFirst,
    };
  } finally {
    if (servicesFirst) setPriority(0);
    await stack.stop();
  }
}

interface Places {
  teams: string[];
  slack: { teamId: string; channel: string }[];
}

export async function subscribe(stack: Stack, shape: FanoutShape): Promise<Places> {
  const place = await addTeamsTeam(stack, "Fanout");
  const teams = [place.channel];
  for (let n = 1; n < shape.teamsChannels; n++) teams.push(stack.teams.addChannel(place.team, `alerts-${n}`).id);
  for (const conversation of teams.slice(0, shape.teamsChannels)) {
    const message = stack.teams.message({ conversation, from: place.user, text: `subscribe ${PROJECT} info` });
    const answer = await stack.teams.post(`${stack.api}/messages`, message);
    if (answer.status !== 200) throw new Error(`Teams subscribe failed: ${answer.status}`);
  }
  const teamId = await installSlackWorkspace(stack, "Fanout");
  const user = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@fanout.example" }).id;
  const slack: Places["slack"] = [];
  for (let n = 0; n < shape.slackChannels; n++) {
    const channel = stack.slack.addChannel(teamId, { name: `alerts-${n}` }).id;
    const command = stack.slack.slashCommand({ teamId, user, channel, command: "/triage", text: `subscribe ${PROJECT} info` });
    const answer = await stack.slack.sendCommand(`${stack.api}/slack/commands`, command);
    if (answer.status !== 200) throw new Error(`Slack subscribe failed: ${answer.status}`);
    slack.push({ teamId, channel });
  }
  return { teams: teams.slice(0, shape.teamsChannels), slack };
}

/** Each issue's count and lastSeen move forward with every alert; alerts round-robin over the issues. */
export function fanoutAlerts(shape: FanoutShape): Alert[] {
  return Array.from({ length: shape.alerts }, (_, n) => {
    const count = Math.floor(n / shape.issues) + 1;
    const issue = n % shape.issues;
    return anAlert({
      alertId: `${PROJECT}-${String(n).padStart(6, "0")}`,
      issue: {
        id: `${PROJECT}-${issue}`,
        project: PROJECT,
        title: `TypeError in fanout ${issue}`,
        count,
        lastSeen: new Date(Date.UTC(2026, 11, 1, 12, 0, 0) + count * 1000).toISOString(),
      },
    });
  });
}

/** Repeat alerts measured: the median is reported (a host's first alert also creates its tables and fills its caches). */
export const REPEAT_PROBES = 3;

export interface RepeatAlertParts {
  total: number;
  /** Everything but a host's upkeep below. */
  ownWork: number;
  /** The `instances` table: the host's heartbeat (every 15 s) and counts. */
  heartbeat: number;
  /** Reads of the tables each host caches for 10–60 s (installations, identities, releases). */
  cacheRefills: number;
  /** A table's creation, on a host's first use of it (once per process). */
  tablesCreated: number;
}

const PER_HOST_CACHED_TABLES = new Set<string>([TABLES.installations, TABLES.identities, TABLES.releases]);

/** A probe's requests (as `workRequests` counts them) apart: the alert's own work, and a host's upkeep. */
export function repeatAlertParts(requests: StorageRequest[]): RepeatAlertParts {
  const total = workRequests(requests).total;
  const tableRequests = (keep: (r: StorageRequest) => boolean) => requests.filter((r) => r.service === "table" && keep(r)).length;
  const heartbeat = tableRequests((r) => r.resource === TABLES.instances);
  const cacheRefills = tableRequests((r) => r.method === "GET" && PER_HOST_CACHED_TABLES.has(r.resource));
  const tablesCreated = tableRequests((r) => r.method === "POST" && r.resource === "Tables");
  return { total, ownWork: total - heartbeat - cacheRefills - tablesCreated, heartbeat, cacheRefills, tablesCreated };
}

export function describeParts(parts: RepeatAlertParts): string {
  return `${parts.total} (own work ${parts.ownWork}; heartbeat ${parts.heartbeat}, cache refills ${parts.cacheRefills}, tables created ${parts.tablesCreated})`;
}

/**
 * Storage requests for one new issue's alert and then REPEAT_PROBES repeat alerts, each from its sending until the
 * app is quiet, counted as test/e2e/fanout-storage.test.ts counts them (`workRequests`: queue polls left out, one
 * receive per message taken). Each repeat is sent past the settle window of the one before, so 13–15 s apart: each
 * may also pay a host's upkeep (heartbeat, cache refills, a table's creation), which `repeatAlertParts` tells apart. Then a minute's
 * pause: the fan-out starts with Slack's chat.update budget unspent.
 */
async function storagePerAlert(
  stack: Stack,
  send: (alert: Alert) => Promise<unknown>,
): Promise<{ newAlert: number; repeatAlert: number; repeatAlerts: RepeatAlertParts[] }> {
  const proxy = stack.storageProxy!;
  const measure = async (alert: Alert) => {
    await quiet(stack);
    const mark = proxy.mark();
    await send(alert);
    await pause(1000);
    await quiet(stack);
    await pause(1000);
    return proxy.requests.slice(mark);
  };
  const base = { project: PROJECT, title: "TypeError in fanout probe", id: `${PROJECT}-probe` };
  const newAlert = workRequests(await measure(anAlert({ alertId: `${PROJECT}-probe-1`, issue: { ...base, count: 1 } }))).total;
  const repeatAlerts: RepeatAlertParts[] = [];
  for (let n = 2; n <= REPEAT_PROBES + 1; n++) {
    // Each repeat to a settled issue: one within SETTLE_MS of the last change waits for the issue to settle.
    await pause(SETTLE_MS);
    const lastSeen = new Date(Date.UTC(2026, 11, 1, 12 + n)).toISOString();
    repeatAlerts.push(repeatAlertParts(await measure(anAlert({ alertId: `${PROJECT}-probe-${n}`, issue: { ...base, count: n, lastSeen } }))));
  }
  await pause(60_000);
  return { newAlert, repeatAlert: summarize(repeatAlerts.map((parts) => parts.total)).median, repeatAlerts };
}

/**
 * The emulators stand for services with CPUs of their own, but here they share two with Azurite and the hosts:
 * starved, they take a second's requests at once, and count them as a burst the app never sent (Teams 429s
 * bunched within milliseconds). This process (the emulators and the storage proxy) runs ahead of its children
 * (Azurite and the hosts, started before, keep the default priority). Needs the right to raise a priority: without
 * it the run goes on as before, and says so.
 */
function emulatorsFirst(): boolean {
  try {
    setPriority(-5);
    return true;
  } catch {
    return false;
  }
}

async function quiet(stack: Stack): Promise<void> {
  await waitFor(() => appIsQuiet(stack), { timeoutMs: 120_000, intervalMs: 250, description: "the app's queues to be empty" });
}

async function appIsQuiet(stack: Stack): Promise<boolean> {
  for (let check = 0; check < 2; check++) {
    if (check > 0) await pause(1000);
    const counts = await Promise.all(BUSY_QUEUES.map((queue) => messageCount(stack.azurite.connectionString, queue)));
    if (counts.some((n) => n > 0)) return false;
  }
  return true;
}

interface Copy {
  issueId: string;
  conversation: string;
  shows: number;
}

/** Every fan-out card copy the platforms hold now (one per post), with the event count it shows. */
export function readCopies(stack: Stack, places: Places, issues: number): Copy[] {
  const copies: Copy[] = [];
  for (const conversation of places.teams) {
    for (const message of stack.teams.messages(conversation)) {
      const text = cardText(cardOf(message.activity));
      const issueId = /fanout (\d+)/.exec(text)?.[1];
      if (issueId === undefined || Number(issueId) >= issues) continue;
      copies.push({ issueId, conversation, shows: eventCount(text, /Events: ([\d,]+)/) });
    }
  }
  for (const { channel } of places.slack) {
    for (const message of stack.slack.messages(channel)) {
      if (message.ephemeral) continue;
      const issueId = /TypeError in fanout (\d+)/.exec(message.text)?.[1];
      if (issueId === undefined) continue;
      const blocks = typeof message.blocks === "string" ? JSON.parse(message.blocks) : message.blocks;
      copies.push({ issueId, conversation: channel, shows: eventCount(blocksText(blocks), /\*Events\*\n([\d,]+)/) });
    }
  }
  return copies;
}

function eventCount(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1]?.replace(/,/g, "") ?? Number.NaN);
}

async function deadDeliveries(stack: Stack): Promise<number> {
  const table = await stack.storage.table("deliveries");
  let dead = 0;
  const filter = `PartitionKey ge '${PROJECT}-' and PartitionKey lt '${PROJECT}.'`;
  for await (const row of table.listEntities<{ state: string }>({ queryOptions: { filter, select: ["state"] } })) if (row.state === "dead") dead++;
  return dead;
}

/** Samples each host's RSS from /proc every half second; `stop` returns the peaks in MiB. */
function watchRss(stack: Stack): { stop(): number[] } {
  const peaks = stack.hosts.map(() => 0);
  const timer = setInterval(() => {
    stack.hosts.forEach((host, i) => {
      const pid = host.pid;
      if (!pid) return;
      try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        peaks[i] = Math.max(peaks[i]!, kib / 1024);
      } catch {
        // the process is gone or /proc isn't there (not Linux): no sample
      }
    });
  }, 500);
  return {
    stop() {
      clearInterval(timer);
      return peaks.map((peak) => Math.round(peak));
    },
  };
}
