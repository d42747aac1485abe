// The plain-words reading of the figures for BENCHMARKS.md: every sentence is computed from them, and
// says less when they don't support more.
import type { ColdStartResult } from "./cold-start";
import { MAX_POLLING_MS, SLACK_ACK_MS, TEAMS_INVOKE_MS, TIER_PER_MINUTE } from "./deadlines";
import { bytes, count, ms, rate, seconds, us } from "./format";
import type { Results } from "./report";
import type { AlertLatencyResult } from "./stack/alert-latency";
import { CLICK_RATIO_GOAL, GOAL_CONCURRENCY, type ConcurrentClicksResult } from "./stack/concurrent-clicks";
import type { StackResults } from "./stack/index";
import type { StormResult } from "./stack/storm";

export function interpretation(results: Results): string[] {
  const s = results.stack?.ok ? results.stack.value : undefined;
  return [
    s && interactiveReading(s),
    s?.clicks?.ok && concurrentClicksReading(s.clicks.value),
    s && cardsAppearReading(s),
    results.coldStart?.ok && coldStartReading(results.coldStart.value),
    cpuReading(results),
    s?.storm?.ok && stormReading(s.storm.value),
    busyMachineReading(results),
    "Caveat: no real network. Teams, Slack and Storage are emulated on this machine, so every outbound call here takes " +
      "a few ms where the real services take tens to hundreds; the figures are this code's own cost plus queue polling, " +
      "useful to compare runs and find slow paths, not a forecast of production latency.",
  ].filter((line): line is string => typeof line === "string");
}

function verdict(p95: number, deadlineMs: number): string {
  const share = (p95 / deadlineMs) * 100;
  return share < 25
    ? `well inside it (${share.toFixed(1)} %)`
    : share < 100
      ? `inside it but with little margin (${share.toFixed(0)} %)`
      : `**over it** (${share.toFixed(0)} %)`;
}

function interactiveReading(s: StackResults): string | undefined {
  const parts: string[] = [];
  if (s.slackClicks?.ok) {
    const { ackMs, updatedMs } = s.slackClicks.value;
    parts.push(
      `a Slack click is acknowledged in ${ms(ackMs.median)} (p95 ${ms(ackMs.p95)}): against Slack's 3 s that is ${verdict(ackMs.p95, SLACK_ACK_MS)}; ` +
        `the clicked message already shows the new state when the ack leaves (median ${ms(updatedMs.median)} after the click)`,
    );
  }
  if (s.teamsInvoke?.ok) {
    const { responseMs } = s.teamsInvoke.value;
    parts.push(
      `a Teams Resolve comes back with the re-rendered card in ${ms(responseMs.median)} (p95 ${ms(responseMs.p95)}): against Teams' 10 s that is ${verdict(responseMs.p95, TEAMS_INVOKE_MS)}`,
    );
  }
  return parts.length ? `**Clicks, on a warm instance:** ${parts.join("; ")}.` : undefined;
}

function cardsAppearReading(s: StackResults): string | undefined {
  const alerts = [s.teamsAlert, s.slackAlert].flatMap((o) => (o?.ok ? [o.value] : []));
  if (alerts.length === 0) return undefined;
  const figures = alerts.map((a) => `${a.platform} median ${seconds(a.totalMs.median)}, p95 ${seconds(a.totalMs.p95)}`).join("; ");
  const shares = alerts.map((a) => `${a.platform} ${(waitingShare(a) * 100).toFixed(0)} %`).join(", ");
  const mostlyWaiting = alerts.every((a) => waitingShare(a) > 0.5);
  return (
    `**Alert → card, for an alert arriving at a quiet app:** ${figures}. An alert crosses two queues (\`alerts\` → \`deliveries\`), and an idle queue listener polls with ` +
    `back-off up to maxPollingInterval (host.json: ${seconds(MAX_POLLING_MS)}), so each hop can wait up to that long before any code runs. ` +
    `Waiting for those polls is ${shares} of the median (4a/4b split the time). ` +
    (mostlyWaiting
      ? "So cards appear faster by polling sooner (host.json maxPollingInterval; the Azure host's default is 1 min, so keep it set) " +
        "or by posting the first card from the alerts handler itself, rather than by faster code."
      : "The handlers' own work is the larger part: the slow stage in 4a/4b is where to look.")
  );
}

/** Share of the median total spent waiting on polls (stages 1 and 3, by their medians). */
function waitingShare(result: AlertLatencyResult): number {
  const waiting = result.stages[0]!.ms.median + result.stages[2]!.ms.median;
  const total = result.stages.reduce((sum, stage) => sum + stage.ms.median, 0);
  return waiting / total;
}

