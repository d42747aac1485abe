// The people a thread line names are read on the platforms the line goes to: with Discord configured, a pass whose
// lines go only to Teams or Slack reads no more of their links than it would without Discord. Against Azurite
// (behind the counting proxy) and the Slack emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../../../shared/domain/issue";
import type { AppContext } from "../../../shared/context";
import { sendSlackCard } from "../../../shared/delivery/slack-sender";
import { CardRepository } from "../../../shared/storage/cards";
import { TABLES } from "../../../shared/storage/clients";
import { IdentityRepository } from "../../../shared/storage/identities";
import { IssueRepository } from "../../../shared/storage/issues";
import { actOnIssue } from "../../../shared/workflows/issue-actions";
import { converseAroundCard } from "../../../shared/workflows/thread-lines";
import { anIssue } from "../../fixtures/issues";
import { startEmulatedApp, type CountedEmulatedApp } from "../../support/emulated-app";
import { installInSlackWorkspace } from "../../support/installations";

const ana: Actor = { person: { email: "ana@contoso.com", name: "Ana Lima" }, label: "Ana Lima", surface: "api" };
const ben: Actor = { person: { email: "ben@contoso.com", name: "Ben Ode" }, label: "Ben Ode", surface: "api" };

let app: CountedEmulatedApp;
let teamId: string;
let channel: string;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "thread-lines-people-reads",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c0d4", tenantId: "72f988bf-0000-4000-8000-000000000024" },
    countRequests: true,
  });
  const workspace = app.slack.addWorkspace({ name: "Contoso" });
  teamId = workspace.teamId;
  await installInSlackWorkspace(app.storage, workspace);
  channel = app.slack.addChannel(teamId, { name: "alerts" }).id;
  // Linked in Slack only. Two people, one per pass: the links one pass read are cached for the other.
  for (const person of [ana.person!, ben.person!]) {
    const slackUser = app.slack.addUser(teamId, { name: person.email.split("@")[0]!, realName: person.name, email: person.email }).id;
    await new IdentityRepository(app.storage).link({
      provider: "slack",
      scope: teamId,
      chatUserId: slackUser,
      person,
      how: "auto",
      linkedAt: new Date().toISOString(),
    });
  }
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Discord configured on the app, as DISCORD_PUBLIC_KEY and its settings make it; no Discord card anywhere. */
function withDiscordConfigured(run: AppContext): AppContext {
  const discord = { applicationId: "1", publicKey: "ab".repeat(32), botToken: "bot-token", allowedGuilds: [], apiUrl: "http://127.0.0.1:9/api/v10" };
  return { ...run, config: { ...run.config, discord } };
}

/** An issue with its card in the Slack channel, resolved by `actor`: what the pass then reads of people, and the thread. */
async function resolveAndConverse(issueId: string, actor: Actor, run: AppContext): Promise<{ identityReads: number; thread: string[] }> {
  const issues = new IssueRepository(app.storage);
  const issue = (await issues.change(issueId, () => ({ issue: anIssue({ id: issueId, version: 1 }), activities: [] })))!.issue;
  const posted = await sendSlackCard(
    { ...app.context(), identities: new IdentityRepository(app.storage) },
    issue,
    { provider: "slack", teamId, channel },
    `slack:${teamId}:${channel}`,
    1,
    {
      deliveryId: `d-${issueId}`,
    },
  );
  if (posted.kind !== "sent") throw new Error(`posting failed: ${JSON.stringify(posted)}`);
  await new CardRepository(app.storage).save(posted.copy);
  await actOnIssue(app.storage, issueId, { type: "resolve" }, actor);
  const resolved = (await issues.get(issueId))!.issue;
  const mark = app.proxy.mark();
  await converseAroundCard(run, resolved, new Date().toISOString());
  const identityReads = app.proxy.countSince(mark, (request) => request.resource === TABLES.identities);
  const card = app.slack.messages(channel).find((m) => JSON.stringify(m.blocks).includes(issueId))!;
  const thread = app.slack
    .messages(channel)
    .filter((m) => m.threadTs === card.ts)
    .map((m) => m.text ?? "");
  return { identityReads, thread };
}

describe("the people a Slack thread line names", () => {
  it("are read on Teams and Slack only, Discord configured or not", async () => {
    const without = await resolveAndConverse("people-reads-1", ana, app.context());
    const withDiscord = await resolveAndConverse("people-reads-2", ben, withDiscordConfigured(app.context()));
    expect(without.thread).toEqual(["Resolved by Ana Lima · via the API"]);
    expect(withDiscord.thread).toEqual(["Resolved by Ben Ode · via the API"]);
    expect(without.identityReads).toBeGreaterThan(0);
    expect(withDiscord.identityReads).toBe(without.identityReads);
  });
});
