// One section per benchmark for BENCHMARKS.md: what was measured, how, and the table.
import type { CardsResult } from "./cards";
import { TIER_PER_MINUTE } from "./deadlines";
import type { ColdStartResult } from "./cold-start";
import { bytes, count, markdownTable, ms, rate, seconds, SUMMARY_HEADERS, summaryCells, us } from "./format";
import type { VerifyRow } from "./slack-verify";
import { IDLE_GAP_MS, type AlertLatencyResult } from "./stack/alert-latency";
import { PAUSE_BETWEEN_CLICKS_MS, type SlackClickResult, type TeamsInvokeResult } from "./stack/clicks";
import { CLICK_RATIO_GOAL, CONCURRENCIES, NOOP_APP, PAUSE_BETWEEN_ROUNDS_MS, type ConcurrentClicksResult } from "./stack/concurrent-clicks";
import { ACTOR, ASSIGNEE, CHANGE_ROUNDS, ROUND_GAPS_MS, SEND_CONCURRENCY, type ChannelPosts, type StormResult } from "./stack/storm";

export function coldStartSection(r: ColdStartResult): string {
  return [
    "**What:** the time a new Functions worker spends loading the app, approximated by a fresh plain `node` process that requires the deployable bundle. " +
      `Loaded at start: \`dist/index.js\` and the chunk files it requires at once, ${bytes(r.bundleBytes)}.`,
    "**How:** `node -e` with valid settings (test/fixtures/settings.ts) and a stand-in for the worker's `@azure/functions-core` (as test/e2e/bundle.test.ts), " +
      "so the app validates its configuration and registers its 14 functions as in production. *Spawn → ready* is measured in the parent from `spawn()` to the " +
      `marker the child prints after \`require\` returns; *require()* is measured inside the child. The ${r.rows.length} variants are interleaved round by round; ` +
      `${r.warmupRounds} warm-up round (page cache) excluded.`,
    markdownTable({
      headers: ["variant", "n", "spawn → ready median", "p95", "max", "require() median", "p95", "max"],
      rows: r.rows.map((row) => [
        row.label,
        String(row.spawnToReadyMs.n),
        ...summaryCells(row.spawnToReadyMs, ms).slice(1),
        ...summaryCells(row.requireMs, ms).slice(1),
      ]),
    }),
  ].join("\n\n");
}

export function cardsSection(r: CardsResult): string {
  const first = r.rows[0]!.result;
  return [
    "**What:** `buildIssueView` + `renderTeamsCard`, and `buildIssueView` + `renderSlackMessage`, as the senders call them, " +
      "for two issues: " +
      r.cases.map((c) => `*${c.name}*: ${c.describe}`).join("; ") +
      ".",
    `**How:** in-process, 500 ms warm-up excluded, then ${first.perCallUs.n} timed batches; each sample is the mean time of one call in a ~20 ms batch. ` +
      "Serialized size: Teams, the attachment as posted (the 24 KB budget is checked on it); Slack, `{ text, blocks }` as JSON.",
    markdownTable({
      headers: ["issue", "renderer", "n (batches × calls)", "median", "p95", "max", "ops/s (at median)", "serialized"],
      rows: r.rows.map((row) => [
        row.issue,
        row.renderer,
        `${row.result.perCallUs.n} × ${count(row.result.callsPerSample)}`,
        ...summaryCells(row.result.perCallUs, us).slice(1),
        count(row.result.opsPerSecond),
        bytes(row.serializedBytes),
      ]),
    }),
  ].join("\n\n");
}

