import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { renderIssueCard } from "../../cards/render-issue-card";
import { decodeSlackAction } from "../../cards/slack-message";
import type { Issue } from "../../domain/issue";
import { ProfileReadThrottled, ProfileReadUnavailable } from "../../identity/auto-link";
import { slackLinkPrompt } from "../../identity/prompts";
import { CardRepository } from "../../storage/cards";
import { QUEUES } from "../../storage/clients";
import { IssueRepository } from "../../storage/issues";
import { clickNotice, runCardClick, type ClickOutcome } from "../../workflows/card-click";
import { actOnIssueAnnounceLater } from "../../workflows/issue-actions";
import { intentOf } from "./assign-choice";
import { ClickOutcomes, type RecordedOutcome } from "../../storage/slack-click-outcomes";
import { identifySlackUser } from "./identify";
import { SlackUnreachableError } from "../../slack/client";
import { blockActionsSchema, type BlockActions } from "../../slack/payloads";
import { checkSubscribedChannel, subscribeCheckSchema } from "./subscribe-check";
import { answerMention, mentionAnswerSchema } from "./mentions";
import { ephemeral, postToResponseUrl } from "../../slack/responses";
import type { SlackContext } from "../../context";
import { AckDeadline } from "./ack-deadline";

/** A click not finished by then goes to the slack-actions queue, leaving time to enqueue it when storage is slow. */
const HAND_OFF_AFTER_MS = 1_500;
/** Off the 3-second path (the worker) a response_url post may take this long. */
const WORKER_RESPONSE_URL_TIMEOUT_MS = 5_000;
/** How long the worker waits for the outcome of a change the click path was still writing when it handed off. */
const RECORDED_OUTCOME_WAIT_MS = 15_000;

const recordedOutcomeSchema = z.object({ kind: z.enum(["changed", "unchanged", "refused", "not-found"]), message: z.string().max(2000).optional() });

/**
 * A message on `slack-actions`: the click, whether the click path may have applied it already, and the
 * outcome when the click path applied it but ran out of time to answer; or (`kind: "subscribe-check"`) the
 * look at a channel after `/triage subscribe`; or (`kind: "mention"`) the answer to someone who mentioned the app.
 * A click has no `kind`, as before.
 */
export const slackActionMessageSchema = z.union([
  subscribeCheckSchema,
  mentionAnswerSchema,
  z.object({
    click: blockActionsSchema,
    mayBeApplied: z.boolean(),
    outcome: recordedOutcomeSchema.optional(),
    /** When Slack first throttled reading the clicker's profile for this click (ISO time). */
    throttledSince: z.iso.datetime().optional(),
  }),
  // Messages queued before `mayBeApplied` existed: the bare payload, never applied.
  blockActionsSchema.transform((click) => ({ click, mayBeApplied: false, outcome: undefined, throttledSince: undefined })),
]);
export type SlackActionMessage = z.infer<typeof slackActionMessageSchema>;

/**
 * A click on a card, inside Slack's 3 s: storage and at most one response_url post, never a Slack API call,
 * and an answer by SLACK_ACK_WITHIN_MS whatever storage does. An applied click is acknowledged as soon as its
 * change is written; the response_url post replacing the clicked message follows the ack at once. What isn't finished by HAND_OFF_AFTER_MS — or
 * needs Slack's API first (reading a new user's profile to link them, learning the single workspace's id) —
 * goes to the `slack-actions` queue and is finished there (a response_url works for 30 minutes).
 */
export async function handleClick(app: SlackContext, click: BlockActions, receivedAt = Date.now()): Promise<void> {
  const deadline = new AckDeadline(receivedAt);
  const run = new InlineRun(app, click, deadline);
  try {
    const work = processClick(app, click, run).catch((error: Error) => run.failed(error));
    const finished = await deadline.race(work, HAND_OFF_AFTER_MS);
    // Either hand the click off now, or (already answering) let the answer finish within the budget.
    if (!finished.inTime) await deadline.race<unknown>(run.handOff("not finished in time") ?? work);
  } finally {
    run.answered();
  }
}

type QueuedClick = Exclude<SlackActionMessage, { kind: string }>;

