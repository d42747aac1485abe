// One table of clicks and commands, run against Teams and Slack through their HTTP adapters (the local host,
// the Bot Connector and Slack emulators): the same flow, so the same outcome, each in its platform's words.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { Status } from "../../shared/domain/issue";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

/** One platform as a person uses it: clicks a button on the card they see, types a command, reads the answer. */
interface Platform {
  name: string;
  issueId: string;
  setUp(): Promise<void>;
  /** Clicks `label` on the card as the clicker last saw it; what they are shown. */
  click(label: string): Promise<string>;
  /** Types a command in the alerts channel; the answer they are shown. */
  command(text: string): Promise<string>;
}

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

function teams(): Platform {
  const issueId = "table-teams";
  let ana: TeamsUser;
  let team: TeamsTeam;
  let posted: { activityId: string };
  let seen: unknown;
  const messagesUrl = () => `${stack.api}/messages`;
  return {
    name: "Teams",
    issueId,
    async setUp() {
      ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
      team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
      await stack.teams.post(messagesUrl(), stack.teams.botAddedToTeam({ team, from: ana }));
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({ alertId: `${issueId}-1`, issue: { id: issueId }, targets: [{ provider: "msteams", conversationId: team.generalChannelId }] }),
      );
      const message = await waitFor(
        () => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("TypeError")),
        { timeoutMs: 15_000 },
      );
      posted = { activityId: message.activityId };
      seen = cardOf(message.activity);
    },
    async click(label) {
      const button = action(seen, label);
      const response = await stack.teams.post(
        messagesUrl(),
        stack.teams.invokeAction({
          conversation: team.generalChannelId,
          from: ana,
          replyToId: posted.activityId,
          verb: button.verb!,
          data: button.data,
        }),
      );
      expect(response.status).toBe(200);
      const body = response.body as { type: string; value: unknown };
      expect(body.type).toBe("application/vnd.microsoft.card.adaptive");
      seen = body.value;
      return cardText(body.value);
    },
    async command(text) {
      const before = stack.teams.messages(team.generalChannelId).length;
      const response = await stack.teams.post(messagesUrl(), stack.teams.message({ conversation: team.generalChannelId, from: ana, text }));
      expect(response.status).toBe(200);
      const replies = await waitFor(() => {
        const after = stack.teams
          .messages(team.generalChannelId)
          .slice(before)
          .filter((m) => m.activity.text !== undefined && (m.activity.from as { id?: string } | undefined)?.id !== ana.id);
        return after.length ? after : undefined;
      });
      return replies.map((m) => String(m.activity.text)).join("\n");
    },
  };
}