function coldStartReading(r: ColdStartResult): string {
  const [floor, baseline, app] = r.rows as [ColdStartResult["rows"][0], ColdStartResult["rows"][0], ColdStartResult["rows"][0]];
  const extra = app.spawnToReadyMs.median - baseline.spawnToReadyMs.median;
  return (
    `**Loading the app costs about ${ms(extra)} per cold instance**: a fresh node is ready in ${ms(floor.spawnToReadyMs.median)}, ` +
    `with \`@azure/functions\` in ${ms(baseline.spawnToReadyMs.median)}, with the ${bytes(r.bundleBytes)} bundle in ` +
    `${ms(app.spawnToReadyMs.median)} (p95 ${ms(app.spawnToReadyMs.p95)}). That is paid before the first invocation of every new instance, ` +
    `on top of the Functions host's own start (not measured here); against Slack's 3 s ack it is ${((app.spawnToReadyMs.p95 / SLACK_ACK_MS) * 100).toFixed(0)} % at p95.`
  );
}

function cpuReading({ cards, slackVerify }: Results): string | undefined {
  const parts: string[] = [];
  if (cards?.ok) {
    const find = (issue: string, renderer: string) => cards.value.rows.find((r) => r.issue === issue && r.renderer === renderer)!;
    parts.push(
      `a typical card renders in ${us(find("typical", "Teams").result.perCallUs.median)} (Teams) / ${us(find("typical", "Slack").result.perCallUs.median)} (Slack); ` +
        `the largest alert the schema admits in ${us(find("worst case", "Teams").result.perCallUs.median)} / ${us(find("worst case", "Slack").result.perCallUs.median)}`,
    );
  }
  if (slackVerify?.ok) parts.push(`a Slack signature check takes ${us(slackVerify.value[0]!.result.perCallUs.median)}`);
  return parts.length
    ? `**CPU per card and per request:** ${parts.join("; ")}. Each card is rendered once per post or update, each request verified once.`
    : undefined;
}

function stormReading(storm: StormResult): string {
  const maxUpdates = Math.max(storm.teamsPutsPerCard.max, storm.slackUpdatesPerCard.max);
  const throttled =
    storm.throttled.teams429 + storm.throttled.slackRateLimited === 0
      ? "no 429 from either platform"
      : `${storm.throttled.teams429} Teams 429s and ${storm.throttled.slackRateLimited} Slack rate-limit refusals`;
  const intake =
    `**Storm:** ${count(storm.alerts)} alerts were taken in ${seconds(storm.takenMs)} (${rate(storm.alerts, storm.takenMs)} alerts/s on this machine, ` +
    `where the app, Azurite and the emulators share the CPUs); coalescing kept each card to at most ${maxUpdates} updates for ` +
    `${count(storm.alerts / storm.issues)} alerts, with ${throttled}.`;
  if (storm.cardsFinalMs !== undefined) return `${intake} ${convergenceReading(storm, storm.cardsFinalMs)} ${threadsReading(storm)}`;
  const late = storm.staleCards.filter((card) => card.lastRefreshMs !== undefined && card.postedMs > card.lastRefreshMs);
  return (
    `${intake} **But ${storm.staleCards.length} card(s) were left showing an old count for good** ` +
    `(${storm.staleCards.map((c) => `${c.platform} ${c.issueId}: ${c.shows} of ${c.final}`).join("; ")}): every delivery was settled and the app's ` +
    "queues were empty, so nothing was going to update them before the issue's next alert. " +
    (late.length === storm.staleCards.length
      ? "Each was posted after its issue's last card refresh had run (4e): it shows the issue as its delivery read it, and the refreshes " +
        "before it could not update a copy that was not stored yet. A post that finds the issue moved on meanwhile needs to queue a refresh."
      : "See 4e for when each was posted and when its issue was last refreshed.") +
    ` ${threadsReading(storm)}`
  );
}

