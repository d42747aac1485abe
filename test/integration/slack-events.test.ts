// What Slack's Events API tells the app about its channels, its people and its installation, and what people then
// notice: the app stops posting where it was removed or the channel was archived or deleted (and starts again when it
// is invited back or the channel is unarchived); an automatic link follows the person's Slack email and ends when
// their account is deactivated; an uninstall that Slack delivers late never switches off a fresh re-install.
// The app's event handler, intake and delivery run in this process against Azurite and the Slack emulator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SlackContext } from "../../shared/context";
import { handleSlackEvent } from "../../shared/inbound/slack/events";
import { identifySlackUser } from "../../shared/inbound/slack/identify";
import { eventEnvelopeSchema } from "../../shared/slack/payloads";
import { DeliveryRepository, readDeliveryMessage } from "../../shared/storage/deliveries";
import { IdentityRepository } from "../../shared/storage/identities";
import { CardRepository, type CardCopy } from "../../shared/storage/cards";
import { postSlackThreadReply } from "../../shared/delivery/slack-sender";
import { conversationKeyOf, subscribe } from "../../shared/storage/subscriptions";
import { SlackInstallations } from "../../shared/storage/slack-installations";
import { takeAlert } from "../../shared/workflows/alert-intake";
import { deliverBatch } from "../../shared/workflows/deliver";
import { anAlert } from "../fixtures/issues";
import { startEmulatedApp, type EmulatedApp } from "../support/emulated-app";
import { installInSlackWorkspace } from "../support/installations";
import { drain } from "../support/queues";

let app: EmulatedApp;
let context: SlackContext;
const logged: string[] = [];

