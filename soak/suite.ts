// The fault suite: one stack, the phases in turn, each either measured or failed with its reason
// (one failing phase never loses the others' figures), then the host's whole log scanned.
import { attempt, type Outcome } from "../bench/outcome";
import { anAlert } from "../test/fixtures/issues";
import { runAlertFuzz, type AlertFuzzResult } from "./fuzz-alerts";
import { runConcurrency, type ConcurrencyResult } from "./concurrency";
import { runFaults, type FaultsResult } from "./faults";
import { runForged, type ForgedResult } from "./forged";
import { runHttpFuzz, type HttpFuzzResult } from "./fuzz-http";
import { postSlackSigned, postTeams, bearer } from "./inbound";
import { BODY_MARKER, scanLogs, type LogScanResult } from "./log-scan";
import { waitUntilQuiet } from "./quiet";
import type { SoakSettings } from "./settings";
import { addSlackWorkspace, addTeamsTeam, sendAlert, startSoakStack, viaProxy, type SoakStack } from "./stack";
import { setUpTarget } from "./targets";

export interface SoakResults {
  settings: SoakSettings;
  durationMs: number;
  forged: Outcome<ForgedResult>;
  httpFuzz: Outcome<HttpFuzzResult>;
  alertFuzz: Outcome<AlertFuzzResult>;
  faults: Outcome<FaultsResult>;
  concurrency: Outcome<ConcurrencyResult>;
  logs: Outcome<LogScanResult>;
  /** Host processes that died without being killed by the suite. */
  hostCrashes: number;
}

export async function runSoak(
  settings: SoakSettings,
  progress: (line: string) => void,
  onStack?: (stack: SoakStack) => () => void,
): Promise<SoakResults> {
  const started = Date.now();
  const log = progress;
  progress = (line) => log(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ${line}`);
  progress(`soak (${settings.scale}): seed ${settings.seed} (SOAK_SEED=${settings.seed} replays the fuzz inputs and faults)`);
  const stack = await startSoakStack({ leaseSeconds: settings.timing.leaseSeconds });
  const forget = onStack?.(stack);
  try {
    progress("stack up; setting up teams, workspaces and target issues");
    const phase = <T>(name: string, run: () => Promise<T>) => attempt(name, run, progress);
    // One Teams team and one Slack workspace for the targets of forged requests, fuzzing and clicks
    // (installing costs seconds); a fresh issue for each phase.
    const places = await attempt(
      "setting up a Teams team and a Slack workspace",
      async () => ({ teams: await addTeamsTeam(stack, "Soak"), slack: await addSlackWorkspace(stack, "Soak") }),
      progress,
    );
    const target = async (issueId: string) => {
      if (!places.ok) throw new Error(places.error);
      return setUpTarget(stack, "Soak", issueId, places.value);
    };
    const forged = await phase("forged inbound", async () => runForged(stack, await target("soak-forge"), settings.timing, progress));
    const httpFuzz = await phase("HTTP fuzz", async () =>
      runHttpFuzz(stack, await target("soak-fuzz"), settings.fuzzPerEndpoint, settings.seed, settings.concurrency, progress),
    );
    await waitUntilQuiet(stack, settings.timing, 120_000);
    const alertFuzz = await phase("alerts fuzz", () =>
      runAlertFuzz(stack, settings.fuzzAlerts, settings.seed, settings.concurrency, settings.timing, progress),
    );
    await waitUntilQuiet(stack, settings.timing, 120_000);
    const faults = await phase("faults", () =>
      runFaults(
        stack,
        {
          alerts: settings.faultAlerts,
          issues: settings.faultIssues,
          rate: settings.faultRate,
          seed: settings.seed,
          crash: settings.crash,
          timing: settings.timing,
        },
        progress,
      ),
    );
    const concurrency = await phase("concurrency", async () =>
      runConcurrency(stack, await target("soak-clash"), settings.clicks, settings.timing, progress),
    );
    const logs = await phase("log scan", async () => {
      await plantBodies(stack, settings);
      return scanLogs(stack.logs(), stack.secrets);
    });
    return {
      settings,
      durationMs: Date.now() - started,
      forged,
      httpFuzz,
      alertFuzz,
      faults,
      concurrency,
      logs,
      hostCrashes: stack.unexpectedExits(),
    };
  } finally {
    forget?.();
    progress("stopping the stack");
    await stack.stop();
  }
}

/** Texts people and producers write, with the marker, through each way in: none may reach a log line. */
async function plantBodies(stack: SoakStack, settings: SoakSettings): Promise<void> {
  const user = stack.teams.addUser({ name: "Body Writer", email: "writer@bodies.example" });
  await postTeams(stack, viaProxy(stack, stack.teams.personalInstall({ user })), await bearer(stack));
  await postTeams(
    stack,
    viaProxy(stack, stack.teams.message({ conversation: stack.teams.personalConversation(user), from: user, text: `help ${BODY_MARKER}` })),
    await bearer(stack),
  );
  const workspace = stack.slack.addWorkspace({ name: "Bodies" });
  const slackUser = stack.slack.addUser(workspace.teamId, { name: "writer", email: "writer@bodies.example" }).id;
  const channel = stack.slack.addChannel(workspace.teamId, { name: "bodies" }).id;
  await postSlackSigned(
    stack,
    "commands",
    new URLSearchParams(
      stack.slack.slashCommand({ teamId: workspace.teamId, user: slackUser, channel, command: "/triage", text: `subscribe ${BODY_MARKER}` }),
    ).toString(),
  );
  await postSlackSigned(
    stack,
    "events",
    JSON.stringify(
      stack.slack.eventCallback({
        teamId: workspace.teamId,
        event: { type: "app_mention", user: slackUser, channel, text: `<@U0BOT> ${BODY_MARKER}`, ts: "1700000000.000200" },
      }),
    ),
  );
  await sendAlert(
    stack,
    anAlert({ alertId: "soak-bodies-1", issue: { id: "soak-bodies", title: `Title ${BODY_MARKER}`, description: `Description ${BODY_MARKER}` } }),
  );
  await sendAlert(stack, { schemaVersion: 1, alertId: "soak-bodies-2", issue: { id: "soak-bodies", title: `Bad ${BODY_MARKER}` } });
  await waitUntilQuiet(stack, settings.timing, 30_000);
}