export function verifySection(rows: VerifyRow[]): string {
  return [
    "**What:** `verifySlackRequest` (shared/slack/verify-request.ts) accepting a correctly signed request: header checks, HMAC-SHA256 over `v0:{timestamp}:{body}`, constant-time compare.",
    "**How:** a `block_actions` payload form-encoded as Slack sends it, signed by the Slack emulator's signer; in-process, 500 ms warm-up excluded, samples as in section 2.",
    markdownTable({
      headers: ["body", "size", "n (batches × calls)", "median", "p95", "max", "ops/s (at median)"],
      rows: rows.map((row) => [
        row.body,
        bytes(row.bodyBytes),
        `${row.result.perCallUs.n} × ${count(row.result.callsPerSample)}`,
        ...summaryCells(row.result.perCallUs, us).slice(1),
        count(row.result.opsPerSecond),
      ]),
    }),
  ].join("\n\n");
}

export function stackIntro(startMs: number): string {
  return (
    `The stack is started as test/e2e/stack.ts does (\`startStack()\`, up in ${ms(startMs)}), with the app's default settings ` +
    "(card-refresh coalescing 5 s, RENOTIFY_HOURS 24) and the Slack emulator enforcing Slack's rate limits. The bot is added to a team " +
    "through the Teams emulator and a Slack workspace is installed through OAuth. Times of posts and updates are the emulators' own " +
    "request logs (when the request arrived), so the polling that waits for them never adds to a figure. Between phases the run " +
    "waits until the app's queues are empty."
  );
}

export function alertSection(r: AlertLatencyResult): string {
  const target = r.platform === "Teams" ? "the Bot Connector POST of the Teams card" : "the Slack `chat.postMessage`";
  return [
    `**What:** an alert for a new issue, arriving at a quiet app: from the moment it is on the \`alerts\` queue (\`sendMessage\` resolved) until ${target} ` +
      "arrives at the emulator. Each alert targets a Teams channel and a Slack channel (five Slack channels in turn, so the app's per-channel pacing of " +
      "about one post a second never holds a post back; the storm, 4e, exercises pacing); 4a and 4b are the two posts of the same alerts.",
    `**How:** sequential, a new issue each time, after an idle gap drawn uniformly from ${IDLE_GAP_MS.min / 1000}–${IDLE_GAP_MS.max / 1000} s: by then the ` +
      "queue listeners have backed off to (or near) their idle polling and are met at a random phase. A busy app, with listeners polling hot, is faster " +
      `(see the storm). ${r.warmup} warm-up alerts excluded. The split comes from the host's log (each invocation's end time and duration). ` +
      "Both listeners back off from about the same moment (the previous alert), so they tend to poll in step: the `deliveries` wait depends on " +
      "how their schedules line up and can differ between runs by up to a polling interval; compare runs on the total's p95 rather than its median.",
    markdownTable({ headers: ["", ...SUMMARY_HEADERS], rows: [["alert → card posted", ...summaryCells(r.totalMs, ms)]] }),
    markdownTable({
      headers: ["where the time goes", "median", "p95", "max"],
      rows: r.stages.map((stage) => [stage.label, ...summaryCells(stage.ms, ms).slice(1)]),
    }),
  ].join("\n\n");
}

export function teamsInvokeSection(r: TeamsInvokeResult): string {
  return [
    "**What:** a person clicking Resolve, then Unresolve, … on the same card (`Action.Execute`, `adaptiveCard/action` invoke): the HTTP time of " +
      "`POST /api/messages` until the response carrying the re-rendered card. This includes JWT validation, the tenant and service-URL checks, the " +
      "ETag write of the issue and the activity, and the render.",
    `**How:** the invoke's token is signed before the clock starts; each click uses the button of the card the previous response returned; ` +
      `${PAUSE_BETWEEN_CLICKS_MS} ms between clicks; ${r.warmup} warm-up clicks excluded. Every response is checked to show the new state.`,
    markdownTable({
      headers: ["", ...SUMMARY_HEADERS, "deadline"],
      rows: [["invoke → HTTP response", ...summaryCells(r.responseMs, ms), "10–15 s"]],
    }),
  ].join("\n\n");
}

