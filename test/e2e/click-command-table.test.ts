// One table of clicks and commands, run against Teams, Slack and Discord through their HTTP adapters (the local
// host, the Bot Connector, Slack and Discord emulators): the same flow, so the same outcome, each in its platform's words.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiscordUser } from "../../dev/emulators/discord";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { Status } from "../../shared/domain/issue";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { signInAs, TestBrowser } from "../support/browser";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { blocksText, click } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

/** One platform as a person uses it: clicks a button on the card they see, types a command, reads the answer. */
interface Platform {
  name: string;
  /** The platform vouches for its users' emails (Teams, Slack): a clicker is linked on the way. Discord doesn't: people link by sign-in. */
  verifiesEmail: boolean;
  issueId: string;
  setUp(): Promise<void>;
  /** Clicks `label` on the card as the clicker last saw it; what they are shown. */
  click(label: string): Promise<string>;
  /** Types a command in the alerts channel; the answer they are shown. */
  command(text: string): Promise<string>;
}

let stack: Stack;

/** A markdown reply (Teams, Discord) as it reads on screen: a backslash-escaped character shows as itself. */
const shownFromMarkdown = (text: string) => text.replace(/\\([\\`*_~|[\]<>#+\-=.)])/g, "$1");

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
    verifiesEmail: true,
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
        { timeoutMs: 30_000 },
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
      return shownFromMarkdown(replies.map((m) => String(m.activity.text)).join("\n"));
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
    verifiesEmail: true,
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
        { timeoutMs: 30_000 },
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
        timeoutMs: 30_000,
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

function discord(): Platform {
  const issueId = "table-discord";
  let channelId: string;
  let ana: DiscordUser;
  let messageId: string;
  let seen: { embeds?: unknown[]; components?: unknown[]; content?: string };
  const url = () => `${stack.api}/discord/interactions`;
  const emulator = () => stack.discord!;
  /** Positional words → the subcommand's named options, as Discord's client sends them. */
  const OPTION_NAMES: Record<string, string[]> = { subscribe: ["project", "level"], unsubscribe: ["project"], notify: ["state"] };
  const command = async (text: string) => {
    const [subcommand = "help", ...typed] = text.split(/\s+/);
    const names = OPTION_NAMES[subcommand] ?? [];
    // `--no-thread` is the boolean option `thread: false` in Discord's client.
    const words = typed.filter((word) => word !== "--no-thread");
    const options: Record<string, string | boolean> = Object.fromEntries(words.map((word, i) => [names[i] ?? `arg${i}`, word]));
    if (words.length < typed.length) options.thread = false;
    const answer = await emulator().sendInteraction(url(), emulator().slashCommand({ user: ana, channelId, subcommand, options }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ type: 4, data: { flags: 64 } });
    return shownFromMarkdown(String(answer.body!.data!.content));
  };
  return {
    name: "Discord",
    verifiesEmail: false,
    issueId,
    async setUp() {
      channelId = emulator().addGuild("Contoso", ["alerts"]).channels[0]!.id;
      ana = emulator().addUser("ana", "Ana Lima");
      await sendBase64Json(
        stack.azurite.connectionString,
        "alerts",
        anAlert({ alertId: `${issueId}-1`, issue: { id: issueId }, targets: [{ provider: "discord", channelId }] }),
      );
      const message = await waitFor(
        () =>
          emulator()
            .messages(channelId)
            .find((m) => JSON.stringify(m.components).includes(`~${issueId}`)),
        {
          timeoutMs: 30_000,
        },
      );
      messageId = message.id;
      seen = message;
      // Discord vouches for no email: Ana links by signing in, from `/triage link`.
      const link = /(http\S+\/api\/link\?token=\S+)/.exec(await command("link"))![1]!;
      if (!stack.oidc.people.some((p) => p.email === "ana@contoso.com")) stack.oidc.addPerson({ email: "ana@contoso.com", name: "Ana Lima" });
      const browser = new TestBrowser();
      expect((await browser.submitForm(await signInAs(browser, await browser.get(link), "ana@contoso.com"))).status).toBe(200);
    },
    async click(label) {
      type Component = { type: number; label?: string; custom_id: string; options?: { label: string; value: string }[] };
      const components = (seen.components as { components: Component[] }[]).flatMap((row) => row.components);
      const button = components.find((c) => c.label === label);
      const menu = components.find((c) => c.options?.some((o) => o.label === label));
      if (!button && !menu) throw new Error(`no "${label}" on the Discord card`);
      const values = menu && !button ? [menu.options!.find((o) => o.label === label)!.value] : undefined;
      const answer = await emulator().sendInteraction(
        url(),
        emulator().componentClick({ user: ana, channelId, messageId, customId: (button ?? menu)!.custom_id, values }),
      );
      expect(answer.status).toBe(200);
      const body = answer.body!;
      if (body.type === 7) {
        seen = body.data as typeof seen;
        return `${seen.content ?? ""}\n${JSON.stringify(seen.embeds)}`;
      }
      return String(body.data!.content);
    },
    command,
  };
}

type Step =
  | { name: string; click: string; sees: RegExp; status: Status; assignee?: string | null }
  | { name: string; command: string; sees: RegExp; seesWhenLinkedBySignIn?: RegExp };

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
  {
    name: "status after the click: linked automatically (or, where the platform vouches for no email, by sign-in)",
    command: "status",
    sees: /You're linked as ana@contoso\.com \(automatically/,
    seesWhenLinkedBySignIn: /You're linked as ana@contoso\.com \(by sign-in\)/,
  },
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
    sees: /link your (Slack |Discord )?account/i,
    status: "unresolved",
    assignee: "ana@contoso.com",
  },
];

for (const platform of [teams(), slack(), discord()]) {
  describe(`the click and command table through ${platform.name}'s adapter`, () => {
    beforeAll(() => platform.setUp(), 60_000);

    for (const step of TABLE) {
      it(step.name, async () => {
        if ("command" in step) {
          expect(await platform.command(step.command)).toMatch((!platform.verifiesEmail && step.seesWhenLinkedBySignIn) || step.sees);
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
