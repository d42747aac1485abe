// Azure Monitor names its alerts' project after the monitoring service ("Resource Health"): a Slack channel and a
// Teams channel subscribe to it with the name in quotes (curly ones, as Teams and phones type them), and the
// Resource Health alert's card comes to both. Through the built app, Azurite and the Slack and Teams emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { sampleText } from "../unit/ingest/fixtures";
import { swallowedMarkup } from "../unit/cards/teams-markup";
import { waitFor } from "../support/wait";
import { cardOf, cardText } from "./card-helpers";
import { blocksText } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

const TOKEN = "ingest-token-for-project-names-e2e-0123456789";
/** The fixture's alert rule: its card's title. */
const RULE = "VM health - wcus-r2-gen2";

let stack: Stack;
let teamId: string;
let ana: string;
let slackChannel: string;
let ben: TeamsUser;
let team: TeamsTeam;

beforeAll(async () => {
  stack = await startStack({ env: { INGEST_TOKENS: TOKEN } });
  teamId = await installSlackWorkspace(stack, "Contoso");
  ana = stack.slack.addUser(teamId, { name: "ana", realName: "Ana Lima", email: "ana@contoso.com" }).id;
  slackChannel = stack.slack.addChannel(teamId, { name: "azure-health" }).id;
  ben = stack.teams.addUser({ name: "Ben Okafor", email: "ben@contoso.com" });
  team = stack.teams.addTeam({ name: "Ops", members: [ben] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ben }));
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** What Ana sees after typing `/triage <text>` in the Slack channel. */
async function triage(text: string): Promise<string> {
  const reply = await stack.slack.sendCommand(
    `${stack.api}/slack/commands`,
    stack.slack.slashCommand({ teamId, user: ana, channel: slackChannel, command: "/triage", text }),
  );
  expect(reply.status).toBe(200);
  return (reply.json as { text: string }).text;
}

/** What Ben sees after @mentioning the bot with `text` (as Teams delivers it) in the team's General channel. */
async function mention(text: string): Promise<string> {
  const before = stack.teams.messages(team.generalChannelId).length;
  const response = await stack.teams.post(`${stack.api}/messages`, stack.teams.message({ conversation: team.generalChannelId, from: ben, text }));
  expect(response.status).toBe(200);
  const [answer] = stack.teams.messages(team.generalChannelId).slice(before);
  expect(answer, `an answer to "${text}"`).toBeDefined();
  return String(answer!.activity.text);
}

describe("subscribing to a project whose name has spaces", () => {
  it("Slack: /triage subscribe with the name in quotes", async () => {
    expect(await triage('subscribe "Resource Health" warning')).toBe(
      "Subscribed: alerts for *Resource Health* at level warning or above will be posted in this channel. Make sure the app can post here (invite it to private channels).",
    );
  });

  it("Teams: the name in curly quotes, as Teams types them", async () => {
    expect(await mention("subscribe “Resource Health” warning --no-thread")).toBe(
      "Subscribed: alerts for **Resource Health** at level warning or above will be posted in this conversation, without thread replies saying who did what.",
    );
  });

  it("the Resource Health alert from Azure Monitor gets its card in both channels", async () => {
    const response = await fetch(`${stack.api}/ingest/azure-monitor?token=${TOKEN}`, {
      method: "POST",
      body: sampleText("azure-monitor-resource-health-unavailable"),
    });
    expect(response.status).toBe(202);
    await waitFor(() => stack.slack.messages(slackChannel).find((m) => !m.ephemeral && blocksText(m.blocks).includes(RULE)), {
      timeoutMs: 30_000,
      description: "the card in the Slack channel",
    });
    await waitFor(() => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes(RULE)), {
      timeoutMs: 30_000,
      description: "the card in the Teams channel",
    });
  });

  it("`subscriptions` lists the name in quotes, ready to copy into unsubscribe", async () => {
    expect(await triage("subscriptions")).toBe('Subscribed in this channel:\n\n• *"Resource Health"* (warning and above)');
    const teamsList = await mention("subscriptions");
    expect(teamsList).toBe('Subscribed in this conversation:\n\n- **"Resource Health"** (warning and above)');
    expect(swallowedMarkup(teamsList)).toEqual([]);
  });

  it("unsubscribe with the name in quotes; Teams' HTML-encoded quotes work too", async () => {
    expect(await triage('unsubscribe "Resource Health"')).toBe("Unsubscribed from *Resource Health*.");
    expect(await triage("subscriptions")).toMatch(/^No subscriptions in this channel yet/);
    // Teams may deliver a typed straight quote as the HTML entity.
    expect(await mention("unsubscribe &quot;Resource Health&quot;")).toBe("Unsubscribed from **Resource Health**.");
    expect(await mention("subscriptions")).toMatch(/^No subscriptions in this conversation yet/);
  });
});