export function slackClicksSection(r: SlackClickResult): string {
  return [
    "**What:** a person clicking Resolve, then Unresolve, … on the same Slack message (`block_actions`), as the Slack emulator sends it (signed, form-encoded). " +
      "*Ack*: the HTTP time of `POST /api/slack/interactions` until the 200. *Replaced*: from the click until the request replacing the clicked message " +
      "(the app's `response_url` post, `replace_original`) arrived at the emulator.",
    `**How:** each click uses the button the message shows after the previous one; ${PAUSE_BETWEEN_CLICKS_MS} ms between clicks; ${r.warmup} warm-up clicks ` +
      "(the first links the Slack user by email) excluded. Every click is checked to leave the message showing the new state.",
    markdownTable({
      headers: ["", ...SUMMARY_HEADERS, "deadline"],
      rows: [
        ["click → HTTP 200 (ack)", ...summaryCells(r.ackMs, ms), "3 s (Slack)"],
        ["click → clicked message replaced", ...summaryCells(r.updatedMs, ms), "2 s (app's goal)"],
      ],
    }),
  ].join("\n\n");
}

export function stormSection(r: StormResult): string {
  const rows = r.deliveryRows;
  const finalRows = (["Teams", "Slack"] as const).map((platform) => {
    const last = r.lastConvergedMs[platform];
    const stale = r.staleCards.filter((card) => card.platform === platform).length;
    return [
      `… the ${r.issues} ${platform} cards`,
      stale ? `**never**: ${stale} stale${last === undefined ? "" : `, the others by ${seconds(last)}`}` : seconds(last ?? Number.NaN),
      "—",
    ];
  });
  const allFinal = r.cardsFinalMs !== undefined ? seconds(r.cardsFinalMs) : `**never**: ${r.staleCards.length} stale`;
  return [
    `**What:** ${count(r.alerts)} alerts for ${r.issues} issues of one project, which a Teams channel and a Slack channel subscribe to (as test/e2e/storm.test.ts), ` +
      `sent ${SEND_CONCURRENCY} at a time as fast as Azurite takes them; each issue's count moves forward with every alert, and each issue is assigned ` +
      "and unassigned a few times meanwhile (*Threads*, below). App settings are the defaults " +
      "(card-refresh coalescing 5 s; the e2e storm test uses 10 s).",
    "**How:** times from the first send. *Taken*: the last alerts-queue invocation to succeed (host log), i.e. the issue row updated and the deliveries " +
      "planned. *Settled*: the last delivery logged as sent or dead. *Cards final*: the first request that brought the last card to the final count " +
      "arrived at the emulator; a card still behind once every delivery is settled and the app's queues are empty (twice, 1 s apart) is *stale*. " +
      "Delivery rows are counted in the `deliveries` table afterwards.",
    markdownTable({
      headers: ["milestone", "after", "rate"],
      rows: [
        [`all ${count(r.alerts)} alerts on the queue`, seconds(r.enqueueMs), `${rate(r.alerts, r.enqueueMs)} alerts/s`],
        [`all ${count(r.alerts)} alerts taken`, seconds(r.takenMs), `${rate(r.alerts, r.takenMs)} alerts/s`],
        [`all ${count(r.alerts * 2)} deliveries settled`, seconds(r.settledMs), `${rate(r.alerts * 2, r.settledMs)} deliveries/s`],
        [`all ${r.issues * 2} cards show the final count`, allFinal, "—"],
        ...finalRows,
      ],
    }),
    markdownTable({
      headers: ["updates per card", "cards", "median", "p95", "max"],
      rows: [
        ["Teams PUT (successful)", ...[r.teamsPutsPerCard.n, r.teamsPutsPerCard.median, r.teamsPutsPerCard.p95, r.teamsPutsPerCard.max].map(String)],
        [
          "Slack chat.update (ok)",
          ...[r.slackUpdatesPerCard.n, r.slackUpdatesPerCard.median, r.slackUpdatesPerCard.p95, r.slackUpdatesPerCard.max].map(String),
        ],
      ],
    }),
    r.staleCards.length === 0
      ? ""
      : markdownTable({
          headers: ["stale card", "shows", "final", "posted at", "issue's last card refresh at"],
          rows: r.staleCards.map((c) => [
            `${c.platform} ${c.issueId}`,
            String(c.shows),
            String(c.final),
            ms(c.postedMs),
            c.lastRefreshMs === undefined ? "none" : ms(c.lastRefreshMs),
          ]),
        }),
    `Slack \`chat.update\` calls in the busiest minute: ${r.slackUpdatesBusiestMinute} (Slack allows ${TIER_PER_MINUTE[3]} a minute per workspace, Tier 3; the app paces itself to that).`,
    `Host work during the storm (its log): alertsQueue took median ${ms(r.work.alertsQueueMs.median)}, p95 ${ms(r.work.alertsQueueMs.p95)}, max ` +
      `${ms(r.work.alertsQueueMs.max)} per alert (n = ${count(r.work.alertsQueueMs.n)}); ${count(r.work.refreshRuns)} cardRefreshQueue invocations, the last ending at ` +
      `${seconds(r.work.lastRefreshMs)} (${count(r.work.refreshRunsAfterSettled)} of them after the last delivery settled); failed invocations (retried): ${failureList(r.work.failures)}.`,
    threadsSection(r),
    `Throttling seen: ${r.throttled.teams429} Teams 429s, ${r.throttled.slackRateLimited} Slack \`ratelimited\`. ` +
      `Delivery rows: ${count(rows.total)} (${count(rows.sent)} sent, ${count(rows.dead)} dead, ${count(rows.pending)} pending) of ${count(r.alerts * 2)} expected.`,
  ]
    .filter(Boolean)
    .join("\n\n");
}

