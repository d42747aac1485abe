// Delivering under faults: `alerts` alerts for `issues` issues, each to two Teams channels and two
// Slack channels, while the fault proxies fail 20 % of the app's writes to Teams and Slack (429 with
// and without Retry-After, 5xx, slow answers, answers slower than the app waits); mid-batch the host
// is killed (SIGKILL) and a new one started on the same storage. Then, per issue and conversation:
// how many cards exist (exactly 1), and whether each shows the issue's final count.
import { cardOf, cardText } from "../test/e2e/card-helpers";
import { blocksText } from "../test/e2e/slack-helpers";
import { IssueRepository } from "../shared/storage/issues";
import { TABLES } from "../shared/storage/clients";
import { anAlert } from "../test/fixtures/issues";
import { seededRandom, type FaultKind } from "./fault-proxy";
import { inPool, pause } from "./pool";
import { waitUntilQuiet } from "./quiet";
import type { SoakTiming } from "./settings";
import { addSlackWorkspace, addTeamsTeam, sendAlert, type SoakStack } from "./stack";

export interface FaultsResult {
  alerts: number;
  issues: number;
  conversations: number;
  faultsServed: Record<"Teams" | "Slack", Record<FaultKind, number>>;
  requestsEligible: Record<"Teams" | "Slack", number>;
  /** Posts (not updates) answered after the app's client had given up: the card exists, the app can't know. */
  ambiguousPostTimeouts: number;
  /** Undefined when the run had no crash. */
  crashedAfterCards?: number;
  crashedAtMs?: number;
  /** Per issue × conversation: exactly one card. */
  exactlyOne: number;
  lost: number;
  duplicates: number;
  /** Copies (duplicates included) not showing the issue's final event count. */
  staleCopies: number;
  /** Alerts not folded into their issue. */
  alertsLost: number;
  deadDeliveries: number;
  /** Delivery rows the app marked as possibly posted twice (a post with no answer, posted again once: README "Exactly once"). */
  recordedReposts: number;
  /** Why deliveries were given up, with how many. */
  deadReasons: Record<string, number>;
  settled: boolean;
  durationMs: number;
  examples: string[];
}

const PROJECT = "soakfault";

