// (a) and (b): one alert for a new issue on the `alerts` queue → its card posted to Teams and to Slack.
//
// An alert arriving at a quiet app: before each alert the run idles for a random 2–4 s, by which time
// the queue listeners have backed off to (or near) their idle polling, every maxPollingInterval, and
// are met at a random phase. (With shorter gaps the two listeners' back-off schedules lock into one
// phase or another and the figure depends on which, not on the app.) Each alert targets both
// platforms, so one alert gives one sample of each. Slack targets rotate over several channels: the
// app paces posts per channel (about one a second, by design; the storm exercises that).
import type { AlertTarget } from "../../shared/domain/alert";
import { summarize, type Summary } from "../stats";
import { invocationLogging, invocations, type Invocation } from "./host-logs";
import { pause, slackPostedAt, teamsPostedAt, waitUntil } from "./observe";
import { alertFor, type World } from "./world";

export type Platform = "Teams" | "Slack";

export const IDLE_GAP_MS = { min: 2000, max: 4000 };

export interface AlertLatencyResult {
  platform: Platform;
  warmup: number;
  totalMs: Summary;
  /** Where the time went, from the host's log; stages add up to the total (±2 ms of log rounding). */
  stages: { label: string; ms: Summary }[];
  /** The issue measured last: its card is left live for the click benchmarks. */
  lastIssueId: string;
}

interface Sample {
  issueId: string;
  alertId: string;
  queuedAt: number;
  postedAt: Record<Platform, number>;
}

export async function measureAlertToCards(
  world: World,
  runs: number,
  warmup: number,
  progress: (line: string) => void,
): Promise<Record<Platform, AlertLatencyResult>> {
  const samples: Sample[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    await pause(IDLE_GAP_MS.min + Math.random() * (IDLE_GAP_MS.max - IDLE_GAP_MS.min));
    const sample = await alertToCards(world, `bench-alert-${String(i).padStart(4, "0")}`, i);
    if (i < warmup) continue;
    samples.push(sample);
    if ((i - warmup + 1) % 10 === 0) {
      const last = (platform: Platform) => `${platform} ${sample.postedAt[platform] - sample.queuedAt} ms`;
      progress(`alert → cards: ${i - warmup + 1}/${runs} (last: ${last("Teams")}, ${last("Slack")})`);
    }
  }
  // A deliveriesQueue invocation finishes (and logs) a little after its post arrived.
  const all = await waitUntil(() => loggedInFull(samples, invocations(world.stack.host.logs())), "the host's log of every invocation", 10_000);
  const result = (platform: Platform): AlertLatencyResult => ({
    platform,
    warmup,
    totalMs: summarize(samples.map((s) => s.postedAt[platform] - s.queuedAt)),
    stages: stagesOf(samples, all, platform),
    lastIssueId: samples.at(-1)!.issueId,
  });
  return { Teams: result("Teams"), Slack: result("Slack") };
}

async function alertToCards(world: World, issueId: string, n: number): Promise<Sample> {
  const { stack, teams, slack } = world;
  const alertId = `${issueId}-alert`;
  const slackChannel = slack.channels[n % slack.channels.length]!;
  const targets: AlertTarget[] = [
    { provider: "msteams", conversationId: teams.channel },
    { provider: "slack", teamId: slack.teamId, channel: slackChannel },
  ];
  await world.sendAlert(alertFor(issueId, alertId, targets));
  const queuedAt = Date.now();
  const posted = await waitUntil(() => {
    const onTeams = teamsPostedAt(stack, teams.channel, issueId);
    const onSlack = slackPostedAt(stack, slackChannel, issueId);
    return onTeams !== undefined && onSlack !== undefined ? { Teams: onTeams, Slack: onSlack } : undefined;
  }, `the cards for ${issueId}`);
  return { issueId, alertId, queuedAt, postedAt: posted };
}

const STAGES = [
  "waiting for the `alerts` queue poll",
  "alertsQueue: take the alert, plan the deliveries (and post a new issue's first cards, ≤ 3 targets)",
  "waiting for the `deliveries` queue poll (0 when the alerts handler posted)",
  "deliveriesQueue: render and post, until the post arrives (alerts handler: from its start)",
];

const TARGET_PREFIX: Record<Platform, string> = { Teams: "msteams:", Slack: "slack:" };

function invocationsOf(all: Invocation[], sample: Sample, platform: Platform) {
  return {
    taken: invocationLogging(all, "alertsQueue", `Alert for issue ${sample.issueId}:`),
    delivered: all.find(
      (i) =>
        (i.fn === "deliveriesQueue" || i.fn === "alertsQueue") &&
        i.lines.some(
          (line) =>
            line.startsWith(`Delivery ${TARGET_PREFIX[platform]}`) &&
            (line.endsWith(` of ${sample.alertId}: sent`) || line.endsWith(` of ${sample.alertId}: sent (posted by the alerts handler)`)),
        ),
    ),
  };
}

/** The invocations, once the host has logged every one involved; undefined until then. */
function loggedInFull(samples: Sample[], all: Invocation[]): Invocation[] | undefined {
  const complete = samples.every((sample) =>
    (["Teams", "Slack"] as const).every((platform) => {
      const { taken, delivered } = invocationsOf(all, sample, platform);
      return taken && delivered;
    }),
  );
  return complete ? all : undefined;
}

function stagesOf(samples: Sample[], all: Invocation[], platform: Platform): AlertLatencyResult["stages"] {
  const durations = STAGES.map(() => [] as number[]);
  for (const sample of samples) {
    const { taken, delivered } = invocationsOf(all, sample, platform);
    const byHandler = delivered!.fn === "alertsQueue";
    const split = byHandler
      ? [taken!.start - sample.queuedAt, sample.postedAt[platform] - taken!.start, 0, 0]
      : [taken!.start - sample.queuedAt, taken!.end - taken!.start, delivered!.start - taken!.end, sample.postedAt[platform] - delivered!.start];
    split.forEach((ms, i) => durations[i]!.push(ms));
  }
  return STAGES.map((label, i) => ({ label, ms: summarize(durations[i]!) }));
}