/** The conversation around the storm's cards: what each channel received, and how far the lines coalesced the changes. */
function threadsSection(r: StormResult): string {
  const c = r.changes;
  const platforms = ["Teams", "Slack"] as const;
  const ratio = (p: ChannelPosts) => (p.lines === 0 ? "—" : `${(p.changesCovered / p.lines).toFixed(1)} changes a line`);
  return [
    `**Threads (on, the default):** while the alerts are being taken, someone assigns every issue to ${ASSIGNEE} and unassigns it, through ` +
      `\`PATCH /api/issues/{id}\` as ${ACTOR}: ${CHANGE_ROUNDS} rounds, with pauses of ${ROUND_GAPS_MS.map((gap) => seconds(gap)).join(" and ")} between them ` +
      "(inside, then past the coalescing window), starting once every issue's cards are up on both " +
      "platforms (a line goes only to a card that was live when the change was made). Assignment rather than resolve: a resolved issue regresses on its " +
      "next alert and gets a new card, which a storm would do at once. Posts are the emulators' successful requests into each channel; lines per card " +
      "are the replies in each storm card's thread once the app's queues are empty (lines wait for the issue to be quiet " +
      "for the card-refresh coalescing window); *changes covered* are those made after the card was posted, summed over the cards.",
    `State changes: ${count(c.made)} made of ${count(c.requests)} requests (${count(c.failed)} answered other than 200), ` +
      `from ${seconds(c.firstMs)} to ${seconds(c.lastMs)} after the first send (the last alert was taken at ${seconds(r.takenMs)}).`,
    markdownTable({
      headers: [
        "channel",
        "posts",
        "cards",
        "thread replies",
        "lines per card min",
        "median",
        "max",
        "changes covered",
        "coalescing",
        "cards with changes but no line",
        "429s on cards",
        "429s on replies",
      ],
      rows: platforms.map((platform) => {
        const p = r.channels[platform];
        return [
          platform,
          count(p.cards + p.threadReplies),
          count(p.cards),
          count(p.threadReplies),
          String(p.linesPerCard.min),
          String(p.linesPerCard.median),
          String(p.linesPerCard.max),
          count(p.changesCovered),
          ratio(p),
          count(p.cardsWithoutLine),
          count(p.throttledCards),
          count(p.throttledReplies),
        ];
      }),
    }),
  ].join("\n\n");
}