/** The `slack-actions` worker: a click finished, a subscribed channel checked, or a mention answered. */
export async function finishQueued(app: SlackContext, message: SlackActionMessage): Promise<void> {
  if (!("kind" in message)) return finishQueuedClick(app, message);
  if (message.kind === "mention") return answerMention(app, message);
  return checkSubscribedChannel(app, message);
}

/** A click off Slack's 3-second path: no deadline, Slack's API allowed. */
async function finishQueuedClick(app: SlackContext, message: QueuedClick): Promise<void> {
  const run = new WorkerRun(message.click);
  if (message.mayBeApplied) {
    const recorded = message.outcome ?? (await waitForRecordedOutcome(app, message.click));
    if (recorded) {
      app.log(`Slack: handed-off click answered from its recorded outcome (${recorded.kind})`);
      await run.reply(await answerFor(app, message.click, recorded));
      return;
    }
  }
  try {
    await processClick(app, message.click, run);
  } catch (error) {
    if (!(error instanceof ProfileReadUnavailable)) throw error;
    // Nothing was applied (who clicked comes first): the same click again once Slack lets the profile be read,
    // while its response_url (30 minutes) still has time to answer.
    const throttledSince = message.throttledSince ?? new Date().toISOString();
    if (Date.now() - Date.parse(throttledSince) > THROTTLED_CLICK_GIVE_UP_MS) {
      app.log("Slack: a queued click given up: Slack could not tell who clicked for 20 minutes");
      await run.reply(ephemeral(SLACK_TOO_BUSY));
      return;
    }
    const delaySeconds = Math.ceil((error.retryAfterSeconds ?? 10) * (1 + 0.2 * Math.random()));
    await app.storage.send(QUEUES.slackActions, { ...message, throttledSince }, { delaySeconds });
    const why =
      error instanceof ProfileReadThrottled
        ? "Slack throttled reading the clicker's profile"
        : `reading the clicker's profile failed (${error.reason})`;
    app.log(`Slack: a queued click waits ${delaySeconds}s: ${why}`);
  }
}

/** How long a click waits for Slack to let the clicker's profile be read: well inside its response_url's 30 minutes. */
const THROTTLED_CLICK_GIVE_UP_MS = 20 * 60_000;
const SLACK_TOO_BUSY = "Slack was too busy to tell us who you are, so nothing was changed. Click again in a minute.";

/**
 * Clicks on one issue in this instance take turns applying: fifty people clicking one card at once would
 * otherwise spend their seconds (and the instance's CPU) retrying each other's ETag writes. The worker waits
 * for its turn; the click path never waits: when the issue is busy here, the click is handed off at once.
 */
class TurnTaking {
  private readonly tails = new Map<string, Promise<void>>();

  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Joins the line for `key`: `ready` when every earlier turn is over; `release` ends this one (once). */
  enter(key: string): { ready: Promise<void>; release: () => void } {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    return {
      ready: previous,
      release: () => {
        done();
        if (this.tails.get(key) === tail) this.tails.delete(key);
      },
    };
  }
}

const issueTurns = new TurnTaking();

const SOMETHING_WENT_WRONG = "Something went wrong on our side, so this may not have been applied. Try again in a moment.";

/** Where a click is being handled: the HTTP request (a deadline, no Slack API) or the queue worker. */
interface Run {
  readonly inline: boolean;
  /** False once the click was handed off: the worker applies it and answers. */
  beginApply(): boolean;
  /** The applied outcome, when the click was handed off while it was being applied. */
  applied(outcome: RecordedOutcome): Promise<void>;
  /** The one answer to the clicker (response_url); nothing when the click was handed off. */
  reply(body: unknown): Promise<boolean>;
  /**
   * The answer to an applied click, then `then` (with whether the message was replaced): the click path posts
   * it once Slack has its ack, as Slack asks (ack first, then respond); the worker at once.
   */
  answerApplied(body: unknown, then: (replaced: boolean) => Promise<void>): Promise<void>;
  /** Sends the click to the worker (inline only); undefined when it is already being answered. */
  handOff(reason: string): Promise<unknown> | undefined;
  /** Time left to answer Slack. */
  remainingMs(): number;
  /**
   * Work the clicker doesn't wait for (announcing the change, marking the clicked copy rendered): the click
   * path starts it once Slack has its ack; the worker does it at once.
   */
  afterAnswer(work: () => Promise<unknown>): Promise<void>;
}

