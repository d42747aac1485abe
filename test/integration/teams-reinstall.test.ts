// The bot removed from a team (or the app uninstalled, or the team deleted) and then added back (or the team
// restored): every channel it posted in works again, not only General — before, each other channel stayed
// switched off for good while "subscribe" there still answered "Subscribed". A message from a conversation
// also switches it back on (Teams only delivers one where the bot is). The app's workflows run in this process
// against Azurite and the Teams emulator.
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Activity, TeamsChannel, TeamsEmulator, TeamsTeam, TeamsUser } from "../../dev/emulators/teams";
import type { AppContext } from "../../shared/context";
import { conversationFor } from "../../shared/delivery/teams-sender";
import { respondToTeamsActivity } from "../../shared/inbound/teams/respond";
import { readDeliveryMessage } from "../../shared/storage/deliveries";
import { teamsActivitySchema } from "../../shared/teams/activity";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { anAlert } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { drain } from "../support/queues";

let app: EmulatedApp;
let teams: TeamsEmulator;
let ctx: AppContext;

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "teams-reinstall",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000c2a1", tenantId: "72f988bf-0000-4000-8000-000000000c2a" },
  });
  teams = app.teams;
  ctx = app.context();
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Teams posts the activity to the bot: the app handles it as the host would. */
async function fromTeams(activity: Activity): Promise<void> {
  const response = await respondToTeamsActivity(ctx, teamsActivitySchema.parse(activity), new InvocationContext());
  expect(response.status ?? 200).toBe(200);
}

/** A team the bot was added to, with a channel `ops` subscribed to the project (someone @mentioned the bot there). */
async function subscribedTeam(name: string, project: string): Promise<{ team: TeamsTeam; ops: TeamsChannel; ana: TeamsUser }> {
  const ana = teams.addUser({ name: `Ana ${name}`, email: `ana.${name}@contoso.com` });
  const team = teams.addTeam({ name, members: [ana] });
  const ops = teams.addChannel(team, "ops");
  await fromTeams(teams.botAddedToTeam({ team, from: ana }));
  await fromTeams(teams.message({ conversation: ops.id, from: ana, text: `subscribe ${project} error` }));
  expect(botSaid(ops.id)).toContain(`Subscribed: alerts for **${project}**`);
  return { team, ops, ana };
}

const botSaid = (conversationId: string) =>
  teams
    .messages(conversationId)
    .map((m) => String(m.activity.text ?? ""))
    .join("\n");

let alerts = 0;
/** A new issue in the project, taken in and delivered as the queues would: the channels its card reached. */
async function alertReaches(project: string): Promise<string[]> {
  alerts++;
  const alert = anAlert({ alertId: `reinstall-${alerts}`, issue: { id: `reinstall-issue-${alerts}`, project, title: `Boom ${alerts}` } });
  await takeAlert(app.storage, alert, JSON.stringify(alert));
  for (const message of await drain(app.azurite.connectionString, "deliveries")) {
    const read = readDeliveryMessage(message.body);
    if (read.ok) await deliverBatch(ctx, read.batch);
  }
  return teams
    .snapshot()
    .conversations.filter((conversation) => teams.messages(conversation.id).some((m) => JSON.stringify(m.activity).includes(`Boom ${alerts}`)))
    .map((conversation) => conversation.id);
}

/** A team event Teams sends that the emulator has no builder for: the shape of one it has, with its event type. */
function teamEvent(eventType: string, like: Activity): Activity {
  return { ...like, channelData: { ...(like.channelData as Record<string, unknown>), eventType } };
}

async function isActive(conversationId: string): Promise<boolean> {
  const reference = await conversationFor(ctx, { provider: "msteams", conversationId }, 1);
  return !("kind" in reference) && reference.active;
}

describe("a Teams team the bot left and came back to", () => {
  it("removed and added again: the subscribed channel is active again and the project's alerts reach it", async () => {
    const { team, ops, ana } = await subscribedTeam("reinstalled", "checkout");
    expect(await alertReaches("checkout")).toEqual([ops.id]);

    await fromTeams(teams.installationUpdate({ action: "remove", conversation: team.generalChannelId, from: ana }));
    await fromTeams(teams.botRemovedFromTeam({ team, from: ana }));
    expect(await isActive(ops.id)).toBe(false);
    expect(await alertReaches("checkout")).toEqual([]);

    await fromTeams(teams.installationUpdate({ action: "add", conversation: team.generalChannelId, from: ana }));
    await fromTeams(teams.botAddedToTeam({ team, from: ana }));
    expect(await isActive(ops.id)).toBe(true);
    expect(await alertReaches("checkout")).toEqual([ops.id]);
  });

  it("only the app installed again (installationUpdate add, no member event): the channel is active again", async () => {
    const { team, ops, ana } = await subscribedTeam("upgraded", "billing");
    await fromTeams(teams.installationUpdate({ action: "remove", conversation: team.generalChannelId, from: ana }));
    expect(await isActive(ops.id)).toBe(false);

    await fromTeams(teams.installationUpdate({ action: "add", conversation: team.generalChannelId, from: ana }));
    expect(await isActive(ops.id)).toBe(true);
    expect(await alertReaches("billing")).toEqual([ops.id]);
  });

  it("team deleted then restored: its channels are active again, except one deleted before", async () => {
    const { team, ops, ana } = await subscribedTeam("restored", "search");
    const old = teams.addChannel(team, "old");
    await fromTeams(teams.message({ conversation: old.id, from: ana, text: "subscribe search error" }));
    await fromTeams(teamEvent("channelDeleted", teams.channelRenamed({ channel: old, name: "old", from: ana })));
    expect(await isActive(old.id)).toBe(false);

    const renamed = teams.teamRenamed({ team, name: team.name, from: ana });
    await fromTeams(teamEvent("teamDeleted", renamed));
    expect(await isActive(ops.id)).toBe(false);
    expect(await isActive(team.generalChannelId)).toBe(false);

    await fromTeams(teamEvent("teamRestored", renamed));
    expect(await isActive(ops.id)).toBe(true);
    expect(await isActive(team.generalChannelId)).toBe(true);
    expect(await isActive(old.id)).toBe(false);
  });

  it("a channel switched off by a refused post: someone @mentions the bot there, and the channel is active again", async () => {
    const { ops, ana } = await subscribedTeam("mentioned", "payments");
    teams.injectFault({ operation: "send", conversationId: ops.id, status: 403, code: "BotNotInConversationRoster", times: 1 });
    expect(await alertReaches("payments")).toEqual([]);
    expect(await isActive(ops.id)).toBe(false);

    await fromTeams(teams.message({ conversation: ops.id, from: ana, text: "subscriptions" }));
    expect(await isActive(ops.id)).toBe(true);
    expect(await alertReaches("payments")).toEqual([ops.id]);
  });
});
