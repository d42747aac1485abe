// Conflicting clicks at once: half from Teams (Action.Execute invokes), half from Slack (block_actions),
// all on one issue, all taken from the card as it was before any of them (as people looking at the same
// card click it). Measured: 5xx, answers Slack would have given up on, activity rows against changes
// applied (issue versions), and whether every copy of the card ends on the stored final state.
import { buildIssueView } from "../shared/cards/view";
import { IssueRepository } from "../shared/storage/issues";
import { TABLES } from "../shared/storage/clients";
import { escapeOData } from "../shared/storage/table";
import { cardOf, cardText, executeActions } from "../test/e2e/card-helpers";
import { blocksText, controls } from "../test/e2e/slack-helpers";
import type { Activity } from "../dev/emulators/teams";
import { bearer, interactionBody, postSlackSigned, postTeams, type Answer } from "./inbound";
import type { SoakTiming } from "./settings";
import { waitUntilQuiet } from "./quiet";
import { viaProxy, type SoakStack } from "./stack";
import type { Target } from "./targets";

export interface ConcurrencyResult {
  clicks: number;
  byStatus: Record<string, number>;
  serverErrors: number;
  /** Teams invokes answered "Something went wrong" (a 200 that hides a failure). */
  teamsWentWrong: number;
  /** Slack clicks answered after Slack's 3 s. */
  slackLate: number;
  appliedChanges: number;
  activityRows: number;
  copies: number;
  copiesNotFinal: number;
  finalState: string;
  examples: string[];
}

const SLACK_ACK_MS = 3_000;

export async function runConcurrency(
  stack: SoakStack,
  target: Target,
  clicks: number,
  timing: SoakTiming,
  progress: (line: string) => void,
): Promise<ConcurrencyResult> {
  const repository = new IssueRepository(stack.storage);
  // Both clickers linked first (a first Slack click links through the slack-actions queue), so the burst
  // measures contention only: one click each, whether it applies or is refused as stale.
  await postTeams(stack, viaProxy(stack, target.teamsResolve()), await bearer(stack));
  await postSlackSigned(stack, "interactions", interactionBody(target.slackResolve()));
  await waitUntilQuiet(stack, timing, 60_000);

  const before = await repository.get(target.issueId);
  const rowsBefore = await activityRows(stack, target.issueId);
  const teamsCard = cardOf(stack.teams.messages(target.teams.channel).find((m) => m.activityId === target.teamsCardId)!.activity);
  const teamsChoices = executeActions(teamsCard).filter(
    (a) => /Resolve|Ignore|Assign|Unassign/i.test(a.title) || /ignore|assign|resolve/.test(String(a.verb)),
  );
  const slackChoices = controls(stack.slack.message(target.slack.channel, target.slackTs)!.blocks);
  if (teamsChoices.length === 0 || slackChoices.length === 0) throw new Error("the cards offer no actions to click");

  const teamsClicks = Math.ceil(clicks / 2);
  const requests: (() => Promise<{ platform: "Teams" | "Slack"; answer: Answer; ms: number }>)[] = [];
  for (let i = 0; i < clicks; i++) {
    if (i < teamsClicks) {
      const choice = teamsChoices[i % teamsChoices.length]!;
      const activity: Activity = viaProxy(
        stack,
        stack.teams.invokeAction({
          conversation: target.teams.channel,
          from: target.teams.user,
          replyToId: target.teamsCardId,
          verb: choice.verb!,
          data: choice.data,
        }),
      );
      const authorization = await bearer(stack);
      requests.push(async () => timed("Teams", () => postTeams(stack, activity, authorization)));
    } else {
      const choice = slackChoices[i % slackChoices.length]!;
      const payload = stack.slack.blockActions({
        teamId: target.slack.teamId,
        user: target.slack.user,
        channel: target.slack.channel,
        messageTs: target.slackTs,
        actions: [
          choice.kind === "button" ? { action_id: choice.actionId } : { action_id: choice.actionId, selected_option: { value: choice.value! } },
        ],
      });
      requests.push(async () => timed("Slack", () => postSlackSigned(stack, "interactions", interactionBody(payload))));
    }
  }
  const answers = await Promise.all(requests.map((request) => request()));
  progress(`concurrency: ${clicks} clicks answered`);

  await waitUntilQuiet(stack, timing, 120_000);
  const after = (await repository.get(target.issueId))!;
  const view = buildIssueView(after.issue);
  const expected = [view.statusLine, ...(view.assigneeLine ? [view.assigneeLine] : [])];
  const teamsText = cardText(cardOf(stack.teams.messages(target.teams.channel).find((m) => m.activityId === target.teamsCardId)!.activity));
  const slackText = blocksText(stack.slack.message(target.slack.channel, target.slackTs)!.blocks);
  const copies = [
    { where: "Teams", text: teamsText },
    { where: "Slack", text: slackText },
  ];
  const examples: string[] = [];
  let copiesNotFinal = 0;
  for (const copy of copies) {
    const missing = expected.filter((line) => !copy.text.includes(line));
    const wrongAssignee = !view.assigneeLine && /Assigned to /.test(copy.text);
    if (missing.length || wrongAssignee) {
      copiesNotFinal++;
      examples.push(
        `${copy.where} copy lacks ${missing.map((m) => `"${m}"`).join(", ") || "nothing"}${wrongAssignee ? " and still shows an assignee" : ""}`,
      );
    }
  }

  const byStatus: Record<string, number> = {};
  for (const { answer } of answers) {
    const key = answer.failed ? "no answer" : String(answer.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const result: ConcurrencyResult = {
    clicks,
    byStatus,
    serverErrors: answers.filter(({ answer }) => answer.status >= 500 || answer.failed).length,
    teamsWentWrong: answers.filter(({ platform, answer }) => platform === "Teams" && /went wrong/i.test(answer.text)).length,
    slackLate: answers.filter(({ platform, ms }) => platform === "Slack" && ms > SLACK_ACK_MS).length,
    appliedChanges: after.issue.version - (before?.issue.version ?? 0),
    activityRows: (await activityRows(stack, target.issueId)) - rowsBefore,
    copies: copies.length,
    copiesNotFinal,
    finalState: expected.join(" · "),
    examples,
  };
  progress(`concurrency: ${result.appliedChanges} changes applied, ${result.activityRows} activity rows, ${copiesNotFinal} copies not final`);
  return result;
}

async function timed(platform: "Teams" | "Slack", run: () => Promise<Answer>): Promise<{ platform: "Teams" | "Slack"; answer: Answer; ms: number }> {
  const started = performance.now();
  const answer = await run();
  return { platform, answer, ms: performance.now() - started };
}

async function activityRows(stack: SoakStack, issueId: string): Promise<number> {
  const table = await stack.storage.table(TABLES.activities);
  let rows = 0;
  for await (const _ of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${escapeOData(issueId)}'`, select: ["RowKey"] } })) rows++;
  return rows;
}
