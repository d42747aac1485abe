// Issue 15, 4a: Resolve in the next release, clicked on Teams, through the host, Azurite and both emulators.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import { CardRepository } from "../../shared/storage/cards";
import { IssueRepository } from "../../shared/storage/issues";
import { anAlert } from "../fixtures/issues";
import { sendBase64Json } from "../support/queues";
import { waitFor } from "../support/wait";
import { action, cardOf, cardText } from "./card-helpers";
import { blocksText, controls } from "./slack-helpers";
import { installSlackWorkspace, startStack, type Stack } from "./stack";

let stack: Stack;
let ana: TeamsUser;
let team: TeamsTeam;
let teamId: string;
let channel: string;

const ISSUE = "release-issue";
const RESOLVED = "Resolved in the next release (after 1.2.3) by Ana Lima";
const REGRESSED = "Regressed: fired in 1.2.4, resolved in the next release after 1.2.3";

beforeAll(async () => {
  stack = await startStack({ env: { CARD_REFRESH_COALESCE_SECONDS: "1" } });
  ana = stack.teams.addUser({ name: "Ana Lima", email: "ana@contoso.com" });
  team = stack.teams.addTeam({ name: "Checkout", members: [ana] });
  await stack.teams.post(`${stack.api}/messages`, stack.teams.botAddedToTeam({ team, from: ana }));
  teamId = await installSlackWorkspace(stack, "Contoso");
  channel = stack.slack.addChannel(teamId, { name: "alerts" }).id;
});
afterAll(async () => {
  await stack?.stop();
});

const teamsCard = () => stack.teams.messages(team.generalChannelId).find((m) => cardText(cardOf(m.activity)).includes("TypeError"));
const slackCard = () => stack.slack.messages(channel).find((m) => !m.ephemeral && JSON.stringify(m.blocks).includes(`triage:${ISSUE}`));
const teamsText = () => cardText(cardOf(teamsCard()!.activity));
const slackText = () => blocksText(slackCard()!.blocks);
const stored = async () => (await new IssueRepository(stack.storage).get(ISSUE))!.issue;

async function alertFrom(release: string, n: number) {
  const lastSeen = new Date(Date.parse("2026-11-21T14:00:00.000Z") + n * 60_000).toISOString();
  await sendBase64Json(
    stack.azurite.connectionString,
    "alerts",
    anAlert({
      alertId: `release-alert-${n}`,
      issue: { id: ISSUE, count: 57 + n, lastSeen, tags: { release } },
      targets: [
        { provider: "msteams", conversationId: team.generalChannelId },
        { provider: "slack", teamId, channel },
      ],
    }),
  );
  return lastSeen;
}

describe("Resolve in the next release, end to end on Teams and Slack", () => {
  it("an alert from 1.2.3: both cards offer the three ways to resolve", async () => {
    await alertFrom("1.2.3", 0);
    await waitFor(async () => ((await new CardRepository(stack.storage).list(ISSUE)).length === 2 ? true : undefined), { timeoutMs: 30_000 });
    const card = cardOf(teamsCard()!.activity) as { actions: { type: string; title: string }[] };
    expect(card.actions[0]).toMatchObject({ type: "Action.ShowCard", title: "Resolve ▸" });
    expect(
      controls(slackCard()!.blocks)
        .filter((c) => c.actionId === "triage.resolve")
        .map((c) => [c.kind, c.label]),
    ).toEqual([
      ["option", "Resolve"],
      ["option", "In the current release"],
      ["option", "In the next release"],
    ]);
  });

  it("In the next release clicked on Teams: the clicked card, the Teams copy and the Slack copy say so", async () => {
    const posted = teamsCard()!;
    const next = action(cardOf(posted.activity), "In the next release");
    const response = await stack.teams.post(
      `${stack.api}/messages`,
      stack.teams.invokeAction({ conversation: team.generalChannelId, from: ana, replyToId: posted.activityId, verb: next.verb!, data: next.data }),
    );
    expect(response.status).toBe(200);
    expect(cardText((response.body as { value: unknown }).value)).toContain(RESOLVED);
    expect(await stored()).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    await waitFor(() => (teamsText().includes(RESOLVED) && slackText().includes(RESOLVED) ? true : undefined), { timeoutMs: 30_000 });
  });

  it("another alert from 1.2.3 leaves it resolved in the next release", async () => {
    const lastSeen = await alertFrom("1.2.3", 1);
    const issue = await waitFor(async () => ((await stored()).lastSeen === lastSeen ? stored() : undefined), { timeoutMs: 30_000 });
    expect(issue).toMatchObject({ status: "resolved", resolution: { inRelease: "next", release: "1.2.3" } });
    await waitFor(() => (teamsText().includes("Events: 58") && slackText().includes("58") ? true : undefined), { timeoutMs: 30_000 });
    expect(teamsText()).toContain(RESOLVED);
    expect(slackText()).toContain(RESOLVED);
  });

  it("an alert from 1.2.4 regresses it, and both cards say why", async () => {
    await alertFrom("1.2.4", 2);
    const issue = await waitFor(async () => ((await stored()).status === "unresolved" ? stored() : undefined), { timeoutMs: 30_000 });
    expect(issue).toMatchObject({ substatus: "regressed", regression: { firedIn: "1.2.4", resolution: { inRelease: "next", release: "1.2.3" } } });
    await waitFor(() => (teamsText().includes(REGRESSED) && slackText().includes(REGRESSED) ? true : undefined), { timeoutMs: 30_000 });
    expect(teamsText()).not.toContain("Resolved in");
    expect(slackText()).not.toContain("Resolved in");
  });

  it("and says so in the thread of each channel card that was live", async () => {
    const teamsLines = () =>
      stack.teams
        .messages(team.generalChannelId)
        .filter((m) => m.threadId === teamsCard()!.activityId)
        .map((m) => String(m.activity.text ?? ""));
    const slackLines = () =>
      stack.slack
        .messages(channel)
        .filter((m) => m.threadTs === slackCard()!.ts)
        .map((m) => m.text);
    const regressed = /^Regressed: fired again/;
    await waitFor(() => (teamsLines().some((line) => regressed.test(line)) && slackLines().some((line) => regressed.test(line)) ? true : undefined), {
      timeoutMs: 30_000,
      description: "a Regressed line in both threads",
    });
  }, 60_000);
});