function failureList(failures: Record<string, number>): string {
  const entries = Object.entries(failures);
  return entries.length ? entries.map(([fn, n]) => `${fn} ${n}`).join(", ") : "none";
}

export function concurrentClicksSection(r: ConcurrentClicksResult): string {
  const noopAt = new Map(r.noop.map((row) => [row.concurrency, row.responseMs.median]));
  const ratio = (value: number, concurrency: number) => `${(value / noopAt.get(concurrency)!).toFixed(1)} ×`;
  return [
    `**What:** c people click at the same instant (c = ${CONCURRENCIES.join(", ")}), each on the card of a different issue, or all on the one card of one issue, ` +
      "on Teams (an `Action.Execute` invoke; its response carries the re-rendered card, so the ack *is* the clicked card updated) and on Slack " +
      "(a button click: the HTTP 200, then the clicked message replaced, by the app's response_url post or, for a click handed to the " +
      "`slack-actions` queue, by whatever replaces it first). Each click toggles Resolve/Unresolve as the card it was taken from shows it. " +
      "On one issue the first click changes it and the others find it already changed (an ephemeral line on Slack, the card as it is on Teams); " +
      "the clicked message is then replaced once, for everyone looking at it.",
    `**Against a no-op:** a second host process serves \`${NOOP_APP}\` (one HTTP function that reads the body and answers 200) with the same local host ` +
      "and host.json, started beside the app's. Just before each concurrency's clicks, the same client sends it the same signed click bodies at " +
      "the same concurrency, three times as many rounds as a row of clicks. The ratio is the click's median over the no-op's median at that concurrency. Goal: at 20 concurrent, ≤ " +
      `${CLICK_RATIO_GOAL} × on both platforms.`,
    `**How:** about ${r.samplesPerRow} clicks per row (rounds of c simultaneous clicks, at least 2 rounds), ${PAUSE_BETWEEN_ROUNDS_MS} ms between rounds after every ` +
      "clicked card shows its new state and the `slack-actions` queue is empty; each row (and the no-op) starts once the app's queues are " +
      "empty, so the card refreshes a row's changes announced don't run during the next. Warm-up first, excluded: every clicker clicks once, " +
      `${r.warmupBatch} at a time, on both platforms (it also links them: a first click reads the clicker's profile from the platform). ` +
      "Times are the client's (the benchmark process, which also runs the emulators), from sending the request.",
    markdownTable({
      headers: ["concurrency", "no-op n", "no-op median", "p95", "max"],
      rows: r.noop.map((row) => [String(row.concurrency), String(row.responseMs.n), ...summaryCells(row.responseMs, ms).slice(1)]),
    }),
    markdownTable({
      headers: [
        "platform",
        "clicks on",
        "c",
        "n",
        "ack median",
        "p95",
        "max",
        "card updated median",
        "p95",
        "max",
        "ack ÷ no-op",
        "updated ÷ no-op",
        "handed off",
        "ack past 3 s",
      ],
      rows: r.rows.map((row) => [
        row.platform,
        row.mode,
        String(row.concurrency),
        String(row.ackMs.n),
        ...summaryCells(row.ackMs, ms).slice(1),
        ...summaryCells(row.updatedMs, ms).slice(1),
        ratio(row.ackMs.median, row.concurrency),
        ratio(row.updatedMs.median, row.concurrency),
        row.platform === "Slack" ? count(row.handedOff) : "—",
        row.platform === "Slack" ? count(row.pastDeadline) : "—",
      ]),
    }),
  ].join("\n\n");
}