export async function runFaults(
  stack: SoakStack,
  settings: { alerts: number; issues: number; rate: number; seed: number; crash: boolean; timing: SoakTiming },
  progress: (line: string) => void,
): Promise<FaultsResult> {
  const teamsA = await addTeamsTeam(stack, "FaultsA");
  const teamsB = await addTeamsTeam(stack, "FaultsB");
  const slackA = await addSlackWorkspace(stack, "FaultsA");
  const slackB = await addSlackWorkspace(stack, "FaultsB");
  const targets = [
    { provider: "msteams" as const, conversationId: teamsA.channel },
    { provider: "msteams" as const, conversationId: teamsB.channel },
    { provider: "slack" as const, teamId: slackA.teamId, channel: slackA.channel },
    { provider: "slack" as const, teamId: slackB.teamId, channel: slackB.channel },
  ];
  const issueIds = Array.from({ length: settings.issues }, (_, i) => `${PROJECT}-${String(i).padStart(4, "0")}`);
  const perIssue = Math.ceil(settings.alerts / settings.issues);
  const alerts = Array.from({ length: settings.alerts }, (_, n) => {
    const count = Math.floor(n / settings.issues) + 1;
    return anAlert({
      alertId: `${PROJECT}-alert-${String(n).padStart(5, "0")}`,
      issue: {
        id: issueIds[n % settings.issues]!,
        project: PROJECT,
        title: `Fault test ${n % settings.issues}`,
        count,
        lastSeen: new Date(Date.UTC(2026, 10, 21, 12) + count * 1000).toISOString(),
      },
      targets,
    });
  });

  stack.teamsProxy.reset();
  stack.slackProxy.reset();
  stack.teamsProxy.setPlan({
    rate: settings.rate,
    random: seededRandom(settings.seed),
    slowMs: 2_000,
    timeoutMs: 11_000,
    matches: ({ method, path }) => method !== "GET" && path.startsWith("/teams/v3/conversations"),
  });
  stack.slackProxy.setPlan({
    rate: settings.rate,
    random: seededRandom(settings.seed + 1),
    slowMs: 2_000,
    timeoutMs: 11_000,
    matches: ({ path }) => /^\/api\/chat\.(postMessage|update)\b/.test(path),
  });

  const started = Date.now();
  const cardsNow = () =>
    issueIds.reduce(
      (n, id) =>
        n +
        [teamsA.channel, teamsB.channel].filter((c) => teamsCards(stack, c, id).length > 0).length +
        [slackA.channel, slackB.channel].filter((c) => slackCards(stack, c, id).length > 0).length,
      0,
    );
  await inPool(alerts, 10, Date.now() + 120_000, (alert) => sendAlert(stack, alert));
  progress(`faults: ${alerts.length} alerts enqueued`);

  let crashedAfterCards: number | undefined;
  let crashedAtMs: number | undefined;
  if (settings.crash) {
    // Kill the host once about 40 % of the cards exist: some deliveries done, many in flight or queued.
    const crashAt = Math.ceil(issueIds.length * targets.length * 0.4);
    const crashDeadline = Date.now() + 120_000;
    while (cardsNow() < crashAt && Date.now() < crashDeadline) await pause(200);
    crashedAfterCards = cardsNow();
    crashedAtMs = Date.now() - started;
    await stack.crashAndRestart();
    progress(`faults: host killed with ${crashedAfterCards} of ${issueIds.length * targets.length} cards posted, restarted`);
  }

  const settled = await waitUntilQuiet(stack, settings.timing, 8 * 60_000);
  stack.teamsProxy.setPlan(undefined);
  stack.slackProxy.setPlan(undefined);
  progress(`faults: ${settled ? "settled" : "NOT settled"} after ${((Date.now() - started) / 1000).toFixed(0)} s`);

  const repository = new IssueRepository(stack.storage);
  const result: FaultsResult = {
    alerts: alerts.length,
    issues: issueIds.length,
    conversations: targets.length,
    faultsServed: { Teams: stack.teamsProxy.served, Slack: stack.slackProxy.served },
    requestsEligible: { Teams: stack.teamsProxy.matched, Slack: stack.slackProxy.matched },
    ambiguousPostTimeouts: [...stack.teamsProxy.log, ...stack.slackProxy.log].filter(
      (f) => f.kind === "timeout" && (/\/activities$/.test(f.path.split("?")[0]!) || f.path.startsWith("/api/chat.postMessage")),
    ).length,
    crashedAfterCards,
    crashedAtMs,
    exactlyOne: 0,
    lost: 0,
    duplicates: 0,
    staleCopies: 0,
    alertsLost: 0,
    deadDeliveries: 0,
    recordedReposts: 0,
    deadReasons: {},
    settled,
    durationMs: Date.now() - started,
    examples: [],
  };
  const note = (text: string) => {
    if (result.examples.length < 8) result.examples.push(text);
  };
  for (const issueId of issueIds) {
    const stored = await repository.get(issueId);
    const finalCount = stored?.issue.count;
    const mine = alerts.filter((a) => a.issue.id === issueId).map((a) => a.alertId);
    result.alertsLost += mine.filter((id) => !stored?.recentAlertIds.includes(id)).length;
    const copies: { where: string; shows: number[] }[] = [
      ...[teamsA.channel, teamsB.channel].map((c, i) => ({ where: `Teams ${i ? "B" : "A"}`, shows: teamsCards(stack, c, issueId) })),
      ...[slackA.channel, slackB.channel].map((c, i) => ({ where: `Slack ${i ? "B" : "A"}`, shows: slackCards(stack, c, issueId) })),
    ];
    for (const { where, shows } of copies) {
      if (shows.length === 1) result.exactlyOne++;
      if (shows.length === 0) {
        result.lost++;
        note(`${issueId} in ${where}: no card`);
      }
      if (shows.length > 1) {
        result.duplicates += shows.length - 1;
        note(`${issueId} in ${where}: ${shows.length} cards`);
      }
      const stale = shows.filter((count) => count !== finalCount).length;
      result.staleCopies += stale;
      if (stale) note(`${issueId} in ${where}: shows ${shows.join(", ")} events, the issue has ${finalCount ?? "no row"} (${perIssue} alerts)`);
    }
  }
  const deliveries = await stack.storage.table(TABLES.deliveries);
  const filter = `PartitionKey ge '${PROJECT}-' and PartitionKey lt '${PROJECT}.'`;
  for await (const row of deliveries.listEntities<{ state?: string; reposted?: number; reason?: string }>({
    queryOptions: { filter, select: ["state", "reposted", "reason"] },
  })) {
    if (Number(row.reposted ?? 0) > 0) result.recordedReposts++;
    if (row.state !== "dead") continue;
    result.deadDeliveries++;
    // Reasons name no person (targets are logged by kind and hash); numbers are folded so alike reasons count together.
    const reason = (row.reason ?? "no reason").replace(/\d+/g, "N");
    result.deadReasons[reason] = (result.deadReasons[reason] ?? 0) + 1;
  }
  progress(`faults: ${result.exactlyOne} exactly-one, ${result.lost} lost, ${result.duplicates} duplicates, ${result.staleCopies} stale copies`);
  return result;
}

/** The event count shown by each Teams card of the issue in the channel. */
function teamsCards(stack: SoakStack, channel: string, issueId: string): number[] {
  return stack.teams
    .messages(channel)
    .filter((m) => JSON.stringify(m.activity).includes(`"issueId":"${issueId}"`))
    .map((m) => eventCount(cardText(cardOf(m.activity)), /Events: ([\d,]+)/));
}

function slackCards(stack: SoakStack, channel: string, issueId: string): number[] {
  return stack.slack
    .messages(channel)
    .filter((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`"triage:${issueId}"`))
    .map((m) => eventCount(blocksText(m.blocks), /\*Events\*\n([\d,]+)/));
}

function eventCount(text: string, pattern: RegExp): number {
  return Number(pattern.exec(text)?.[1]?.replace(/,/g, "") ?? Number.NaN);
}