class InlineRun implements Run {
  readonly inline = true;
  private stage: "working" | "answering" | "handed-off" = "working";
  private applyStarted = false;
  private outcome?: RecordedOutcome;
  private handing?: Promise<boolean>;
  /** Work for after the ack; undefined once the ack is on its way (work added then starts at once). */
  private deferred: (() => Promise<unknown>)[] | undefined = [];

  constructor(
    private readonly app: SlackContext,
    private readonly click: BlockActions,
    private readonly deadline: AckDeadline,
  ) {}

  remainingMs(): number {
    return this.deadline.remainingMs();
  }

  beginApply(): boolean {
    if (this.stage !== "working") return false;
    this.applyStarted = true;
    return true;
  }

  async applied(outcome: RecordedOutcome): Promise<void> {
    this.outcome = outcome;
    if (this.stage !== "handed-off") return;
    // The worker is waiting for this to answer the clicker without applying the click again.
    await new ClickOutcomes(this.app.storage)
      .record(this.click, outcome)
      .catch((error: Error) => this.app.log(`Slack: could not record a handed-off click's outcome: ${error.name}`));
  }

  async reply(body: unknown): Promise<boolean> {
    if (this.stage !== "working" || !this.click.response_url) return false;
    this.stage = "answering";
    return postToResponseUrl(this.click.response_url, body, Math.max(1, this.remainingMs() - 50));
  }

  handOff(reason: string): Promise<boolean> | undefined {
    if (this.stage === "answering") return undefined;
    if (!this.handing) {
      this.stage = "handed-off";
      const message: QueuedClick = {
        click: withoutMessageCopy(this.click),
        mayBeApplied: this.applyStarted,
        ...(this.outcome ? { outcome: this.outcome } : {}),
      };
      this.handing = this.app.storage.send(QUEUES.slackActions, message).then(
        () => {
          this.app.log(`Slack: click handed to the slack-actions queue (${reason})`);
          return true;
        },
        async (error: Error) => {
          this.app.log(`Slack: a click could not be queued (${reason}): ${error.name}: ${error.message}`);
          // Not queued: the clicker must not take silence for success, even when the send failed after the ack (the
          // storage SDK retries a busy account for seconds); the ack never waits for this post (handleClick's race).
          if (this.click.response_url) {
            await postToResponseUrl(this.click.response_url, ephemeral(SOMETHING_WENT_WRONG), WORKER_RESPONSE_URL_TIMEOUT_MS);
          }
          return false;
        },
      );
    }
    return this.handing;
  }

  async afterAnswer(work: () => Promise<unknown>): Promise<void> {
    if (this.deferred) this.deferred.push(work);
    else this.start(work);
  }

  async answerApplied(body: unknown, then: (replaced: boolean) => Promise<void>): Promise<void> {
    const answering = this.stage === "working" && !!this.click.response_url;
    if (answering) this.stage = "answering";
    const url = this.click.response_url;
    await this.afterAnswer(async () => {
      const replaced = answering && url ? await postToResponseUrl(url, body, WORKER_RESPONSE_URL_TIMEOUT_MS) : false;
      await then(replaced);
    });
  }

  /** The ack is being sent: deferred work starts after this turn of the event loop, which writes it. */
  answered(): void {
    const deferred = this.deferred ?? [];
    this.deferred = undefined;
    if (deferred.length) setImmediate(() => deferred.forEach((work) => this.start(work)));
  }

  private start(work: () => Promise<unknown>): void {
    work().catch((error: Error) => this.app.log(`Slack: work after the ack failed: ${error.name}: ${error.message}`));
  }

  async failed(error: Error): Promise<void> {
    // Slack shows a bare warning icon for anything but a quick 200: answer 200 and say what happened instead.
    this.app.log(`Slack click failed: ${error.name}: ${error.message}`);
    await this.reply(ephemeral(SOMETHING_WENT_WRONG));
  }
}