beforeAll(async () => {
  app = await startEmulatedApp({
    name: "slack-events",
    ids: { appId: "6a1d3c2e-0000-4000-8000-00000000e7e1", tenantId: "72f988bf-0000-4000-8000-0000000000e7" },
  });
  context = app.context({ log: (line) => logged.push(line) });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Slack sends the event to the app (the envelope parsed as the events endpoint parses it); the status it answered. */
async function slackSends(teamId: string, event: { type: string; [field: string]: unknown }, options: { eventTime?: number } = {}): Promise<number> {
  const envelope = eventEnvelopeSchema.parse(app.slack.eventCallback({ teamId, event, ...options }));
  return (await handleSlackEvent({ storage: app.storage, log: (line) => logged.push(line) }, envelope)).status;
}

let alerts = 0;

/**
 * An alert for a new issue to the channel (or, `project` given, to whoever subscribed to the project), taken and
 * delivered as the queues would: the delivery's row after.
 */
async function alertTo(teamId: string, channel: string, project?: string) {
  const alertId = `channel-events-${++alerts}`;
  const issue = { id: `channel-events-issue-${alerts}`, ...(project ? { project } : {}) };
  const alert = anAlert({ alertId, issue, ...(project ? {} : { targets: [{ provider: "slack" as const, teamId, channel }] }) });
  await takeAlert(app.storage, alert, JSON.stringify(alert), { deliverer: context });
  for (const message of await drain(app.azurite.connectionString, "deliveries")) {
    const read = readDeliveryMessage(message.body);
    if (read.ok) await deliverBatch(context, read.batch);
  }
  const [row] = await new DeliveryRepository(app.storage).listForAlert(alertId);
  return row;
}

const postsTo = (channel: string) => app.slack.callsTo("chat.postMessage").filter((call) => call.params.channel === channel).length;

async function workspaceWithChannel(name: string) {
  const workspace = app.slack.addWorkspace({ name });
  await installInSlackWorkspace(app.storage, workspace);
  const channel = app.slack.addChannel(workspace.teamId, { name: name.toLowerCase(), botIsMember: true }).id;
  expect(await alertTo(workspace.teamId, channel)).toMatchObject({ state: "sent" });
  return { ...workspace, channel, issueId: `channel-events-issue-${alerts}` };
}

/** The channel gets no card (dead, no chat.postMessage) until the app is invited back; then cards go again. */
async function expectStoppedUntilInvitedBack(teamId: string, botUserId: string, channel: string) {
  const before = postsTo(channel);
  expect(await alertTo(teamId, channel)).toMatchObject({ state: "dead", reason: expect.stringMatching(/removed from the channel/) });
  expect(postsTo(channel)).toBe(before);

  expect(await slackSends(teamId, { type: "member_joined_channel", user: botUserId, channel, channel_type: "C", team: teamId })).toBe(200);
  expect(await alertTo(teamId, channel)).toMatchObject({ state: "sent" });
  expect(postsTo(channel)).toBe(before + 1);
}

describe("Slack channel events", () => {
  it("the app removed from a public channel posts no more cards there, without asking Slack; invited back, cards flow again", async () => {
    const { teamId, botUserId, channel } = await workspaceWithChannel("Removed");
    expect(await slackSends(teamId, { type: "channel_left", channel, actor_id: "U0SOMEONE" })).toBe(200);

    await expectStoppedUntilInvitedBack(teamId, botUserId, channel);
  });

  it("the app removed from a channel posts no release notice there either", async () => {
    const { teamId, channel } = await workspaceWithChannel("Released");
    await subscribe(app.storage, {
      conversationKey: `slack:${teamId}:${channel}`,
      project: "released",
      minLevel: "fatal",
      target: { provider: "slack", teamId, channel },
    });
    expect(await slackSends(teamId, { type: "channel_left", channel, actor_id: "U0SOMEONE" })).toBe(200);

    const before = postsTo(channel);
    const release = { schemaVersion: 1, kind: "release", release: { project: "released", version: "4.0.0" } };
    expect(await takeAlert(app.storage, release, JSON.stringify(release), { deliverer: context })).toMatchObject({
      kind: "release",
      sent: 0,
      dead: 1,
    });
    expect(postsTo(channel)).toBe(before);
  });

  it("the app removed from a channel posts no thread lines under its earlier cards there", async () => {
    const { teamId, channel, issueId } = await workspaceWithChannel("Threads");
    const [copy] = await new CardRepository(app.storage).list(issueId);
    expect(await slackSends(teamId, { type: "channel_left", channel })).toBe(200);
    const before = postsTo(channel);
    const line = await postSlackThreadReply(
      context,
      copy as Extract<CardCopy, { provider: "slack" }>,
      { text: "Ana resolved it", replyBroadcast: false },
      1,
    );
    expect(line).toMatchObject({ kind: "dead", reason: expect.stringMatching(/removed from the channel/) });
    expect(postsTo(channel)).toBe(before);
  });

  it("member_left_channel of the app's own user stops the cards too; someone else leaving changes nothing", async () => {
    const { teamId, botUserId, channel } = await workspaceWithChannel("Members");
    expect(await slackSends(teamId, { type: "member_left_channel", user: "U0SOMEONE1", channel, channel_type: "C", team: teamId })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "sent" });

    expect(await slackSends(teamId, { type: "member_left_channel", user: botUserId, channel, channel_type: "C", team: teamId })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "dead" });
    // Someone else joining doesn't bring the app back.
    expect(await slackSends(teamId, { type: "member_joined_channel", user: "U0SOMEONE1", channel, channel_type: "C", team: teamId })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "dead" });
  });

  it("a subscribed channel, archived, gets no chat.postMessage; unarchived, its subscription posts again", async () => {
    const { teamId, channel } = await workspaceWithChannel("Archived");
    const target = { provider: "slack" as const, teamId, channel };
    await subscribe(app.storage, { conversationKey: conversationKeyOf(target), project: "archived-project", minLevel: "info", target });
    expect(await alertTo(teamId, channel, "archived-project")).toMatchObject({ state: "sent" });

    expect(await slackSends(teamId, { type: "channel_archive", channel, user: "U0SOMEONE1" })).toBe(200);
    const before = postsTo(channel);
    expect(await alertTo(teamId, channel, "archived-project")).toMatchObject({ state: "dead", reason: expect.stringMatching(/archived/) });
    expect(postsTo(channel)).toBe(before);

    expect(await slackSends(teamId, { type: "channel_unarchive", channel, user: "U0SOMEONE1" })).toBe(200);
    expect(await alertTo(teamId, channel, "archived-project")).toMatchObject({ state: "sent" });
    expect(postsTo(channel)).toBe(before + 1);
  });

  it("a private channel archived (group_archive) or a deleted channel gets no chat.postMessage", async () => {
    const { teamId, channel } = await workspaceWithChannel("Private");
    expect(await slackSends(teamId, { type: "group_archive", channel })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "dead", reason: expect.stringMatching(/archived/) });
    expect(await slackSends(teamId, { type: "group_unarchive", channel })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "sent" });

    const deleted = app.slack.addChannel(teamId, { name: "deleted", botIsMember: true }).id;
    expect(await slackSends(teamId, { type: "channel_deleted", channel: deleted })).toBe(200);
    expect(await alertTo(teamId, deleted)).toMatchObject({ state: "dead", reason: expect.stringMatching(/deleted/) });
    expect(postsTo(deleted)).toBe(0);
  });

  it("a channel the app was removed from, then archived and unarchived, stays without cards until the app is invited back", async () => {
    const { teamId, botUserId, channel } = await workspaceWithChannel("RemovedArchived");
    const now = Math.floor(Date.now() / 1000);
    expect(await slackSends(teamId, { type: "channel_left", channel, actor_id: "U0SOMEONE" }, { eventTime: now - 3 })).toBe(200);
    expect(await slackSends(teamId, { type: "channel_archive", channel, user: "U0SOMEONE1" }, { eventTime: now - 2 })).toBe(200);
    expect(await slackSends(teamId, { type: "channel_unarchive", channel, user: "U0SOMEONE1" }, { eventTime: now - 1 })).toBe(200);

    await expectStoppedUntilInvitedBack(teamId, botUserId, channel);
  });

  it("an event Slack delivers late changes nothing a newer one said: an unarchive retried after the next archive", async () => {
    const { teamId, channel } = await workspaceWithChannel("Late");
    const now = Math.floor(Date.now() / 1000);
    expect(await slackSends(teamId, { type: "channel_archive", channel }, { eventTime: now })).toBe(200);
    expect(await slackSends(teamId, { type: "channel_unarchive", channel }, { eventTime: now - 60 })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "dead", reason: expect.stringMatching(/archived/) });
  });

  it("an event of a known type but an unexpected shape is answered 200 and changes nothing", async () => {
    const { teamId, channel } = await workspaceWithChannel("Odd");
    expect(await slackSends(teamId, { type: "channel_archive", channel: { id: channel } })).toBe(200);
    expect(await slackSends(teamId, { type: "member_joined_channel" })).toBe(200);
    expect(await slackSends(teamId, { type: "user_change", user: "U0NOTANOBJECT" })).toBe(200);
    const oddUser = { id: "U0ODDUSER1", deleted: false, is_email_confirmed: true, profile: { email: 42 }, enterprise_user: { teams: "T0" } };
    expect(await slackSends(teamId, { type: "user_change", user: oddUser })).toBe(200);
    expect(await alertTo(teamId, channel)).toMatchObject({ state: "sent" });
  });
});