function slack(): Platform {
  const issueId = "table-slack";
  let teamId: string;
  let channel: string;
  let ana: string;
  let posted: { ts: string };
  let seen: unknown;
  return {
    name: "Slack",
    issueId,
    async setUp() {
      teamId = await installSlackWorkspace(stack, "Contoso");
      channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
      ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({ alertId: `${issueId}-1`, issue: { id: issueId }, targets: [{ provider: "slack", teamId, channel }] }),
      );
      const message = await waitFor(
        () => stack.slack.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${issueId}`)),
        { timeoutMs: 15_000 },
      );
      posted = { ts: message.ts };
      seen = message.blocks;
    },
    async click(label) {
      const before = stack.slack.responses.length;
      const payload = stack.slack.blockActions({ teamId, user: ana, channel, messageTs: posted.ts, actions: [click(seen, label)] });
      expect((await stack.slack.sendInteraction(`${stack.api}/slack/interactions`, payload)).status).toBe(200);
      // The answer comes through the response_url once Slack has its ack (or from the worker).
      const [reply] = await waitFor(() => (stack.slack.responses.length > before ? stack.slack.responses.slice(before) : undefined), {
        timeoutMs: 15_000,
      });
      const body = reply!.body as { replace_original?: boolean; text?: string; blocks?: unknown };
      if (body.replace_original) seen = body.blocks;
      return body.replace_original ? blocksText(body.blocks) : String(body.text);
    },
    async command(text) {
      const reply = await stack.slack.sendCommand(
        `${stack.api}/slack/commands`,
        stack.slack.slashCommand({ teamId, user: ana, channel, command: "/triage", text }),
      );
      expect(reply.status).toBe(200);
      return (reply.json as { text: string }).text;
    },
  };
}

type Step = { name: string; click: string; sees: RegExp; status: Status; assignee?: string | null } | { name: string; command: string; sees: RegExp };

/** The table: in order, each step after the one before it, as one person (Ana, whose platform verified ana@contoso.com). */
const TABLE: Step[] = [
  { name: "help lists the subscription commands", command: "help", sees: /subscribe PROJECT \[LEVEL\][\s\S]*unsubscribe PROJECT/ },
  { name: "an unknown command says so and helps", command: "frobnicate", sees: /I don't know "frobnicate"/ },
  { name: "subscribe without a project shows the usage", command: "subscribe", sees: /Usage: (\/triage )?subscribe PROJECT \[LEVEL\]/ },
  { name: "subscribe with a level that isn't one says which are", command: "subscribe checkout loud", sees: /"loud" is not a level/ },
  {
    name: "Resolve: a verified clicker is linked on the way and sees the resolved card",
    click: "Resolve",
    sees: /Resolved by Ana Lima/,
    status: "resolved",
  },
  { name: "status after the click: linked automatically", command: "status", sees: /You're linked as ana@contoso\.com \(automatically/ },
  { name: "Unresolve", click: "Unresolve", sees: /Unresolved by Ana Lima/, status: "unresolved" },
  { name: "Assign to me", click: "Assign to me", sees: /Ana Lima/, status: "unresolved", assignee: "ana@contoso.com" },
  {
    name: "Assign to me again: nothing changes, and the clicker is told why",
    click: "Assign to me",
    sees: /already assigned/,
    status: "unresolved",
    assignee: "ana@contoso.com",
  },
  {
    name: "subscribe checkout warning",
    command: "subscribe checkout warning",
    sees: /Subscribed: alerts for \*{1,2}checkout\*{1,2} at level warning or above/,
  },
  { name: "subscriptions lists it", command: "subscriptions", sees: /\*{1,2}checkout\*{1,2} \(warning and above\)/ },
  { name: "unsubscribe checkout", command: "unsubscribe checkout", sees: /Unsubscribed (this channel )?from \*{1,2}checkout\*{1,2}/ },
  { name: "unsubscribe again: it wasn't subscribed", command: "unsubscribe checkout", sees: /wasn't subscribed to \*{1,2}checkout/ },
  { name: "subscriptions: none left", command: "subscriptions", sees: /No subscriptions/ },
  {
    name: "subscribe with --no-thread: no replies under the cards",
    command: "subscribe checkout info --no-thread",
    sees: /Subscribed: alerts for \*{1,2}checkout\*{1,2} at level info or above will be posted [^.]*, without (thread )?replies saying who did what/,
  },
  { name: "unsubscribe it again", command: "unsubscribe checkout", sees: /Unsubscribed (this channel )?from \*{1,2}checkout\*{1,2}/ },
  { name: "notify with another word shows the usage", command: "notify loud", sees: /Usage: (\/triage )?notify on\|off/ },
  { name: "notify off: no personal message when assigned", command: "notify off", sees: /Notices off/ },
  { name: "notify on: they're back", command: "notify on", sees: /Notices on/ },
  { name: "unlink", command: "unlink", sees: /You're unlinked \(you were ana@contoso\.com\)/ },
  { name: "status after unlinking: not linked (and not linked again behind their back)", command: "status", sees: /You're not linked to anyone yet/ },
  {
    name: "a click from someone unlinked: a link prompt, nothing changed",
    click: "Unassign",
    sees: /link your (Slack )?account/i,
    status: "unresolved",
    assignee: "ana@contoso.com",
  },
];

for (const platform of [teams(), slack()]) {
  describe(`the click and command table through ${platform.name}'s adapter`, () => {
    beforeAll(() => platform.setUp(), 60_000);

    for (const step of TABLE) {
      it(step.name, async () => {
        if ("command" in step) {
          expect(await platform.command(step.command)).toMatch(step.sees);
          return;
        }
        expect(await platform.click(step.click)).toMatch(step.sees);
        const issue = (await new IssueRepository(stack.storage).get(platform.issueId))!.issue;
        expect(issue.status).toBe(step.status);
        if (step.assignee !== undefined) expect(issue.assignee?.email ?? null).toBe(step.assignee);
      });
    }
  });
}