/** Slack echoes the whole clicked message; only its ts is needed, and a queue message holds 64 KiB. */
function withoutMessageCopy(click: BlockActions): BlockActions {
  return click.message ? { ...click, message: { ts: click.message.ts } } : click;
}

class WorkerRun implements Run {
  readonly inline = false;
  constructor(private readonly click: BlockActions) {}
  remainingMs(): number {
    return Infinity;
  }
  beginApply(): boolean {
    return true;
  }
  async applied(): Promise<void> {}
  reply(body: unknown): Promise<boolean> {
    return this.click.response_url ? postToResponseUrl(this.click.response_url, body, WORKER_RESPONSE_URL_TIMEOUT_MS) : Promise.resolve(false);
  }
  handOff(): undefined {
    return undefined;
  }
  async afterAnswer(work: () => Promise<unknown>): Promise<void> {
    await work();
  }
  async answerApplied(body: unknown, then: (replaced: boolean) => Promise<void>): Promise<void> {
    await then(await this.reply(body));
  }
}

/**
 * Decide, store, and show the result to the clicker through the response_url; every other copy is
 * refreshed through the card-refresh queue the change announced.
 */
async function processClick(app: SlackContext, click: BlockActions, run: Run): Promise<void> {
  const teamId = click.team?.id ?? click.user.team_id;
  if (!teamId) return void (await run.reply(ephemeral("This action came without a workspace, so it can't be applied.")));
  const clicked = click.actions[0]!;
  // A URL button (the "Link your account" prompt) opens the link in the browser; Slack still tells us it was clicked.
  if (clicked.action_id === "triage.link" || (clicked.type === "button" && "url" in clicked)) return;
  const selected = clicked.selected_option?.value ?? clicked.value;
  const action = decodeSlackAction(clicked.action_id, selected, clicked.block_id, clicked.selected_user);
  if (!action) {
    app.log(`Slack: unknown action ${clicked.action_id.slice(0, 60)} refused`);
    return void (await run.reply(
      ephemeral("That button isn't one Triage Relay knows: the message may be from an older version. Nothing was changed."),
    ));
  }
  // The click path takes the issue's turn before its first read, or leaves the click to the worker at once.
  if (run.inline && issueTurns.busy(action.issueId)) return void (await run.handOff("another click on this issue is being applied here"));
  const turn = issueTurns.enter(action.issueId);
  try {
    return await decideAndApply(app, click, run, teamId, action, turn);
  } finally {
    turn.release();
  }
}

async function decideAndApply(
  app: SlackContext,
  click: BlockActions,
  run: Run,
  teamId: string,
  action: NonNullable<ReturnType<typeof decodeSlackAction>>,
  turn: { ready: Promise<void>; release: () => void },
): Promise<void> {
  const label = click.user.name ?? click.user.username ?? "a Slack user";
  const result = await runCardClick<unknown>(
    { provider: "slack", scope: teamId, issueId: action.issueId, requested: action.action },
    {
      identify: async () => {
        // Read together: whether the workspace is served, and the clicker's link.
        const [served, link] = await Promise.all([
          app.slack.serves(teamId, { askSlack: !run.inline }).catch((error: unknown) => {
            if (!(error instanceof SlackUnreachableError)) throw error;
            app.log(`Slack: a click not applied: ${error.message}`);
            return "unreachable" as const;
          }),
          app.identities.lookup("slack", teamId, click.user.id),
        ]);
        if (served === "unreachable")
          return {
            kind: "answer",
            text: "Triage Relay couldn't reach Slack to check this workspace, so nothing was changed. Click again in a minute.",
          };
        if (served === undefined) return { kind: "hand-off", reason: "the single workspace's id is not known in this instance yet" };
        if (!served)
          return {
            kind: "answer",
            text: "Triage Relay isn't installed in this workspace any more, so nothing was changed. Ask an admin to reinstall it.",
          };
        if (run.inline && !link.identity && app.config.autoLink && !link.optedOut) {
          return { kind: "hand-off", reason: "a user not linked yet: their Slack profile is read first" };
        }
        return identifySlackUser(app, teamId, click.user.id, label);
      },
      promptToLink: () => {
        app.log("Slack: click from an unlinked user: link prompt sent, nothing changed");
        return slackLinkPrompt(
          app.config,
          { teamId, userId: click.user.id, name: click.user.name ?? click.user.username, responseUrl: click.response_url },
          "To act on issues from Slack, link your Slack account to your work account first. Nothing was changed.",
        );
      },
      decide: () => intentOf(app, click, teamId, action, !run.inline),
      apply: async (issueAction, actor) => {
        await turn.ready;
        if (!run.beginApply()) return undefined;
        const applied = await actOnIssueAnnounceLater(app.storage, action.issueId, issueAction, actor);
        turn.release();
        return applied;
      },
      log: (line) => app.log(`Slack: ${line}`),
    },
  );
  switch (result.kind) {
    case "hand-off":
      return void (await run.handOff(result.reason));
    case "answer":
      return void (await run.reply(ephemeral(result.text)));
    case "link-needed":
      return void (await run.reply(result.prompt));
    case "given-away":
      return;
  }
  const { acted, outcome } = result;
  // The worker announces before answering, so that a failure there is retried from the queue as ever.
  if (!run.inline) await acted.announce();
  let answer: unknown;
  try {
    await run.applied(recorded(outcome));
    answer = await answerFor(app, click, recorded(outcome), outcome.kind === "changed" ? outcome.issue : undefined);
  } finally {
    // Marked first, so the card refresh the announcement queues spends no chat.update on the copy the clicker sees.
    const afterwards = async (replaced: boolean) => {
      try {
        if (replaced && outcome.kind === "changed") await markClickedCopyRendered(app, action.issueId, click, outcome.issue.version);
      } finally {
        await acted.announce();
      }
    };
    if (answer === undefined) await run.afterAnswer(() => afterwards(false));
    else await run.answerApplied(answer, afterwards);
  }
}