/** Whether the threads stayed short (coalesced) and every card that saw a change got its line. */
function threadsReading(storm: StormResult): string {
  const channels = [storm.channels.Teams, storm.channels.Slack];
  const lines = channels.reduce((sum, p) => sum + p.lines, 0);
  const covered = channels.reduce((sum, p) => sum + p.changesCovered, 0);
  const replies = channels.reduce((sum, p) => sum + p.threadReplies, 0);
  const silent = channels.reduce((sum, p) => sum + p.cardsWithoutLine, 0);
  const maxLines = Math.max(...channels.map((p) => p.linesPerCard.max));
  const throttledReplies = channels.reduce((sum, p) => sum + p.throttledReplies, 0);
  if (storm.changes.made === 0) return "Threads: no state change was made during the storm, so the threads say nothing (4e).";
  return (
    `**Threads during the storm:** ${count(storm.changes.made)} state changes (assign, unassign) became ${count(lines)} thread lines over ` +
    `${storm.issues * 2} cards, at most ${maxLines} in one thread (${lines === 0 ? "no line" : `${(covered / lines).toFixed(1)} changes a line`}), ` +
    `${count(replies)} thread replies in all beside the cards. ` +
    (silent === 0 ? "Every card whose issue changed got its line" : `**${silent} card(s) whose issue changed got no line**`) +
    (throttledReplies === 0 ? ", and no reply was refused for rate." : `; ${throttledReplies} replies were refused for rate (429) and retried.`)
  );
}

function busyMachineReading({ machine }: Results): string | undefined {
  if (machine.loadAtStart < machine.cpuCount / 2) return undefined;
  return (
    `Caveat: the machine was busy when the run started (1-minute load ${machine.loadAtStart} on ${machine.cpuCount} vCPUs), so other work ` +
    "competed with the app; medians are the figures to trust, tails (p95, max) are inflated."
  );
}

/** How long after the last delivery the cards caught up, and whether Slack's update budget is why. */
function convergenceReading(storm: StormResult, cardsFinalMs: number): string {
  const { Teams: teams, Slack: slack } = storm.lastConvergedMs;
  const perPlatform = teams !== undefined && slack !== undefined ? ` (Teams cards by ${seconds(teams)}, Slack cards by ${seconds(slack)})` : "";
  const budget = TIER_PER_MINUTE[3];
  const slackIsTheTail = teams !== undefined && slack !== undefined && slack - teams > 10_000 && storm.slackUpdatesBusiestMinute >= 0.9 * budget;
  return (
    `Every card showed the final count ${seconds(cardsFinalMs - storm.settledMs)} after the last delivery settled${perPlatform}.` +
    (slackIsTheTail
      ? ` Slack is the tail: the app spent Slack's chat.update budget (${storm.slackUpdatesBusiestMinute} calls in the busiest minute, of ${budget} allowed ` +
        "per workspace) on intermediate counts during the storm, so the updates carrying the final count waited for budget. Coalescing that accounts " +
        "for the workspace's remaining budget (a longer window for Slack while it is low) would show the final state sooner."
      : "")
  );
}

/** Issue 11's goal for clicks at 20 concurrent, and how close the worst ack came to Slack's 3 s. */
function concurrentClicksReading(r: ConcurrentClicksResult): string | undefined {
  const noop = r.noop.find((row) => row.concurrency === GOAL_CONCURRENCY);
  if (!noop) return undefined;
  const atGoal = r.rows.filter((row) => row.concurrency === GOAL_CONCURRENCY);
  const ratios = atGoal.map((row) => ({
    row,
    ratio: row.ackMs.median / noop.responseMs.median,
    updated: row.updatedMs.median / noop.responseMs.median,
  }));
  const met = ratios.every(({ ratio }) => ratio <= CLICK_RATIO_GOAL);
  const figures = ratios
    .map(
      ({ row, ratio, updated }) =>
        `${row.platform} on ${row.mode} ${ms(row.ackMs.median)} (${ratio.toFixed(1)} ×` +
        (row.platform === "Slack" ? `; clicked message replaced ${ms(row.updatedMs.median)}, ${updated.toFixed(1)} ×)` : ")"),
    )
    .join(", ");
  const slack = r.rows.filter((row) => row.platform === "Slack");
  const worstAck = Math.max(...slack.map((row) => row.ackMs.max));
  const late = slack.reduce((sum, row) => sum + row.pastDeadline, 0);
  return (
    `**Clicks under concurrency:** at ${GOAL_CONCURRENCY} people clicking at once the median click takes ${figures}, against a no-op function's ` +
    `${ms(noop.responseMs.median)} through the same host: the goal (≤ ${CLICK_RATIO_GOAL} × on both platforms) is ${met ? "met" : "**not met**"}. ` +
    `The slowest Slack ack at any concurrency was ${ms(worstAck)} (${late === 0 ? "none" : `**${late}**`} past Slack's ${seconds(SLACK_ACK_MS)}; ${verdict(worstAck, SLACK_ACK_MS)}).`
  );
}
