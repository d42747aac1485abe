// (c) and (d): a person clicking Resolve / Unresolve on a live card, alternating on one issue.
// Each click is taken from the card as it is after the previous one, as a person would click it.
import { summarize, type Summary } from "../stats";
import { action, cardOf, cardText } from "../../test/e2e/card-helpers";
import { blocksText, click, controls } from "../../test/e2e/slack-helpers";
import { pause, waitUntil } from "./observe";
import type { World } from "./world";

/** Between clicks, so each meets an app that is not still busy with the previous one's HTTP work. */
export const PAUSE_BETWEEN_CLICKS_MS = 250;

export interface TeamsInvokeResult {
  warmup: number;
  /** POST /api/messages with the invoke → the HTTP response carrying the re-rendered card. */
  responseMs: Summary;
}

export interface SlackClickResult {
  warmup: number;
  /** POST /api/slack/interactions → HTTP 200 (Slack's ack). */
  ackMs: Summary;
  /** The click sent → the clicked message replaced (the response_url post arriving at Slack). */
  updatedMs: Summary;
}

const toggled = (text: string) => (/Resolved by/.test(text) ? "Unresolve" : "Resolve");
const expectedAfter = (button: string) => (button === "Resolve" ? "Resolved by" : "Unresolved by");

export async function measureTeamsInvokes(
  world: World,
  issueId: string,
  runs: number,
  warmup: number,
  progress: (line: string) => void,
): Promise<TeamsInvokeResult> {
  const { stack, teams } = world;
  const posted = stack.teams.messages(teams.channel).find((m) => JSON.stringify(m.activity).includes(issueId));
  if (!posted) throw new Error(`no Teams card for ${issueId} to click on`);
  let card = cardOf(posted.activity);
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const title = toggled(cardText(card));
    const button = action(card, title);
    const activity = stack.teams.invokeAction({
      conversation: teams.channel,
      from: teams.user,
      replyToId: posted.activityId,
      verb: button.verb!,
      data: button.data,
    });
    const token = await stack.teams.signChannelToken({ serviceUrl: stack.teams.serviceUrl });
    const started = performance.now();
    const response = await stack.teams.post(`${stack.api}/messages`, activity, { token });
    const elapsed = performance.now() - started;
    const body = response.body as { statusCode?: number; value?: unknown } | undefined;
    if (response.status !== 200 || body?.statusCode !== 200 || !cardText(body.value).includes(expectedAfter(title))) {
      throw new Error(`Teams ${title} invoke answered ${response.status}: ${response.text.slice(0, 300)}`);
    }
    card = body.value;
    if (i >= warmup) times.push(elapsed);
    await pause(PAUSE_BETWEEN_CLICKS_MS);
  }
  progress(`Teams invoke: ${runs} clicks`);
  return { warmup, responseMs: summarize(times) };
}

export async function measureSlackClicks(
  world: World,
  issueId: string,
  runs: number,
  warmup: number,
  progress: (line: string) => void,
): Promise<SlackClickResult> {
  const { stack, slack } = world;
  const original = stack.slack.messages().find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`"triage:${issueId}"`));
  if (!original) throw new Error(`no Slack card for ${issueId} to click on`);
  const { channel } = original;
  const ack: number[] = [];
  const updated: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const message = stack.slack.message(channel, original.ts)!;
    const label = toggled(blocksText(message.blocks));
    const control = controls(message.blocks).find((c) => c.label === label);
    if (!control) throw new Error(`no ${label} button on the Slack card`);
    const payload = stack.slack.blockActions({
      teamId: slack.teamId,
      user: slack.user,
      channel,
      messageTs: original.ts,
      actions: [click(message.blocks, label)],
    });
    const repliesBefore = stack.slack.responses.length;
    const sentAt = Date.now();
    const result = await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload);
    if (result.status !== 200) throw new Error(`Slack ${label} click answered ${result.timedOut ? "nothing within 3 s" : result.status}`);
    const since = { replies: repliesBefore, at: sentAt };
    const replacedAt = await waitUntil(
      () => replacedSince(world, original, since, expectedAfter(label)),
      `the Slack card to show "${expectedAfter(label)}"`,
    );
    if (i >= warmup) {
      ack.push(result.elapsedMs);
      updated.push(replacedAt - sentAt);
    }
    await pause(PAUSE_BETWEEN_CLICKS_MS);
  }
  progress(`Slack clicks: ${runs} clicks`);
  return { warmup, ackMs: summarize(ack), updatedMs: summarize(updated) };
}

/**
 * When the clicked message was replaced with the new state: the response_url post (the app's path),
 * or a later chat.update of that message (the card-refresh fallback), whichever came first.
 */
function replacedSince(
  world: World,
  clicked: { channel: string; ts: string },
  since: { replies: number; at: number },
  expected: string,
): number | undefined {
  const { stack } = world;
  const { channel, ts } = clicked;
  const message = stack.slack.message(channel, ts);
  if (!message || !blocksText(message.blocks).includes(expected)) return undefined;
  const viaResponseUrl = stack.slack.responses
    .slice(since.replies)
    .find((r) => r.status === 200 && (r.body as { replace_original?: boolean }).replace_original === true)?.at;
  if (viaResponseUrl !== undefined) return viaResponseUrl;
  return stack.slack.callsTo("chat.update").find((c) => c.ok && c.params.channel === channel && c.params.ts === ts && c.at >= since.at)?.at;
}