describe("Slack user changes", () => {
  const identities = () => new IdentityRepository(app.storage);
  const identify = (teamId: string, userId: string) =>
    identifySlackUser({ ...context, identities: identities(), config: { ...context.config, autoLink: true } }, teamId, userId, "Ana");

  /** A user_change as Slack sends it: the user's whole object, with the email Slack confirmed for them. */
  const userChange = (teamId: string, userId: string, user: { email?: string; confirmed?: boolean; deleted?: boolean }) => ({
    type: "user_change",
    user: {
      id: userId,
      team_id: teamId,
      name: "ana",
      real_name: "Ana Souza",
      deleted: user.deleted ?? false,
      is_bot: false,
      is_app_user: false,
      is_email_confirmed: user.confirmed ?? true,
      profile: { real_name: "Ana Souza", display_name: "ana", ...(user.email ? { email: user.email } : {}) },
    },
    cache_ts: Math.floor(Date.now() / 1000),
  });

  /** Slack's clock, in seconds, `seconds` after now: a change made after the link (Slack's times are whole seconds here). */
  const secondsFromNow = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;
  /** Slack tells the app of a change that happened a minute after the link was made, unless told when. */
  const slackTells = (teamId: string, event: { type: string; [field: string]: unknown }, eventTime = secondsFromNow(60)) =>
    slackSends(teamId, event, { eventTime });

  async function autoLinked(name: string) {
    const workspace = app.slack.addWorkspace({ name });
    await installInSlackWorkspace(app.storage, workspace);
    const user = app.slack.addUser(workspace.teamId, { name: "ana", email: "ana.lima@contoso.com", emailVerified: true });
    expect((await identify(workspace.teamId, user.id)).person).toMatchObject({ email: "ana.lima@contoso.com" });
    expect(await identities().get("slack", workspace.teamId, user.id)).toMatchObject({ how: "auto" });
    return { teamId: workspace.teamId, userId: user.id };
  }

  it("an automatic link follows the person's new confirmed email", async () => {
    const { teamId, userId } = await autoLinked("Renamed");
    expect(await slackTells(teamId, userChange(teamId, userId, { email: "Ana.Souza@contoso.com" }))).toBe(200);
    expect((await identify(teamId, userId)).person).toMatchObject({ email: "ana.souza@contoso.com" });
    expect(await identities().findByEmail("ana.lima@contoso.com", "slack")).toEqual([]);
  });

  it("the same change told twice (user_change and user_profile_changed) is the same link", async () => {
    const { teamId, userId } = await autoLinked("Twice");
    const change = userChange(teamId, userId, { email: "ana.souza@contoso.com" });
    expect(await slackTells(teamId, change)).toBe(200);
    expect(await slackTells(teamId, { ...change, type: "user_profile_changed" })).toBe(200);
    expect(await identities().get("slack", teamId, userId)).toMatchObject({ how: "auto", person: { email: "ana.souza@contoso.com" } });
  });

  it("a deactivated account, or an email Slack no longer confirms, ends the automatic link", async () => {
    const deactivated = await autoLinked("Deactivated");
    expect(await slackTells(deactivated.teamId, userChange(deactivated.teamId, deactivated.userId, { deleted: true }))).toBe(200);
    expect(await identities().get("slack", deactivated.teamId, deactivated.userId)).toBeUndefined();
    expect(await identities().findByEmail("ana.lima@contoso.com", "slack")).toEqual([]);

    const unconfirmed = await autoLinked("Unconfirmed");
    const change = userChange(unconfirmed.teamId, unconfirmed.userId, { email: "ana.souza@contoso.com", confirmed: false });
    expect(await slackTells(unconfirmed.teamId, change)).toBe(200);
    expect(await identities().get("slack", unconfirmed.teamId, unconfirmed.userId)).toBeUndefined();
  });

  it("a change Slack tells late, after a newer one, leaves the link where the newer one moved it", async () => {
    const { teamId, userId } = await autoLinked("Late change");
    expect(await slackTells(teamId, userChange(teamId, userId, { email: "ana.souza@contoso.com" }), secondsFromNow(120))).toBe(200);
    // Slack's retry of a change made a minute before (its first delivery failed).
    expect(await slackTells(teamId, userChange(teamId, userId, { email: "ana.old@contoso.com" }), secondsFromNow(60))).toBe(200);
    expect((await identify(teamId, userId)).person).toMatchObject({ email: "ana.souza@contoso.com" });
    expect(await identities().findByEmail("ana.old@contoso.com", "slack")).toEqual([]);
  });

  it("a change from before the link was made changes nothing", async () => {
    const { teamId, userId } = await autoLinked("Before link");
    expect(await slackTells(teamId, userChange(teamId, userId, { email: "ana.old@contoso.com" }), secondsFromNow(-60))).toBe(200);
    expect(await slackTells(teamId, userChange(teamId, userId, { deleted: true }), secondsFromNow(-60))).toBe(200);
    expect(await identities().get("slack", teamId, userId)).toMatchObject({ how: "auto", person: { email: "ana.lima@contoso.com" } });
  });

  it("a link the person made themselves is left as it is", async () => {
    const workspace = app.slack.addWorkspace({ name: "Explicit" });
    await installInSlackWorkspace(app.storage, workspace);
    const linkedAt = new Date().toISOString();
    await identities().link({
      provider: "slack",
      scope: workspace.teamId,
      chatUserId: "U0EXPLICIT",
      person: { email: "ana@contoso.com" },
      how: "explicit",
      linkedAt,
    });
    expect(await slackTells(workspace.teamId, userChange(workspace.teamId, "U0EXPLICIT", { email: "other@contoso.com" }))).toBe(200);
    expect(await slackTells(workspace.teamId, userChange(workspace.teamId, "U0EXPLICIT", { deleted: true }))).toBe(200);
    expect(await identities().get("slack", workspace.teamId, "U0EXPLICIT")).toMatchObject({ how: "explicit", person: { email: "ana@contoso.com" } });
  });

  it("a change that doesn't say whether the email is confirmed leaves the link as it is", async () => {
    const { teamId, userId } = await autoLinked("Partial");
    const change = userChange(teamId, userId, { email: "ana.souza@contoso.com" });
    delete (change.user as { is_email_confirmed?: boolean }).is_email_confirmed;
    expect(await slackTells(teamId, change)).toBe(200);
    expect(await identities().get("slack", teamId, userId)).toMatchObject({ how: "auto", person: { email: "ana.lima@contoso.com" } });
  });
});