/** The outcome as the worker may need it, without the issue (it reads the issue itself). */
function recorded({ issue: _issue, ...outcome }: ClickOutcome): RecordedOutcome {
  return outcome;
}

/**
 * The one answer to the clicker: the clicked message replaced by the new card, or (nothing changed, or
 * refused) an ephemeral line; a stale copy is refreshed by the card-refresh the other change announced.
 */
async function answerFor(app: SlackContext, click: BlockActions, outcome: RecordedOutcome, issue?: Issue): Promise<unknown> {
  const notice = clickNotice(outcome);
  if (notice !== undefined) return ephemeral(notice);
  const teamId = (click.team?.id ?? click.user.team_id)!;
  const current = issue ?? (await currentIssue(app, click));
  if (!current) return ephemeral("Done.");
  return { replace_original: true, ...(await renderIssueCard(app.identities, current, { surface: "slack", scope: teamId })) };
}

async function currentIssue(app: SlackContext, click: BlockActions): Promise<Issue | undefined> {
  const clicked = click.actions[0]!;
  const action = decodeSlackAction(clicked.action_id, clicked.selected_option?.value ?? clicked.value, clicked.block_id, clicked.selected_user);
  return action ? (await new IssueRepository(app.storage).get(action.issueId))?.issue : undefined;
}

async function waitForRecordedOutcome(app: SlackContext, click: BlockActions): Promise<RecordedOutcome | undefined> {
  const outcomes = new ClickOutcomes(app.storage);
  if (!ClickOutcomes.key(click)) return undefined;
  const giveUpAt = Date.now() + RECORDED_OUTCOME_WAIT_MS;
  for (;;) {
    const found = await outcomes.get(click);
    // Not recorded in time: the click path stopped before its change was stored (or died); apply it here.
    if (found || Date.now() > giveUpAt) return found;
    await sleep(300);
  }
}

/** So the card-refresh this change announced doesn't spend a chat.update on the copy the clicker already sees. */
async function markClickedCopyRendered(app: SlackContext, issueId: string, click: BlockActions, version: number): Promise<void> {
  const teamId = click.team?.id ?? click.user.team_id;
  const channel = click.container?.channel_id ?? click.channel?.id;
  const ts = click.container?.message_ts ?? click.message?.ts;
  if (!teamId || !channel || !ts) return;
  await new CardRepository(app.storage).markClickedRendered({ provider: "slack", issueId, teamId, channel, ts }, version);
}