describe("a Slack uninstall delivered late", () => {
  it("an app_uninstalled or tokens_revoked from before the latest install leaves the installation on", async () => {
    const workspace = app.slack.addWorkspace({ name: "Reinstalled" });
    await installInSlackWorkspace(app.storage, workspace);
    const installedAt = Date.parse((await new SlackInstallations(app.storage).get(workspace.teamId))!.updatedAt);
    const before = Math.floor(installedAt / 1000) - 90;
    expect(await slackSends(workspace.teamId, { type: "app_uninstalled" }, { eventTime: before })).toBe(200);
    expect(await slackSends(workspace.teamId, { type: "tokens_revoked", tokens: { bot: ["B0123"] } }, { eventTime: before })).toBe(200);
    expect(await new SlackInstallations(app.storage).get(workspace.teamId)).toMatchObject({ active: true });
  });

  it("an uninstall after the install still switches it off", async () => {
    const workspace = app.slack.addWorkspace({ name: "Uninstalled" });
    await installInSlackWorkspace(app.storage, workspace);
    expect(await slackSends(workspace.teamId, { type: "app_uninstalled" }, { eventTime: Math.floor(Date.now() / 1000) + 1 })).toBe(200);
    expect(await new SlackInstallations(app.storage).get(workspace.teamId)).toMatchObject({ active: false, inactiveReason: "app uninstalled" });
  });
});
